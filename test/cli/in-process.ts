/**
 * @module Runs `wk` commands in this process (their own registration on a commander program,
 * stdout captured): the exit code the command would end with, what it printed, and its error
 * record. For CLI tests where a subprocess adds nothing but start-up time.
 */
import { Command } from "commander";
import { vi } from "vitest";
import { CliExit } from "../../tools/cli/io.js";

/** What an in-process `wk` run ended with. */
export interface InProcessRun {
  exit: number;
  stdout: string;
  error?: Record<string, unknown>;
}

/** A `wk` runner over the command groups `register` adds (e.g. `registerAnalyze`, `registerJournal`). */
export function inProcessWk(...register: ((program: Command) => void)[]): (...args: string[]) => Promise<InProcessRun> {
  return async (...args) => {
    const program = new Command("wk").exitOverride();
    for (const r of register) r(program);
    let stdout = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      stdout += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
      return true;
    });
    try {
      await program.parseAsync(args, { from: "user" });
      return { exit: 0, stdout };
    } catch (e) {
      if (!(e instanceof CliExit)) throw e;
      return { exit: e.exitCode, stdout, error: e.toJSON() };
    } finally {
      spy.mockRestore();
    }
  };
}
