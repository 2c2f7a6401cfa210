/**
 * @module The `ModuleRuntime` port's types: what the kernel needs from a WASM runtime. A leaf
 * (it imports nothing), so the runtimes that implement the port and `runtime.ts`, which loads
 * them lazily, both depend on it and not on each other.
 */

/** A host call granted to a module: synchronous, deterministic and read-only. */
export interface HostFunction {
  name: string;
  capability: string;
  call(input: Uint8Array): Uint8Array;
}

/** Per-module ceilings; breaching one fails the call, never the kernel. */
export interface ModuleLimits {
  memoryPages: number;
  fuelPerStep: number;
  maxOutputBytes: number;
}

/** Everything needed to load one module. */
export interface LoadSpec {
  /** Module Name, e.g. `demo/Counter@1`, for error messages. */
  name: string;
  /** The module bytes (from the CAS). */
  wasm: Uint8Array;
  /** `sha256:<hex>` of `wasm`; keys the in-process caches of instrumented code. */
  wasmHash: string;
  /** The exported function to call. */
  entry: "step" | "run";
  /** Exactly the granted host calls. */
  hostFunctions: HostFunction[];
  limits: ModuleLimits;
}

/** Why a call failed. */
export type ModuleFaultCode =
  "module.trap" | "module.out_of_fuel" | "module.out_of_memory" | "module.output_too_large" | "module.no_output";

/** Outcome of one call: never thrown, always returned. */
export type CallResult =
  | { ok: true; output: Uint8Array; fuelUsed: number }
  | { ok: false; error: { code: ModuleFaultCode; message: string }; fuelUsed: number };

/** A loaded module; stays callable after a failed call. */
export interface LoadedModule {
  call(input: Uint8Array): Promise<CallResult>;
  close(): Promise<void>;
}

/** One runtime behind the port. */
export interface ModuleRuntime {
  readonly kind: "extism" | "component";
  load(spec: LoadSpec): Promise<LoadedModule>;
}
