/**
 * @module Canonical CBOR values as CEL inputs, for policy conditions. The mapping is total and
 * deterministic, and keeps integers integers: CEL reads a JS `number` as a double, so every
 * integer (safe `number` or `bigint`) becomes a CEL `int` (a bigint), never a float.
 */
import { decodeDec128 } from "./cbor/dec128.js";
import { CborRaw, CborTag, DEC128_TAG, isCborObject, type CborValue } from "./cbor/value.js";
import { jsonPath } from "./errors.js";

/** What a CEL evaluator takes as a variable (bigint int, string, bytes, bool, null, list, map). */
export type CelIn = null | boolean | bigint | string | Uint8Array | CelIn[] | Map<string | bigint | boolean, CelIn>;

const INT_MIN = -(1n << 63n);
const INT_MAX = (1n << 63n) - 1n;

/** Why a value has no CEL form: where, and what. Thrown by `toCel`, caught by the evaluator. */
export class CelInputFault {
  constructor(
    readonly path: string,
    readonly message: string,
  ) {}
}

/**
 * The CEL form of a canonical value:
 * - integers (`int`, `nat`, `time`, `duration`) → CEL `int` (64-bit signed); one outside that
 *   range is a fault (CEL has no wider integer, and a silent wrap or a float would lie);
 * - `text` → string; `bytes`, `hash`, `uuid` → bytes; `bool` → bool; `null` (an absent option) → null;
 * - `dec128` → its canonical decimal text (`12.50` reads `"12.5"`): CEL has no decimal type, and a
 *   double would round;
 * - records and text-keyed maps → maps with string keys (a variant is `{"$tag", "$value"}`:
 *   read it as `params.v["$tag"]`); maps with int or bool keys keep them; lists and sets → lists.
 * Anything else (a float, a bytes map key, another tag) is a fault: typed params never hold one.
 */
export function toCel(v: CborValue, path: (string | number)[] = ["params"]): CelIn {
  if (v === null || typeof v === "boolean" || typeof v === "string" || v instanceof Uint8Array) return v;
  if (typeof v === "number" || typeof v === "bigint") return int(v, path);
  if (Array.isArray(v)) return v.map((x, i) => toCel(x, [...path, i]));
  if (v instanceof Map) {
    const out = new Map<string | bigint | boolean, CelIn>();
    for (const [k, x] of v) {
      const key = typeof k === "number" || typeof k === "bigint" ? int(k, path) : k;
      if (typeof key !== "string" && typeof key !== "bigint" && typeof key !== "boolean")
        throw new CelInputFault(jsonPath(path), "a map key that is not text, an integer or a bool has no CEL form");
      out.set(key, toCel(x, [...path, String(key)]));
    }
    return out;
  }
  if (v instanceof CborTag) {
    if (v.tag === DEC128_TAG && v.value instanceof Uint8Array && v.value.length === 16) return decodeDec128(v.value);
    throw new CelInputFault(jsonPath(path), `CBOR tag ${v.tag} has no CEL form`);
  }
  if (v instanceof CborRaw) throw new CelInputFault(jsonPath(path), "raw CBOR has no CEL form");
  if (isCborObject(v)) {
    const out = new Map<string, CelIn>();
    for (const k of Object.keys(v)) out.set(k, toCel(v[k]!, [...path, k]));
    return out;
  }
  throw new CelInputFault(jsonPath(path), "this value has no CEL form");
}

function int(n: number | bigint, path: (string | number)[]): bigint {
  if (typeof n === "number" && !Number.isInteger(n))
    throw new CelInputFault(jsonPath(path), `${n} is a float: conditions see integers only`);
  const b = BigInt(n);
  if (b < INT_MIN || b > INT_MAX) throw new CelInputFault(jsonPath(path), `${b} is outside CEL's 64-bit int range`);
  return b;
}
