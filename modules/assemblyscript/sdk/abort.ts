/**
 * @module Abort handler for worldkernel AssemblyScript modules (wired with
 * `--use abort=<this file>/wkAbort`): reports the message through Extism's error_set,
 * then traps, so the host sees a failed step instead of a missing `env.abort` import.
 */
import { Memory } from "@extism/as-pdk";

@external("extism:host/env", "error_set")
declare function error_set(offs: u64): void;

/** Replaces AssemblyScript's default `env.abort` import. */
export function wkAbort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  const text = (message === null ? "abort" : message) + " at " + (fileName === null ? "?" : fileName) + ":" + line.toString() + ":" + column.toString();
  error_set(Memory.allocateString(text).offset);
  unreachable();
}
