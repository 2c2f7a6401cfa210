/**
 * @module Runs an external compiler (clang, zig) with a timeout and captured output;
 * a missing binary is a typed `compile.toolchain_missing` error, not a diagnostic.
 */
import { spawn } from "node:child_process";
import { CompileError } from "./errors.js";

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` in `cwd`; rejects only when the binary cannot be started. */
export function run(cmd: string, args: string[], opts: { cwd: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<ProcessResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"], timeout: opts.timeoutMs ?? 120_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") reject(new CompileError("compile.toolchain_missing", `${cmd} is not installed (${e.message})`, { tool: cmd }));
      else reject(e);
    });
    child.on("close", (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** Splits compiler output into non-empty diagnostic lines, with temp paths replaced. */
export function diagnosticLines(text: string, replace: [string, string][]): string[] {
  let t = text;
  for (const [from, to] of replace) t = t.split(from).join(to);
  return t.split("\n").map((l) => l.trimEnd()).filter((l) => l !== "");
}
