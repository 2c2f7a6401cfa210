/**
 * @module Checks a decoded CBOR value (module output, journal body) against an expanded
 * type and returns its canonical form (sets sorted and deduplicated). It rejects anything
 * the canonicalizer could not have produced, naming the path. Also renders typed values
 * back to the sugar JSON lens for people.
 */
import { AirError, jsonPath } from "../errors.js";
import { CborTag, DEC128_TAG, isCborObject, type CborValue, type CborObject } from "../cbor/value.js";
import { decodeDec128 } from "../cbor/dec128.js";
import { bytesToHash } from "../hash.js";
import type { TypeExpr } from "../schemas/common.js";
import { sortedSet } from "./canonicalize.js";
import { formatUuid } from "./scalars.js";

type Path = (string | number)[];

function fail(expected: string, path: Path): never {
  throw new AirError("air.type_mismatch", `expected ${expected}`, jsonPath(path));
}

function isInt(v: CborValue): v is number | bigint {
  return typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v));
}

/** Returns the canonical form of `v` if it conforms to `t`, else throws `air.type_mismatch`. */
export function conformCbor(t: TypeExpr, v: CborValue, path: Path = []): CborValue {
  if ("option" in t) return v === null ? null : conformCbor(t.option, v, path);
  if ("bool" in t) return typeof v === "boolean" ? v : fail("bool", path);
  if ("int" in t || "time" in t || "duration" in t) {
    if (!isInt(v) || BigInt(v) < -(1n << 63n) || BigInt(v) >= 1n << 63n) fail("a 64-bit signed integer", path);
    return v;
  }
  if ("nat" in t) return isInt(v) && BigInt(v) >= 0n ? v : fail("a natural number", path);
  if ("text" in t) return typeof v === "string" ? v : fail("text", path);
  if ("bytes" in t) return v instanceof Uint8Array ? v : fail("bytes", path);
  if ("hash" in t) return v instanceof Uint8Array && v.length === 32 ? v : fail("a 32-byte hash", path);
  if ("uuid" in t) return v instanceof Uint8Array && v.length === 16 ? v : fail("a 16-byte uuid", path);
  if ("dec128" in t) {
    if (!(v instanceof CborTag) || v.tag !== DEC128_TAG || !(v.value instanceof Uint8Array) || v.value.length !== 16)
      fail("dec128 (tag 2000, 16 bytes)", path);
    return v;
  }
  if ("unit" in t) return isCborObject(v) && Object.keys(v).length === 0 ? v : fail("unit {}", path);
  if ("list" in t) {
    if (!Array.isArray(v)) fail("a list", path);
    return v.map((x, i) => conformCbor(t.list, x, [...path, i]));
  }
  if ("set" in t) {
    if (!Array.isArray(v)) fail("a set", path);
    return sortedSet(v.map((x, i) => conformCbor(t.set, x, [...path, i])));
  }
  if ("record" in t) {
    if (!isCborObject(v)) fail("a record (text-keyed map)", path);
    const out: CborObject = {};
    // Own keys only: a field named like an Object.prototype member (toString, constructor) is not there by inheritance.
    for (const k of Object.keys(v))
      if (!Object.hasOwn(t.record, k))
        throw new AirError("air.type_mismatch", `unknown field "${k}"`, jsonPath([...path, k]));
    for (const [k, ft] of Object.entries(t.record)) {
      const x = Object.hasOwn(v, k) ? v[k] : undefined;
      if (x === undefined) {
        if ("option" in ft) out[k] = null;
        else throw new AirError("air.type_mismatch", `missing field "${k}"`, jsonPath([...path, k]));
      } else out[k] = conformCbor(ft, x, [...path, k]);
    }
    return out;
  }
  if ("variant" in t) {
    if (!isCborObject(v) || typeof v.$tag !== "string" || !("$value" in v) || Object.keys(v).length !== 2)
      fail('a variant {"$tag", "$value"}', path);
    const at = Object.hasOwn(t.variant, v.$tag as string) ? t.variant[v.$tag as string] : undefined;
    if (!at) throw new AirError("air.type_mismatch", `unknown variant tag "${v.$tag}"`, jsonPath(path));
    return { $tag: v.$tag as string, $value: conformCbor(at, v.$value!, [...path, v.$tag as string]) };
  }
  if ("map" in t) {
    if ("text" in t.map.key) {
      if (!isCborObject(v)) fail("a text-keyed map", path);
      const out: CborObject = {};
      for (const [k, x] of Object.entries(v)) out[k] = conformCbor(t.map.value, x, [...path, k]);
      return out;
    }
    if (!(v instanceof Map)) {
      if (isCborObject(v) && Object.keys(v).length === 0) return new Map();
      fail("a map", path);
    }
    const out = new Map<CborValue, CborValue>();
    for (const [k, x] of v)
      out.set(conformCbor(t.map.key, k, [...path, "key"]), conformCbor(t.map.value, x, [...path, String(k)]));
    return out;
  }
  throw new AirError("air.invalid_type", "unexpanded type (ref)", jsonPath(path));
}

/** Renders a canonical typed value in the sugar JSON lens (bigints as decimal strings). */
export function toSugarJson(t: TypeExpr, v: CborValue): unknown {
  if ("option" in t) return v === null ? null : toSugarJson(t.option, v);
  if ("int" in t || "nat" in t || "time" in t || "duration" in t) return typeof v === "bigint" ? v.toString() : v;
  if ("bytes" in t) return Buffer.from(v as Uint8Array).toString("base64");
  if ("hash" in t) return bytesToHash(v as Uint8Array);
  if ("uuid" in t) return formatUuid(v as Uint8Array);
  if ("dec128" in t) return decodeDec128((v as CborTag).value as Uint8Array);
  if ("list" in t) return (v as CborValue[]).map((x) => toSugarJson(t.list, x));
  if ("set" in t) return (v as CborValue[]).map((x) => toSugarJson(t.set, x));
  if ("record" in t) {
    const out: Record<string, unknown> = {};
    for (const [k, ft] of Object.entries(t.record)) out[k] = toSugarJson(ft, (v as CborObject)[k] ?? null);
    return out;
  }
  if ("variant" in t) {
    const o = v as CborObject;
    const tag = o.$tag as string;
    const at = Object.hasOwn(t.variant, tag) ? t.variant[tag] : undefined;
    if (at === undefined) throw new AirError("air.type_mismatch", `unknown variant tag "${tag}"`);
    return { [tag]: toSugarJson(at, o.$value ?? null) };
  }
  if ("map" in t) {
    if ("text" in t.map.key) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v as CborObject)) out[k] = toSugarJson(t.map.value, x);
      return out;
    }
    return [...(v as Map<CborValue, CborValue>).entries()].map(([k, x]) => [
      toSugarJson(t.map.key, k),
      toSugarJson(t.map.value, x),
    ]);
  }
  return v;
}
