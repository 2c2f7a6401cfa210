/**
 * @module Small pieces both runtimes share: building failure results, the fixed fuel
 * price of a host call, and serializing calls on one instance (a module instance is
 * single-threaded state; two overlapping calls must not see each other's fuel).
 */
import type { CallResult, ModuleFaultCode } from "./runtime.js";

/** Fuel charged per host call on top of one unit per byte in and out. */
export const HOST_CALL_FUEL = 1000;

/** A failure noticed on the host side during a call. */
export interface Fault {
  code: ModuleFaultCode;
  message: string;
}

/** A failed `CallResult`. */
export function faultResult(code: ModuleFaultCode, message: string, fuelUsed: number): CallResult {
  return { ok: false, error: { code, message }, fuelUsed };
}

/** Runs `fn` after everything queued before it on `queue`, whatever their outcome. */
export function runSerialized<T>(queue: { tail: Promise<unknown> }, fn: () => Promise<T>): Promise<T> {
  const run = queue.tail.then(fn, fn);
  queue.tail = run.catch(() => undefined);
  return run;
}

/**
 * `bytes` itself when it spans its whole ArrayBuffer, else a copy that does. Extism's
 * store (plugin.call input, CallContext.store) takes `input.buffer` whole, ignoring the
 * view's offset and length, so a view into a larger buffer (a slab-carved encode result,
 * a subarray) would hand the module the wrong bytes.
 */
export function ownBuffer(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}
