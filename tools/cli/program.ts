/**
 * @module The `wk` program: the root command, and which command groups it loads. `wk --help`
 * lists the commands from `COMMAND_GROUPS` alone and `wk <command>` imports just the group
 * that defines it, because loading every group costs ~200 ms of imports (zod, the kernel,
 * WASM runtimes) — more than Node's own start-up.
 */
import { Command } from "commander";
import { ownManifest } from "../../kernel/packages.js";
import { COMMAND_GROUPS, groupOf } from "./commands/groups.js";

function baseProgram(): Command {
  return (
    new Command("wk")
      .description("worldkernel: event-sourced, replayable, signed agent worlds")
      .version(ownManifest().version, "-V, --version", "print the worldkernel version")
      .exitOverride()
      // Usage errors are reported by main.ts in the one error format (code, message, hint), not by commander.
      .configureOutput({ outputError: () => undefined })
  );
}

/** The `wk` program with every command group registered (what the CLI reference documents). */
export async function fullProgram(): Promise<Command> {
  const program = baseProgram();
  for (const g of COMMAND_GROUPS) await g.load(program);
  return program;
}

/** The program for `argv`: the group that owns its command, or a listing of every command. */
export async function programFor(argv: readonly string[]): Promise<Command> {
  const program = baseProgram();
  const words = argv.filter((a) => !a.startsWith("-"));
  const name = words[0] === "help" ? words[1] : words[0];
  const group = name === undefined ? undefined : groupOf(name);
  if (group) {
    await group.load(program);
    return program;
  }
  // No known command: list them all (for --help, or commander's "unknown command" with a suggestion).
  for (const g of COMMAND_GROUPS)
    for (const [cmd, summary] of Object.entries(g.commands)) program.command(cmd).description(summary);
  return program;
}

/** A command's full name as typed (`wk air check`). */
export function commandPath(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x; x = x.parent) names.unshift(x.name());
  return names.join(" ");
}
