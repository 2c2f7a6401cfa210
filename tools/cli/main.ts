#!/usr/bin/env node
/**
 * @module The `wk` command line: runs the program (program.ts) on the arguments and ends
 * every failure the same way — exit code 2 for usage, 1 for a failed check or bad input, and
 * one error format (io.ts).
 */
import { CommanderError } from "commander";
import { programFor } from "./program.js";
import { CliExit, EXIT, printJson, reportError } from "./io.js";

// A reader that stops early (`wk log --json | head`) closes the pipe: that is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

/** `commander.unknownOption` → `cli.unknown_option`. */
function commanderCode(code: string): string {
  return `cli.${code.replace(/^commander\./, "").replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** Runs `wk` with `argv` (the words after `wk`); sets the exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  const json = argv.includes("--json");
  try {
    const program = await programFor(argv);
    await program.parseAsync([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander already printed its message (and the help) to stderr; JSON readers get the record too.
      process.exitCode = e.exitCode === 0 ? EXIT.ok : EXIT.usage;
      if (json && e.exitCode !== 0) printJson({ ok: false, code: commanderCode(e.code), message: e.message.replace(/^error: /, "") });
    } else if (e instanceof CliExit) {
      process.exitCode = e.exitCode;
      if (e.message) reportError(e, json);
    } else {
      process.exitCode = EXIT.check_failed;
      reportError(e, json);
    }
  }
}

await main(process.argv.slice(2));
