/**
 * @module Turns a WebAssembly component into jco's JS glue (instantiation mode) plus its
 * core modules, in-process and cached by component hash (on disk, when configured, under
 * a key that also names the transpiler's installed versions and options, see
 * `transpilerIdentity`), and decides linking: only the granted functions of
 * `worldkernel:module/host` may be imported, no WASI at all.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { installedPackage, missingPeers } from "../packages.js";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { transpile } from "@bytecodealliance/jco";
import { hashBytes } from "../../air/hash.js";
import { cacheGet, cacheKey, cachePut, hashKey, type CacheKey } from "./disk-cache.js";
import { ModuleLinkError, ModuleLoadError } from "./errors.js";
import { FUEL_REWRITER_VERSION } from "./fuel.js";
import { messageOf } from "./call-support.js";
import { capabilityFor } from "./host-calls.js";
import type { HostFunction } from "./module-runtime.js";

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

/** Every jco option that shapes the output; part of the transpiler identity. */
const JCO_OPTIONS = {
  name: "component",
  instantiation: "async",
  noTypescript: true,
  quiet: true,
  wasiShim: false,
} as const;

let identity: { value: string | undefined } | undefined;

/**
 * The transpiler that makes the cached glue: the installed versions of jco and of the
 * jco-transpile it runs (a caret dependency of jco, so it can move on its own), read from
 * their package.json files as Node resolves them from this file (so it holds when
 * worldkernel is itself installed as a dependency), plus `JCO_OPTIONS`. Undefined when
 * a version cannot be read: then nothing is cached on disk.
 */
export function transpilerIdentity(): string | undefined {
  if (!identity) {
    const jco = installedPackage("@bytecodealliance/jco", createRequire(import.meta.url));
    const inner = jco && installedPackage("@bytecodealliance/jco-transpile", createRequire(jco.file));
    identity = {
      value:
        jco && inner ? `jco@${jco.version} jco-transpile@${inner.version} ${JSON.stringify(JCO_OPTIONS)}` : undefined,
    };
  }
  return identity.value;
}

/**
 * The disk cache key of component `wasmHash`, or undefined (no caching) when the
 * transpiler's identity is unknown. `versions` defaults to this build's; tests pass
 * others to plant entries another rewriter or transpiler would have written.
 */
export function transpileCacheKey(
  wasmHash: string,
  versions: { rewriter: string; transpiler: string | undefined } = {
    rewriter: FUEL_REWRITER_VERSION,
    transpiler: transpilerIdentity(),
  },
): CacheKey | undefined {
  if (versions.transpiler === undefined) return undefined;
  return cacheKey({ kind: "component", wasm: wasmHash, rewriter: versions.rewriter, transpiler: versions.transpiler });
}

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
  if (actual !== wasmHash)
    throw new ModuleLoadError("module.invalid_wasm", name, `bytes hash to ${actual}, not the declared ${wasmHash}`);
  const key = transpileCacheKey(wasmHash);
  const cached = key && cacheGet(key);
  if (cached) {
    const hit = fromCache(cached);
    if (hit) return finish(wasmHash, hit);
  }
  const out = await runJco(name, wasm);
  if (key) {
    const kept = Object.entries(out.files).filter(([f]) => !f.endsWith(".d.ts"));
    const meta: Meta = { files: kept.map(([f]) => f), imports: out.imports, exports: out.exports };
    cachePut(key, new Map<string, Uint8Array | string>([...kept, [META, JSON.stringify(meta)]]));
  }
  return finish(wasmHash, out);
}

const META = "meta.json";

/** The transpile output in a verified cache entry, or undefined if the entry is not what we write. */
function fromCache(
  entry: Map<string, Uint8Array>,
): (Pick<Meta, "imports" | "exports"> & { files: Record<string, Uint8Array> }) | undefined {
  try {
    const m = JSON.parse(new TextDecoder().decode(entry.get(META))) as Meta;
    const files: Record<string, Uint8Array> = {};
    for (const f of m.files) {
      const bytes = entry.get(f);
      if (!bytes || f === META) return undefined;
      files[f] = bytes;
    }
    if (!Array.isArray(m.imports) || !Array.isArray(m.exports)) return undefined;
    return { files, imports: m.imports, exports: m.exports };
  } catch {
    return undefined;
  }
}

async function runJco(name: string, wasm: Uint8Array): Promise<Awaited<ReturnType<typeof transpile>>> {
  const absent = missingPeers(["@bytecodealliance/jco"]);
  if (absent)
    throw new ModuleLoadError(
      "module.toolchain_missing",
      name,
      `running a WebAssembly component needs @bytecodealliance/jco (an optional peer of worldkernel); run: ${absent.install}`,
    );
  let out: Awaited<ReturnType<typeof transpile>>;
  try {
    // Imported on first use: jco takes ~0.3 s to load, which core-module users never need.
    const jco = await import("@bytecodealliance/jco");
    out = await jco.transpile(wasm, { ...JCO_OPTIONS });
  } catch (e) {
    throw new ModuleLoadError("module.invalid_wasm", name, `not a loadable component: ${messageOf(e)}`, { cause: e });
  }
  return out;
}

async function finish(
  wasmHash: string,
  out: Pick<Meta, "imports" | "exports"> & { files: Record<string, Uint8Array> },
): Promise<Transpiled> {
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
  return {
    instantiate: glue.instantiate,
    cores,
    imports: out.imports,
    exports: out.exports.filter(([, k]) => k === "function").map(([n]) => n),
  };
}

/** Throws `ModuleLinkError` unless every import of the component and its `cores` is a granted host call. */
export function checkComponentImports(
  name: string,
  t: Transpiled,
  cores: readonly WebAssembly.Module[],
  granted: readonly HostFunction[],
): void {
  for (const iface of t.imports) {
    if (iface.replace(/@.*$/, "") !== HOST_INTERFACE) {
      throw new ModuleLinkError(
        name,
        iface,
        "none",
        iface.startsWith("wasi:")
          ? "worldkernel offers no WASI (clocks, randomness, files, network, environment): build the component with every WASI feature disabled"
          : undefined,
      );
    }
  }
  const grantedNames = new Set(granted.map((h) => h.name.replaceAll("_", "-")));
  for (const core of cores) {
    for (const imp of WebAssembly.Module.imports(core)) {
      if (!imp.module.startsWith(`${HOST_INTERFACE}@`) && imp.module !== HOST_INTERFACE) continue;
      if (!grantedNames.has(imp.name))
        throw new ModuleLinkError(name, `${imp.module}#${imp.name}`, capabilityFor(imp.name));
    }
  }
}

/** kebab-case host call name → jco's camelCase import property. */
export function jsName(hostCall: string): string {
  return hostCall.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
}
