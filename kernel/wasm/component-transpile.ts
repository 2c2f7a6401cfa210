/**
 * @module Turns a WebAssembly component into jco's JS glue (instantiation mode) plus its
 * core modules, in-process and cached by component hash, and decides linking: only the
 * granted functions of `worldkernel:module/host` may be imported, no WASI at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { transpile } from "@bytecodealliance/jco";
import { hashBytes } from "../../air/index.js";
import { cacheGet, cachePut, hashKey } from "./disk-cache.js";
import { ModuleLinkError, ModuleLoadError } from "./errors.js";
import { messageOf } from "./call-support.js";
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

/** Drops the in-memory cache (memory pressure, or tests of the disk cache). */
export function clearTranspileCache(): void {
  cache.clear();
}

interface Meta {
  files: string[];
  imports: string[];
  exports: [string, "function" | "instance"][];
}

async function doTranspile(name: string, wasmHash: string, wasm: Uint8Array): Promise<Transpiled> {
  const actual = hashBytes(wasm);
  if (actual !== wasmHash) throw new ModuleLoadError("module.invalid_wasm", name, `bytes hash to ${actual}, not the declared ${wasmHash}`);
  const key = `component/${hashKey(wasmHash)}`;
  const meta = cacheGet(key, "meta.json");
  if (meta) {
    const m = JSON.parse(new TextDecoder().decode(meta)) as Meta;
    const files = Object.fromEntries(m.files.map((f) => [f, cacheGet(key, f)] as const));
    if (Object.values(files).every((b) => b !== undefined)) return finish(wasmHash, { files: files as Record<string, Uint8Array>, imports: m.imports, exports: m.exports });
  }
  const out = await runJco(name, wasm);
  for (const [file, bytes] of Object.entries(out.files)) if (!file.endsWith(".d.ts")) cachePut(key, file, bytes);
  cachePut(key, "meta.json", JSON.stringify({ files: Object.keys(out.files).filter((f) => !f.endsWith(".d.ts")), imports: out.imports, exports: out.exports } satisfies Meta));
  return finish(wasmHash, out);
}

async function runJco(name: string, wasm: Uint8Array): Promise<Awaited<ReturnType<typeof transpile>>> {
  let out: Awaited<ReturnType<typeof transpile>>;
  try {
    // Imported on first use: jco takes ~0.3 s to load, which core-module users never need.
    const jco = await import("@bytecodealliance/jco");
    out = await jco.transpile(wasm, { name: "component", instantiation: "async", noTypescript: true, quiet: true, wasiShim: false });
  } catch (e) {
    throw new ModuleLoadError("module.invalid_wasm", name, `not a loadable component: ${messageOf(e)}`, { cause: e });
  }
  return out;
}

async function finish(wasmHash: string, out: Pick<Meta, "imports" | "exports"> & { files: Record<string, Uint8Array> }): Promise<Transpiled> {
  const cores = new Map<string, Uint8Array>();
  let js = "";
  for (const [file, bytes] of Object.entries(out.files)) {
    if (file.endsWith(".wasm")) cores.set(file, bytes);
    else if (file === "component.js") js = new TextDecoder().decode(bytes);
  }
  // A file, not a data: URL (stack traces print the whole URL), in a fresh private
  // directory (mkdtemp makes it 0700) so nobody can swap it between write and import.
  const dir = mkdtempSync(join(tmpdir(), "worldkernel-jco-"));
  const file = join(dir, `${hashKey(wasmHash)}.mjs`);
  let glue: { instantiate: Instantiate };
  try {
    writeFileSync(file, js);
    glue = (await import(pathToFileURL(file).href)) as { instantiate: Instantiate };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
