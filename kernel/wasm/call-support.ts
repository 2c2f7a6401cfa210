/**
 * @module Small pieces both runtimes share: the first instantiation, building failure
 * results and classifying traps (so a fault reads the same whatever the runtime), running
 * host functions, the fixed fuel price of a host call, and serializing calls on one instance
 * (a module instance is single-threaded state; two overlapping calls must not see each
 * other's fuel).
 */
import { ModuleLoadError } from "./errors.js";
import { STACK_FLAG } from "./meter-body.js";
import type { CallResult, ModuleFaultCode } from "./module-runtime.js";

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

/** The message of anything thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The first instantiation, at load: a start function that traps fails the load as `module.invalid_wasm`. */
export async function firstInstance<T>(name: string, instantiate: () => Promise<T>): Promise<T> {
  try {
    return await instantiate();
  } catch (e) {
    throw new ModuleLoadError("module.invalid_wasm", name, `instantiation failed: ${messageOf(e)}`, { cause: e });
  }
}

/** The result of a call whose instance could not be re-instantiated (a host failure, e.g. out of memory). */
export function reinstantiationFailed(name: string, e: unknown): CallResult {
  return faultResult("module.trap", `${name}: re-instantiation failed: ${messageOf(e)}`, 0);
}

/** Runs a granted host function; a throw is recorded as the call's fault (naming the host call) and rethrown. */
export function runHostFunction(
  name: string,
  fn: (input: Uint8Array) => Uint8Array,
  input: Uint8Array,
  record: (f: Fault) => void,
): Uint8Array {
  try {
    return fn(input);
  } catch (e) {
    record({ code: "module.trap", message: `host call ${name} failed: ${messageOf(e)}` });
    throw e;
  }
}

/** What a trapped call left behind, read by `classifyTrap`. */
export interface TrapEvidence {
  /** The out-of-memory flag of each core instance (1: memory ceiling, STACK_FLAG: stack budget). */
  oomFlags: readonly number[];
  outOfFuel: boolean;
  /** A fault a host call or host-side allocation recorded. */
  fault: Fault | undefined;
  error: unknown;
}

/**
 * The typed failure of a trapped call, the same in every runtime, checked in a fixed
 * order: stack budget, memory ceiling, fuel, a recorded host-side fault, else a plain trap.
 */
export function classifyTrap(
  name: string,
  limits: { memoryPages: number; fuelPerStep: number },
  t: TrapEvidence,
  fuelUsed: number,
): CallResult {
  if (t.oomFlags.includes(STACK_FLAG))
    return faultResult("module.trap", `${name}: call depth exceeds the deterministic stack budget`, fuelUsed);
  if (t.oomFlags.includes(1))
    return faultResult(
      "module.out_of_memory",
      `${name}: memory.grow beyond the ceiling of ${limits.memoryPages} pages`,
      fuelUsed,
    );
  if (t.outOfFuel) return faultResult("module.out_of_fuel", `${name}: exhausted ${limits.fuelPerStep} fuel`, fuelUsed);
  if (t.fault) return faultResult(t.fault.code, `${name}: ${t.fault.message}`, fuelUsed);
  return faultResult("module.trap", `${name}: ${messageOf(t.error)}`, fuelUsed);
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
