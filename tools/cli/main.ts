#!/usr/bin/env node
/**
 * @module The `wk` command line: runs the program (program.ts) on the arguments and ends
 * every failure the same way — exit code 2 for usage, 1 for a failed check or bad input, and
 * one error format (io.ts), commander's own usage errors included.
 */
import { CommanderError, type Command } from "commander";
import { commandPath, programFor } from "./program.js";
import { CliExit, EXIT, reportError } from "./io.js";

// A reader that stops early (`wk log --json | head`) closes the pipe: that is not an error.
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

/** `commander.unknownOption` → `cli.unknown_option`. */
function commanderCode(code: string): string {
  return `cli.${code.replace(/^commander\./, "").replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}`;
}

/** The command `argv` names (`wk air check …` → `air check`), as far as the words go. */
function commandOf(program: Command, argv: readonly string[]): Command {
  let c = program;
  for (const word of argv) {
    if (word.startsWith("-")) continue;
    const sub = c.commands.find((s) => s.name() === word || s.aliases().includes(word));
    if (sub === undefined) break;
    c = sub;
  }
  return c;
}

/** A commander usage error (exit code ≠ 0) as a CliExit in the one format. */
function usageError(e: CommanderError, cmd: Command): CliExit {
  const path = commandPath(cmd);
  const hint = `see \`${path} --help\``;
  // A command group run without one of its commands: commander has printed the group's help.
  if (e.code === "commander.help") {
    const names = cmd.parent ? `: ${cmd.commands.map((c) => c.name()).join(", ")}` : "";
    return new CliExit(EXIT.usage, `\`${path}\` needs a command${names}`, { code: "cli.missing_command", hint });
  }
  return new CliExit(EXIT.usage, e.message.replace(/^error: /, ""), { code: commanderCode(e.code), hint });
}

/** Runs `wk` with `argv` (the words after `wk`); sets the exit code. */
export async function main(argv: readonly string[]): Promise<void> {
  const json = argv.includes("--json");
  let program: Command | undefined;
  try {
    program = await programFor(argv);
    await program.parseAsync([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with exit code 0; commander prints no error itself (program.ts).
      if (e.exitCode === 0) process.exitCode = EXIT.ok;
      else {
        process.exitCode = EXIT.usage;
        reportError(usageError(e, commandOf(program!, argv)), json);
      }
    } else if (e instanceof CliExit) {
      process.exitCode = e.exitCode;
      // A usage error names the command whose --help explains it.
      const err =
        e.exitCode === EXIT.usage && e.hint === undefined && program
          ? new CliExit(e.exitCode, e.message, {
              code: e.code,
              hint: `see \`${commandPath(commandOf(program, argv))} --help\``,
            })
          : e;
      if (e.message) reportError(err, json);
    } else {
      process.exitCode = EXIT.check_failed;
      reportError(e, json);
    }
  }
}

await main(process.argv.slice(2));
