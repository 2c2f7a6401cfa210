/**
 * @module Readers for canonical effect params and grant params. Params arrive already
 * validated by the kernel, but an adapter re-checks the shape it relies on so a kernel bug
 * surfaces as a typed `adapter.invalid_params` instead of a crash deep inside I/O.
 */
import { bytesToHash, hashToBytes, HASH_PATTERN, type HashText } from "../../air/hash.js";
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import { AdapterError } from "./errors.js";

/** The outcome of reading an effect's params: the value, or why a field is malformed. */
export type ReadParams<T> = { ok: true; value: T } | { ok: false; message: string };

/** Reads an effect's params (a record) with `read`; a malformed field gives its message instead of throwing. */
export function readParams<T>(
  kind: string,
  params: CborValue,
  read: (p: Record<string, CborValue>) => T,
): ReadParams<T> {
  try {
    return { ok: true, value: read(record(kind, params)) };
  } catch (e) {
    if (e instanceof AdapterError) return { ok: false, message: e.message };
    throw e;
  }
}

/** A text-keyed record view of a params value (plain object or text-keyed Map). */
export function record(kind: string, v: CborValue, path = "$"): Record<string, CborValue> {
  if (isCborObject(v)) return v;
  if (v instanceof Map) {
    const out: Record<string, CborValue> = {};
    for (const [k, val] of v) {
      if (typeof k !== "string") throw new AdapterError("adapter.invalid_params", kind, "map key is not text", path);
      out[k] = val;
    }
    return out;
  }
  throw new AdapterError("adapter.invalid_params", kind, "expected a record", path);
}

/** A required text field. */
export function text(kind: string, r: Record<string, CborValue>, key: string): string {
  const v = r[key];
  if (typeof v !== "string") throw new AdapterError("adapter.invalid_params", kind, `expected text`, `$.${key}`);
  return v;
}

/** An optional text field (`null` or absent → null). */
export function optText(kind: string, r: Record<string, CborValue>, key: string): string | null {
  const v = r[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== "string")
    throw new AdapterError("adapter.invalid_params", kind, `expected text or null`, `$.${key}`);
  return v;
}

/** A required natural number (number or bigint within the safe range). */
export function nat(kind: string, r: Record<string, CborValue>, key: string): number {
  const v = r[key];
  const n = typeof v === "bigint" && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0)
    throw new AdapterError("adapter.invalid_params", kind, `expected a nat`, `$.${key}`);
  return n;
}

/** A required natural number that may exceed 2^53 (nanosecond times). */
export function bigNat(kind: string, r: Record<string, CborValue>, key: string): bigint {
  const v = r[key];
  if (typeof v === "bigint" && v >= 0n) return v;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new AdapterError("adapter.invalid_params", kind, `expected a nat`, `$.${key}`);
}

/**
 * A required hash. The canonical typed form of AIR `hash` is 32 raw bytes (what the gate's
 * conformed params carry); `sha256:<hex>` text is accepted too, for hand-built requests.
 */
export function hash(kind: string, r: Record<string, CborValue>, key: string): HashText {
  const v = r[key];
  if (v instanceof Uint8Array && v.length === 32) return bytesToHash(v);
  if (typeof v === "string" && HASH_PATTERN.test(v)) return v as HashText;
  throw new AdapterError("adapter.invalid_params", kind, `expected a hash (32 bytes or sha256:<hex>)`, `$.${key}`);
}

/** An optional hash (`null` or absent → null). */
export function optHash(kind: string, r: Record<string, CborValue>, key: string): HashText | null {
  const v = r[key];
  return v === undefined || v === null ? null : hash(kind, r, key);
}

/**
 * A hash as receipt payloads carry it: 32 raw bytes, the canonical form of AIR `hash`, so
 * `ok` payloads conform to the built-in `sys/*Receipt@1` schemas.
 */
export function hashOut(h: HashText): Uint8Array {
  return hashToBytes(h);
}

/** A required bytes field. */
export function bytes(kind: string, r: Record<string, CborValue>, key: string): Uint8Array {
  const v = r[key];
  if (!(v instanceof Uint8Array)) throw new AdapterError("adapter.invalid_params", kind, `expected bytes`, `$.${key}`);
  return v;
}

/** A map<text,text> field (absent or null → empty). */
export function textMap(kind: string, r: Record<string, CborValue>, key: string): Record<string, string> {
  const v = r[key];
  if (v === undefined || v === null) return {};
  const m = record(kind, v, `$.${key}`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(m)) {
    if (typeof val !== "string")
      throw new AdapterError("adapter.invalid_params", kind, `expected text value`, `$.${key}.${k}`);
    out[k] = val;
  }
  return out;
}

/**
 * An allowlist from grant params: `null` or absent means unconstrained (returns null);
 * otherwise a set (canonical list) of text or nat members.
 */
export function allowlist<T extends "string" | "number">(
  kind: string,
  grant: CborValue,
  key: string,
  member: T,
): (T extends "string" ? string : number)[] | null {
  if (grant === null || grant === undefined) return null;
  const r = record(kind, grant, "$grant");
  const v = r[key];
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v))
    throw new AdapterError("adapter.invalid_params", kind, `grant allowlist must be a set`, `$grant.${key}`);
  return v.map((m, i) => {
    const x = typeof m === "bigint" ? Number(m) : m;
    if (typeof x !== member)
      throw new AdapterError(
        "adapter.invalid_params",
        kind,
        `grant allowlist member has the wrong type`,
        `$grant.${key}[${i}]`,
      );
    return x as T extends "string" ? string : number;
  });
}
