/**
 * @module `loadModule`, which picks the Extism or the component runtime by the binary's header.
 * The `ModuleRuntime` port's types live in `module-runtime.ts` (re-exported here).
 */

import type { LoadSpec, LoadedModule } from "./module-runtime.js";

export type {
  CallResult,
  HostFunction,
  LoadSpec,
  LoadedModule,
  ModuleFaultCode,
  ModuleLimits,
  ModuleRuntime,
} from "./module-runtime.js";

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
