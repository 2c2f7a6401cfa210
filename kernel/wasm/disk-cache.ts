/**
 * @module Optional on-disk cache of derived WASM artifacts (jco transpile output,
 * metered core modules), so a new process does not pay seconds to transpile and meter
 * a JavaScript component again. Off until `configureWasmCache` names a directory: it
 * must be private to the world's owner, since whatever it holds is executed as the
 * module.
 *
 * Fuel is replay-relevant, so an artifact is only ever reused by the exact code that
 * would have produced it. Every entry is keyed by all of:
 *
 * - `format`: `CACHE_FORMAT_VERSION`, the layout of the entry file itself;
 * - `kind`: `metered` (a fuel-metered core module) or `component` (jco output);
 * - `wasm`: the `sha256:` hash of the input bytes;
 * - `rewriter`: `FUEL_REWRITER_VERSION` (fuel.ts), the identity of the metering rewrite;
 * - `transpiler` (components): jco's and jco-transpile's installed versions plus the
 *   transpile options (`transpilerIdentity()` in component-transpile.ts);
 * - whatever else changes the output, e.g. the memory ceiling and initial fuel a
 *   metered module was rewritten with.
 *
 * The Node version is deliberately not a field: what is cached is WASM bytes, jco's JS
 * glue and JSON, none of which depends on V8 (modules are recompiled from the bytes at
 * every load; there is no V8 code cache). Add `node` to the fields if that changes.
 *
 * The fields, as canonical JSON (keys sorted), are hashed with SHA-256 to name the
 * entry `<dir>/<kind>/<hex>.entry`. One entry is one file, written to a temporary name
 * and renamed, so it is all or nothing. It holds a 4-byte big-endian header length, the
 * header (JSON: format, the key fields again, and each stored file's name, size and
 * SHA-256), then the files' bytes back to back. A read re-derives everything: an entry
 * whose recorded fields differ from the requested ones, whose header does not parse,
 * whose sizes do not add up or whose bytes do not hash as recorded (truncated, garbage,
 * half-written by a crashed process) is a miss, and the rebuilt artifact replaces it.
 */
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** Version of the entry file layout; bump on any change to how entries are written. */
export const CACHE_FORMAT_VERSION = 2;

let cacheDir: string | undefined;

/** Turns the disk cache on (a directory) or off (undefined). */
export function configureWasmCache(opts: { dir: string | undefined }): void {
  cacheDir = opts.dir;
}

/** What an entry is keyed by (see the module comment); values are compared exactly. */
export interface CacheKeyFields {
  kind: "metered" | "component";
  wasm: string;
  rewriter: string;
  [field: string]: string | number;
}

/** A resolved cache key: the fields with the format version, their canonical string, and its hash. */
export interface CacheKey {
  fields: Readonly<Record<string, string | number>>;
  canonical: string;
  id: string;
}

/** The key for `fields` (the format version is added here, never by callers). */
export function cacheKey(fields: CacheKeyFields, format: number = CACHE_FORMAT_VERSION): CacheKey {
  const all: Record<string, string | number> = { ...fields, format };
  const canonical = canonicalFields(all);
  return { fields: all, canonical, id: createHash("sha256").update(canonical).digest("hex") };
}

/** Path of the entry file for `key` under `dir`. */
export function cacheEntryPath(dir: string, key: CacheKey): string {
  return join(dir, String(key.fields.kind), `${key.id}.entry`);
}

/** The files stored under `key`, or undefined on a miss, a key mismatch or any corruption. */
export function cacheGet(key: CacheKey): Map<string, Uint8Array> | undefined {
  if (!cacheDir) return undefined;
  let raw: Buffer;
  try {
    raw = readFileSync(cacheEntryPath(cacheDir, key));
  } catch {
    return undefined;
  }
  return decodeEntry(raw, key);
}

/** Stores `files` under `key` (atomically: write then rename); a failing disk only loses the cache. */
export function cachePut(key: CacheKey, files: ReadonlyMap<string, Uint8Array | string>): void {
  if (!cacheDir) return;
  const file = cacheEntryPath(cacheDir, key);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, encodeEntry(key, files));
    renameSync(tmp, file);
  } catch {
    // The cache is an optimisation; a read-only or full disk must not fail a load.
    rmSync(tmp, { force: true });
  }
}

interface Header {
  format: number;
  key: Record<string, string | number>;
  files: { name: string; size: number; sha256: string }[];
}

function encodeEntry(key: CacheKey, files: ReadonlyMap<string, Uint8Array | string>): Buffer {
  const blobs = [...files].map(
    ([name, v]) =>
      [
        name,
        typeof v === "string" ? Buffer.from(v, "utf8") : Buffer.from(v.buffer, v.byteOffset, v.byteLength),
      ] as const,
  );
  const header: Header = {
    format: CACHE_FORMAT_VERSION,
    key: { ...key.fields },
    files: blobs.map(([name, b]) => ({ name, size: b.length, sha256: sha256(b) })),
  };
  const head = Buffer.from(JSON.stringify(header), "utf8");
  const len = Buffer.alloc(4);
  len.writeUInt32BE(head.length);
  return Buffer.concat([len, head, ...blobs.map(([, b]) => b)]);
}

function decodeEntry(raw: Buffer, key: CacheKey): Map<string, Uint8Array> | undefined {
  if (raw.length < 4) return undefined;
  const headLen = raw.readUInt32BE(0);
  if (headLen > raw.length - 4) return undefined;
  let header: Header;
  try {
    header = JSON.parse(raw.subarray(4, 4 + headLen).toString("utf8")) as Header;
  } catch {
    return undefined;
  }
  if (!isHeader(header) || header.format !== CACHE_FORMAT_VERSION) return undefined;
  // Recorded fields must be exactly the requested ones: another rewriter, transpiler or format is a miss.
  if (canonicalFields(header.key) !== key.canonical) return undefined;
  const total = header.files.reduce((n, f) => n + f.size, 0);
  if (4 + headLen + total !== raw.length) return undefined;
  const out = new Map<string, Uint8Array>();
  let at = 4 + headLen;
  for (const f of header.files) {
    const bytes = raw.subarray(at, at + f.size);
    at += f.size;
    if (out.has(f.name) || sha256(bytes) !== f.sha256) return undefined;
    out.set(f.name, new Uint8Array(bytes));
  }
  return out;
}

function isHeader(h: unknown): h is Header {
  if (typeof h !== "object" || h === null) return false;
  const { format, key, files } = h as Record<string, unknown>;
  if (
    typeof format !== "number" ||
    typeof key !== "object" ||
    key === null ||
    Array.isArray(key) ||
    !Array.isArray(files)
  )
    return false;
  if (!Object.values(key).every((v) => typeof v === "string" || typeof v === "number")) return false;
  return files.every((f: unknown) => {
    if (typeof f !== "object" || f === null) return false;
    const { name, size, sha256: hash } = f as Record<string, unknown>;
    return typeof name === "string" && typeof hash === "string" && Number.isSafeInteger(size) && (size as number) >= 0;
  });
}

function canonicalFields(fields: Readonly<Record<string, string | number>>): string {
  return JSON.stringify(
    Object.keys(fields)
      .sort()
      .map((k) => [k, fields[k]]),
  );
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The hex part of a `sha256:<hex>` hash, usable as a file name. */
export function hashKey(hash: string): string {
  return hash.replace(/^sha256:/, "");
}
