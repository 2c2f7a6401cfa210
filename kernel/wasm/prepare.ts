/**
 * @module Turns core module bytes into a metered, compiled `WebAssembly.Module`, cached
 * in-process by content hash and limits so a module is rewritten and compiled once, and
 * on disk (when configured) under a key that also names the rewriter version.
 */
import { hashBytes } from "../../air/hash.js";
import { cacheGet, cacheKey, cachePut, type CacheKey } from "./disk-cache.js";
import { ModuleLoadError } from "./errors.js";
import { FUEL_REWRITER_VERSION, MeteringLimitError, meter, type Metered } from "./fuel.js";
import { WasmFormatError } from "./wasm-bytes.js";

/** A metered and compiled core module plus what the rewrite reported. */
export interface PreparedCore {
  module: WebAssembly.Module;
  metered: Omit<Metered, "wasm">;
}

const cache = new Map<string, PreparedCore>();
const MAX_CACHED = 256;

/**
 * The disk cache key of `wasmHash` metered under `limits` (memory ceiling and initial
 * fuel are written into the rewritten module). `versions` defaults to this build's
 * rewriter; tests pass another to plant entries a different rewriter would have written.
 */
export function meteredCacheKey(
  wasmHash: string,
  limits: { memoryPages: number; fuelPerStep: number },
  versions: { rewriter: string } = { rewriter: FUEL_REWRITER_VERSION },
): CacheKey {
  return cacheKey({
    kind: "metered",
    wasm: wasmHash,
    rewriter: versions.rewriter,
    memoryPages: limits.memoryPages,
    initialFuel: String(limits.fuelPerStep),
  });
}

/** Validates, meters and compiles `wasm`; `wasmHash` (checked) keys the cache. */
export function prepareCore(
  name: string,
  wasmHash: string,
  wasm: Uint8Array,
  limits: { memoryPages: number; fuelPerStep: number },
): PreparedCore {
  const memKey = `${wasmHash}|${limits.memoryPages}|${limits.fuelPerStep}`;
  const hit = cache.get(memKey);
  if (hit) return hit;
  // A wrong hash would poison the cache for the module that really has it.
  const actual = hashBytes(wasm);
  if (actual !== wasmHash)
    throw new ModuleLoadError("module.invalid_wasm", name, `bytes hash to ${actual}, not the declared ${wasmHash}`);
  const diskKey = meteredCacheKey(wasmHash, limits);
  const fromDisk = loadCached(diskKey);
  if (fromDisk) {
    remember(memKey, fromDisk);
    return fromDisk;
  }
  if (!WebAssembly.validate(wasm)) {
    let detail = "not a valid WebAssembly module";
    try {
      new WebAssembly.Module(wasm);
    } catch (e) {
      detail = (e as Error).message;
    }
    throw new ModuleLoadError("module.invalid_wasm", name, detail);
  }
  let metered: Metered;
  try {
    // Start functions run at instantiation with one step's worth of fuel.
    metered = meter(wasm, { memoryPages: limits.memoryPages, initialFuel: BigInt(limits.fuelPerStep) });
  } catch (e) {
    if (e instanceof MeteringLimitError) throw new ModuleLoadError("module.limits_exceeded", name, e.message);
    if (e instanceof WasmFormatError)
      throw new ModuleLoadError("module.unsupported_feature", name, `cannot meter: ${e.message}`, { cause: e });
    throw e;
  }
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(metered.wasm);
  } catch (e) {
    // The input validated, so this is a bug in the rewriter: say so instead of blaming the module.
    throw new ModuleLoadError(
      "module.unsupported_feature",
      name,
      `metering produced invalid code: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const { wasm: meteredBytes, ...info } = metered;
  const prepared = { module, metered: info };
  cachePut(
    diskKey,
    new Map<string, Uint8Array | string>([
      ["module.wasm", meteredBytes],
      ["info.json", JSON.stringify(info)],
    ]),
  );
  remember(memKey, prepared);
  return prepared;
}

/** The entry under `key` if it is intact and compiles; anything else is rebuilt (and overwritten). */
function loadCached(key: CacheKey): PreparedCore | undefined {
  const files = cacheGet(key);
  const wasm = files?.get("module.wasm");
  const info = files?.get("info.json");
  if (!wasm || !info) return undefined;
  try {
    return {
      module: new WebAssembly.Module(wasm),
      metered: JSON.parse(new TextDecoder().decode(info)) as PreparedCore["metered"],
    };
  } catch {
    return undefined;
  }
}

/** Drops the in-memory cache (memory pressure, or tests of the disk cache). */
export function clearPreparedCache(): void {
  cache.clear();
}

function remember(key: string, prepared: PreparedCore): void {
  if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!);
  cache.set(key, prepared);
}

/** Throws `module.missing_export` unless `module` exports function `entry`. */
export function requireExport(name: string, module: WebAssembly.Module, entry: string): void {
  const found = WebAssembly.Module.exports(module).some((e) => e.name === entry && e.kind === "function");
  if (!found)
    throw new ModuleLoadError("module.missing_export", name, `does not export function "${entry}"`, {
      export_name: entry,
    });
}
