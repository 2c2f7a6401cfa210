/**
 * @module Shared CLI plumbing: exit codes (0 ok, 1 a check failed or bad input, 2 usage),
 * JSON or human output, and typed errors rendered with their code and place.
 */
import { resolve } from "node:path";

/** Exit codes every `wk` command uses. */
export const EXIT = { ok: 0, check_failed: 1, usage: 2 } as const;

/** Thrown by command handlers to end with a given exit code and message. */
export class CliExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** The world directory from `--world`, defaulting to `./.wk/world`. */
export function worldDir(opt: string | undefined): string {
  return resolve(opt ?? ".wk/world");
}

/** Writes JSON (bigints as strings, bytes as hex) followed by a newline. */
export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, jsonReplacer, 2) + "\n");
}

/** JSON replacer for kernel values: bigint → string, bytes → hex, Map → entries. */
export function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (v instanceof Map) return [...v.entries()];
  return v;
}

/** Renders any thrown value as `code: message` for the terminal. */
export function describeError(e: unknown): string {
  if (e && typeof e === "object" && "code" in e && typeof (e as { code: unknown }).code === "string") {
    return `${(e as { code: string }).code}: ${(e as unknown as Error).message}`;
  }
  return e instanceof Error ? e.message : String(e);
}
