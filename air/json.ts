/**
 * @module JSON in and out without losing integers beyond 2^53: a lossless parse (big
 * integer literals become bigint) and the generic JSON → CBOR mapping that `wk air hash`
 * and def identities use (objects → maps, arrays, integers, floats, strings, booleans, null).
 */
import { parse, isSafeNumber } from "lossless-json";
import { AirError, jsonPath } from "./errors.js";
import { CborTag, type CborValue, type CborObject } from "./cbor/value.js";

/** Parses JSON text; integers beyond 2^53 become bigint. Errors name the file and position. */
export function parseJsonLossless(text: string, file?: string): unknown {
  try {
    return parse(text, null, (s: string) => {
      if (/^-?\d+$/.test(s)) return isSafeNumber(s) ? Number(s) : BigInt(s);
      return Number(s);
    });
  } catch (e) {
    const where = file ? `${file}: ` : "";
    throw new AirError("air.invalid_json", `${where}${(e as Error).message}`, "$", undefined, { cause: e });
  }
}

/** Maps plain JSON (as parsed losslessly) onto the CBOR data model, dropping undefined fields. */
export function jsonToCbor(v: unknown, path: (string | number)[] = []): CborValue {
  if (v === null || typeof v === "boolean" || typeof v === "string" || typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new AirError("cbor.unsupported_value", `${v} is not representable in JSON`, jsonPath(path));
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => jsonToCbor(x, [...path, i]));
  // Already-canonical typed values (bytes, typed maps, dec128 tags) pass through untouched.
  if (v instanceof Uint8Array || v instanceof Map || v instanceof CborTag) return v as CborValue;
  if (typeof v === "object") {
    const out: CborObject = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) if (x !== undefined) setOwn(out, k, jsonToCbor(x, [...path, k]));
    return out;
  }
  throw new AirError("cbor.unsupported_value", `cannot map ${typeof v} to CBOR`, jsonPath(path));
}

/**
 * Sets `k` as an own enumerable data property. Plain assignment of `"__proto__"` would call
 * the inherited setter and replace the prototype instead of creating the key, silently
 * dropping it from the map (and giving a prototype-polluted object); `"constructor"` and
 * `"prototype"` are ordinary keys, so only `__proto__` needs the defineProperty path.
 */
function setOwn(obj: CborObject, k: string, value: CborValue): void {
  if (k === "__proto__") Object.defineProperty(obj, k, { value, enumerable: true, writable: true, configurable: true });
  else obj[k] = value;
}
