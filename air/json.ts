/**
 * @module JSON in and out without losing integers beyond 2^53: a lossless parse (big
 * integer literals become bigint) and the generic JSON → CBOR mapping that `wk air hash`
 * and def identities use (objects → maps, arrays, integers, floats, strings, booleans, null).
 */
import { parse, isSafeNumber } from "lossless-json";
import { AirError, jsonPath } from "./errors.js";
import { CborTag, type CborValue, type CborObject } from "./cbor/value.js";
import { invalidUnicode, invalidUtf8At, isWellFormedText } from "./unicode.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses JSON text; integers beyond 2^53 become bigint. Errors name the file and position.
 * Given bytes (a file as read, without an encoding), they must be valid UTF-8: invalid
 * bytes are `air.invalid_unicode` naming the byte offset, never silently U+FFFD.
 */
export function parseJsonLossless(source: string | Uint8Array, file?: string): unknown {
  let text: string;
  if (typeof source === "string") text = source;
  else {
    try {
      text = strictUtf8.decode(source);
    } catch (e) {
      const at = invalidUtf8At(source);
      throw new AirError(
        "air.invalid_unicode",
        `${file ? `${file}: ` : ""}invalid UTF-8 at byte ${at} (air.invalid_unicode)`,
        `@${at}`,
        undefined,
        { cause: e },
      );
    }
  }
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

/**
 * Maps plain JSON (as parsed losslessly) onto the CBOR data model, dropping undefined fields.
 * Strings and keys must be valid Unicode (`air.invalid_unicode` at the JSON path otherwise).
 */
export function jsonToCbor(v: unknown, path: (string | number)[] = []): CborValue {
  if (typeof v === "string") {
    if (!isWellFormedText(v)) throw invalidUnicode(v, jsonPath(path));
    return v;
  }
  if (v === null || typeof v === "boolean" || typeof v === "bigint") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v))
      throw new AirError("cbor.unsupported_value", `${v} is not representable in JSON`, jsonPath(path));
    return v;
  }
  if (Array.isArray(v)) return v.map((x, i) => jsonToCbor(x, [...path, i]));
  // Already-canonical typed values (bytes, typed maps, dec128 tags) pass through untouched.
  if (v instanceof Uint8Array || v instanceof Map || v instanceof CborTag) return v as CborValue;
  if (typeof v === "object") {
    const out: CborObject = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (!isWellFormedText(k)) throw invalidUnicode(k, jsonPath([...path, k]), "object key");
      if (x !== undefined) setOwn(out, k, jsonToCbor(x, [...path, k]));
    }
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
