/**
 * @module Optional on-disk cache of derived WASM artifacts (jco transpile output,
 * metered core modules), keyed by the source hash, so a new process does not pay
 * seconds to transpile and meter a JavaScript component again. Off until
 * `configureWasmCache` names a directory: it must be private to the world's owner,
 * since whatever it holds is executed as the module.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

let cacheDir: string | undefined;

/** Turns the disk cache on (a directory) or off (undefined). */
export function configureWasmCache(opts: { dir: string | undefined }): void {
  cacheDir = opts.dir;
}

/** The cached bytes of `key/name`, or undefined. */
export function cacheGet(key: string, name: string): Uint8Array | undefined {
  if (!cacheDir) return undefined;
  try {
    return new Uint8Array(readFileSync(join(cacheDir, key, name)));
  } catch {
    return undefined;
  }
}

/** Stores `key/name` (atomically: write then rename); a failing disk only loses the cache. */
export function cachePut(key: string, name: string, bytes: Uint8Array | string): void {
  if (!cacheDir) return;
  const file = join(cacheDir, key, name);
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } catch {
    // The cache is an optimisation; a read-only or full disk must not fail a load.
  }
}

/** The hex part of a `sha256:<hex>` hash, usable as a directory name. */
export function hashKey(hash: string): string {
  return hash.replace(/^sha256:/, "");
}
