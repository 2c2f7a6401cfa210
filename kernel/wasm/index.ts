/**
 * @module Public surface of the WASM runtimes: the `ModuleRuntime` port and its two
 * implementations (Extism plugins, WebAssembly components), the host-call catalog,
 * typed load errors and the optional on-disk artifact cache. Named re-exports only.
 */
export { loadModule, detectRuntimeKind } from "./runtime.js";
export type {
  CallResult,
  HostFunction,
  LoadSpec,
  LoadedModule,
  ModuleFaultCode,
  ModuleLimits,
  ModuleRuntime,
} from "./runtime.js";
export { extismRuntime } from "./extism-runtime.js";
export { componentRuntime } from "./component-runtime.js";
export { HOST_CALLS, capabilityFor } from "./host-calls.js";
export { ModuleLinkError, ModuleLoadError } from "./errors.js";
export type { ModuleLoadErrorCode } from "./errors.js";
export { configureWasmCache } from "./disk-cache.js";
export { meter, STACK_BUDGET } from "./fuel.js";
