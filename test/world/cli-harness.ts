/**
 * @module Running `wk` from world tests as a user would: a child process per command, exit
 * code and output captured; `ok` expects exit 0 and parses the JSON it printed.
 */
import { spawn, spawnSync } from "node:child_process";
import { join } from "node:path";
import { expect } from "vitest";

export const ROOT = new URL("../../", import.meta.url).pathname;
/** The arguments to `node` that run `wk`: the package's bin over dist/ (built by test/global-setup.ts). */
export const WK = [join(ROOT, "bin/wk.js")];

/** What a `wk` run left: exit code and output. */
export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `wk` and waits (blocks the event loop: not for worlds that talk to an in-process server). */
export const wk = (...args: string[]): Run => spawnSync(process.execPath, [...WK, ...args], { encoding: "utf8" });

/** Runs `wk` without blocking the event loop. */
export function wkAsync(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...WK, ...args]);
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    p.on("error", reject);
    p.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** Runs `wk … --json`, expects exit 0, returns the parsed output. */
export function ok<T = Record<string, unknown>>(...args: string[]): T {
  const r = wk(...args);
  expect(r.status, `wk ${args.join(" ")}\n${r.stderr}${r.stdout}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** The JSON a run printed, after expecting it exited 0 (for `json(wk(…))`). */
export function json<T = Record<string, unknown>>(r: Run): T {
  expect(r.status, r.stderr + r.stdout).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** `ok` without blocking the event loop (for worlds that talk to an in-process server). */
export async function okAsync<T = Record<string, unknown>>(...args: string[]): Promise<T> {
  const r = await wkAsync(...args);
  expect(r.status, `wk ${args.join(" ")}\n${r.stderr}${r.stdout}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}
