/**
 * @module JSON in and out without losing integers beyond 2^53: a lossless parse (big
 * integer literals become bigint, and a literal no double holds exactly stays its text as
 * a `LosslessNumber`) and the generic JSON → CBOR mapping that `wk air hash` and def
 * identities use (objects → maps, arrays, integers, floats, strings, booleans, null).
 */
import { parse, isSafeNumber, isLosslessNumber, LosslessNumber } from "lossless-json";
import { AirError, jsonPath } from "./errors.js";
import { CborTag, type CborValue, type CborObject } from "./cbor/value.js";
import { invalidUnicode, invalidUtf8At, isWellFormedText } from "./unicode.js";

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses JSON text; integers beyond 2^53 become bigint. Any other number literal becomes a
 * number when the double's shortest rendering has exactly the literal's value (`0.5`, `1e2`,
 * `1.50`, `-0.0`), else a `LosslessNumber` holding the literal's text: one that overflows
 * (`1e400`), underflows (`1e-400`), has digits a double drops (`1.0000000000000001`) or is
 * an integer beyond 2^53 written with a fraction or an exponent (`1e19`). The typed layer
 * (`canonicalizeJson`) reads those exactly, so `1e-400` is never the nat 0; `jsonToCbor`
 * maps them to the double they always gave. Errors name the file and position.
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
      return exactAsDouble(s) ? Number(s) : new LosslessNumber(s);
    });
  } catch (e) {
    const where = file ? `${file}: ` : "";
    throw new AirError("air.invalid_json", `${where}${(e as Error).message}`, "$", undefined, { cause: e });
  }
}

/**
 * A number literal's exact value, ±digits × 10^exponent: digits without leading or trailing
 * zeros, "" for zero (never negative, so `-0` and `0.0e5` are zero). The exponent is a
 * number, exact within 2^53; beyond that (`1e99999999999999999999`) only its sign and size
 * mean anything. Never goes through a double; undefined if `text` is not a number literal.
 */
export interface ExactDecimal {
  negative: boolean;
  digits: string;
  exponent: number;
}

const NUMBER_LITERAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** The exact value of a JSON number literal (or of a double's `String()`, which may write `e+21`). */
export function exactDecimal(text: string): ExactDecimal | undefined {
  const m = NUMBER_LITERAL.exec(text);
  if (!m) return undefined;
  const frac = m[3] ?? "";
  const all = m[2]! + frac;
  let start = 0;
  while (start < all.length && all.charCodeAt(start) === 0x30) start++;
  if (start === all.length) return { negative: false, digits: "", exponent: 0 };
  // A loop, not /0+$/: that regex is quadratic on a long run of zeros followed by another digit.
  let end = all.length;
  while (all.charCodeAt(end - 1) === 0x30) end--;
  return {
    negative: m[1] === "-",
    digits: all.slice(start, end),
    exponent: Number(m[4] ?? "0") - frac.length + (all.length - end),
  };
}

/** Whether the double nearest a non-integer literal renders back to exactly its value (and is not an integer beyond 2^53). */
function exactAsDouble(s: string): boolean {
  const n = Number(s);
  if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n))) return false;
  const a = exactDecimal(s);
  const b = exactDecimal(String(n));
  return (
    a !== undefined &&
    b !== undefined &&
    a.negative === b.negative &&
    a.digits === b.digits &&
    a.exponent === b.exponent
  );
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
  // A literal no double holds exactly (see parseJsonLossless): the double it always gave, so hashes stay.
  if (isLosslessNumber(v)) v = Number((v as LosslessNumber).value);
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
