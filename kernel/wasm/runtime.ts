/**
 * @module The `ModuleRuntime` port: what the kernel needs from a WASM runtime, and
 * `loadModule`, which picks the Extism or the component runtime by the binary's header.
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

/** Runtime kind from the header: core modules are version 1 layer 0, components layer 1. */
export function detectRuntimeKind(wasm: Uint8Array): "extism" | "component" {
  const magic = wasm.length >= 8 && wasm[0] === 0x00 && wasm[1] === 0x61 && wasm[2] === 0x73 && wasm[3] === 0x6d;
  // Bytes 6..7 are the layer: 0 for core modules, 1 for components (whose version is 0x0d).
  if (magic && wasm[6] === 0x01 && wasm[7] === 0x00) return "component";
  return "extism";
}

/** Loads `spec.wasm` with the runtime its header calls for. */
export async function loadModule(spec: LoadSpec): Promise<LoadedModule> {
  if (detectRuntimeKind(spec.wasm) === "component") {
    const { componentRuntime } = await import("./component-runtime.js");
    return componentRuntime.load(spec);
  }
  const { extismRuntime } = await import("./extism-runtime.js");
  return extismRuntime.load(spec);
}
