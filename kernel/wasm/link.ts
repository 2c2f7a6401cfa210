/**
 * @module Capability-gated linking of core modules, decided from the import list
 * before anything is instantiated: a module may import the Extism kernel functions we
 * allow and exactly the granted host calls, nothing else (no WASI, no network, no
 * memory or globals from outside).
 */
import { ModuleLinkError } from "./errors.js";
import { EXTISM_ENV, EXTISM_KERNEL_ALLOWED, EXTISM_USER, capabilityFor } from "./host-calls.js";
import type { HostFunction } from "./module-runtime.js";

/** Throws `ModuleLinkError` for the first import of `module` that cannot be linked. */
export function checkExtismImports(name: string, module: WebAssembly.Module, granted: readonly HostFunction[]): void {
  const grantedNames = new Set(granted.map((h) => h.name));
  for (const imp of WebAssembly.Module.imports(module)) {
    const full = `${imp.module}.${imp.name}`;
    if (imp.kind !== "function") {
      throw new ModuleLinkError(
        name,
        full,
        "none",
        `imported ${imp.kind}s are never provided: a module owns its memory, tables and globals`,
      );
    }
    if (imp.module === EXTISM_ENV) {
      if (!EXTISM_KERNEL_ALLOWED.has(imp.name)) {
        throw new ModuleLinkError(
          name,
          full,
          "none",
          "this Extism kernel function is disabled in worldkernel (no network, config or cross-call variables)",
        );
      }
      continue;
    }
    if (imp.module === EXTISM_USER) {
      if (!grantedNames.has(imp.name)) throw new ModuleLinkError(name, full, capabilityFor(imp.name));
      continue;
    }
    throw new ModuleLinkError(name, full, "none");
  }
}
