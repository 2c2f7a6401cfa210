/**
 * @module The CLI reference (docs/cli.md), generated from the commands themselves: each
 * command's own `--help` text, depth-first, so the reference cannot drift from the code.
 * `npm run docs:cli` rewrites the file; a test fails when it is stale.
 */
import type { Command } from "commander";
import { commandPath, fullProgram } from "./program.js";

function* walk(c: Command): Generator<Command> {
  yield c;
  for (const sub of c.commands) yield* walk(sub);
}

/** docs/cli.md's text. */
export async function cliReference(): Promise<string> {
  const program = await fullProgram();
  const out = [
    "# `wk` command reference",
    "",
    "Generated from the commands by `npm run docs:cli`; do not edit by hand. Exit codes: 0 ok, 1 a check",
    "failed or bad input, 2 usage; `wk analyze`, a CI gate, exits 1 for warnings, 2 for a critical finding and",
    "3 when it cannot analyze its input (docs/analysis.md). With `--json`, results and errors are JSON on stdout",
    '(`{"ok": false, "code", "message", "hint"}` for an error); otherwise errors are',
    "`error: <code>: <message>` and a `hint:` line on stderr.",
    "",
  ];
  for (const c of walk(program)) {
    c.configureHelp({ helpWidth: 110 }); // not the terminal's: the file must not depend on who generated it
    if (c === program) {
      out.push("## `wk`", "", "```text", c.helpInformation().trimEnd(), "```", "");
      continue;
    }
    out.push(`## \`${commandPath(c)}\``, "", "```text", c.helpInformation().trimEnd(), "```", "");
  }
  return out.join("\n");
}
