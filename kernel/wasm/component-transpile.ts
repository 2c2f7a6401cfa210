/**
 * @module Turns a WebAssembly component into jco's JS glue (instantiation mode) plus its
 * core modules, in-process and cached by component hash, and decides linking: only the
 * granted functions of `worldkernel:module/host` may be imported, no WASI at all.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { transpile } from "@bytecodealliance/jco";
import { hashBytes } from "../../air/index.js";
import { ModuleLinkError, ModuleLoadError } from "./errors.js";
import { capabilityFor } from "./host-calls.js";
import type { HostFunction } from "./runtime.js";

/** The interface (without version) a component imports host calls from. */
export const HOST_INTERFACE = "worldkernel:module/host";

/** jco's generated `instantiate` in instantiation mode. */
export type Instantiate = (
  getCoreModule: (name: string) => WebAssembly.Module,
  imports: Record<string, Record<string, (input: Uint8Array) => Uint8Array>>,
  instantiateCore: (module: WebAssembly.Module, imports?: WebAssembly.Imports) => Promise<WebAssembly.Instance>,
) => Promise<Record<string, unknown>>;

/** A transpiled component. */
export interface Transpiled {
  instantiate: Instantiate;
  /** Core module file name → bytes. */
  cores: Map<string, Uint8Array>;
  /** Interfaces the component imports, as jco lists them (no version). */
  imports: string[];
  /** Exported function names. */
  exports: string[];
}

const cache = new Map<string, Promise<Transpiled>>();

/** Transpiles `wasm` (checked against `wasmHash`) once per process. */
export function transpileComponent(name: string, wasmHash: string, wasm: Uint8Array): Promise<Transpiled> {
  let hit = cache.get(wasmHash);
  if (!hit) {
    hit = doTranspile(name, wasmHash, wasm);
    cache.set(wasmHash, hit);
    hit.catch(() => cache.delete(wasmHash));
  }
  return hit;
}

async function doTranspile(name: string, wasmHash: string, wasm: Uint8Array): Promise<Transpiled> {
  const actual = hashBytes(wasm);
  if (actual !== wasmHash) throw new ModuleLoadError("module.invalid_wasm", name, `bytes hash to ${actual}, not the declared ${wasmHash}`);
  let out: Awaited<ReturnType<typeof transpile>>;
  try {
    out = await transpile(wasm, { name: "component", instantiation: "async", noTypescript: true, quiet: true, wasiShim: false });
  } catch (e) {
    throw new ModuleLoadError("module.invalid_wasm", name, `not a loadable component: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  const cores = new Map<string, Uint8Array>();
  let js = "";
  for (const [file, bytes] of Object.entries(out.files)) {
    if (file.endsWith(".wasm")) cores.set(file, bytes);
    else if (file === "component.js") js = new TextDecoder().decode(bytes);
  }
  // A file named by the component hash, not a data: URL: stack traces print the whole URL.
  const file = join(tmpdir(), `worldkernel-jco-${wasmHash.slice("sha256:".length)}.mjs`);
  writeFileSync(file, js);
  const glue = (await import(pathToFileURL(file).href)) as { instantiate: Instantiate };
  return { instantiate: glue.instantiate, cores, imports: out.imports, exports: out.exports.filter(([, k]) => k === "function").map(([n]) => n) };
}

/** Throws `ModuleLinkError` unless every import of the component and its `cores` is a granted host call. */
export function checkComponentImports(name: string, t: Transpiled, cores: readonly WebAssembly.Module[], granted: readonly HostFunction[]): void {
  for (const iface of t.imports) {
    if (iface.replace(/@.*$/, "") !== HOST_INTERFACE) {
      throw new ModuleLinkError(name, iface, "none", iface.startsWith("wasi:")
        ? "worldkernel offers no WASI (clocks, randomness, files, network, environment): build the component with every WASI feature disabled"
        : undefined);
    }
  }
  const grantedNames = new Set(granted.map((h) => h.name.replaceAll("_", "-")));
  for (const core of cores) {
    for (const imp of WebAssembly.Module.imports(core)) {
      if (!imp.module.startsWith(`${HOST_INTERFACE}@`) && imp.module !== HOST_INTERFACE) continue;
      if (!grantedNames.has(imp.name)) throw new ModuleLinkError(name, `${imp.module}#${imp.name}`, capabilityFor(imp.name));
    }
  }
}

/** kebab-case host call name → jco's camelCase import property. */
export function jsName(hostCall: string): string {
  return hostCall.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
}
