/**
 * @module JSON → canonical typed value. Accepts both lenses at every position: authoring
 * sugar (`42`, `"a"`, `{"Ok": ...}`) and tagged canonical JSON (`{"nat": 42}`,
 * `{"variant": {"tag": "Ok", "value": ...}}`). Both produce the same CBOR value, so the
 * same bytes and the same hash. Types must be expanded (no `ref`) — see `expandType`.
 */
import { isLosslessNumber, type LosslessNumber } from "lossless-json";
import { AirError, jsonPath } from "../errors.js";
import { exactDecimal } from "../json.js";
import { encodeCanonical, compareBytes } from "../cbor/encode.js";
import { CborTag, DEC128_TAG, type CborValue, type CborObject } from "../cbor/value.js";
import { encodeDec128 } from "../cbor/dec128.js";
import { hashToBytes } from "../hash.js";
import type { TypeExpr } from "../schemas/common.js";
import { parseRfc3339, parseUuid, parseBase64 } from "./scalars.js";
import { assertValidText } from "../unicode.js";

type Path = (string | number)[];
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;

/** The tag word(s) of the tagged lens for each type. */
const TAG_WORDS: Record<string, readonly string[]> = {
  bool: ["bool"],
  int: ["int"],
  nat: ["nat"],
  dec128: ["dec128"],
  bytes: ["bytes_b64", "bytes"],
  text: ["text"],
  time: ["time_ns", "time"],
  duration: ["duration_ns", "duration"],
  hash: ["hash"],
  uuid: ["uuid"],
  unit: ["unit"],
  record: ["record"],
  variant: ["variant"],
  list: ["list"],
  set: ["set"],
  map: ["map"],
  option: ["option", "null"],
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && !isLosslessNumber(v);
}

/** A number literal `parseJsonLossless` kept as text: no double holds it exactly (`1e-400`, `1e400`, `1e19`). */
function literalText(v: unknown): string | undefined {
  return isLosslessNumber(v) ? (v as LosslessNumber).value : undefined;
}

function mismatch(expected: string, got: unknown, path: Path): AirError {
  const literal = literalText(got);
  const shown =
    literal !== undefined
      ? literal.slice(0, 60)
      : typeof got === "bigint" || typeof got === "number"
        ? `${got}`
        : (JSON.stringify(got)?.slice(0, 60) ?? String(got));
  return new AirError("air.type_mismatch", `expected ${expected}, got ${shown}`, jsonPath(path));
}

/** If `v` is a tagged-lens node for type tag `tt`, returns its payload; else undefined. */
function unwrapTagged(tt: string, t: TypeExpr, v: unknown): { word: string; body: unknown } | undefined {
  if (!isPlainObject(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const word = keys[0]!;
  // No tag words for a tag that is not a type (an unexpanded ref, an empty node): `scalar` names it.
  const words = Object.hasOwn(TAG_WORDS, tt) ? TAG_WORDS[tt] : undefined;
  if (words === undefined || !words.includes(word)) return undefined;
  // A record field or variant alternative with the same name as the tag word keeps the sugar reading.
  if ("record" in t && word in t.record) return undefined;
  if ("variant" in t && word in t.variant) return undefined;
  return { word, body: v[word] };
}

/**
 * The integer a JSON value denotes: a bigint, a safe-integer number, a decimal string, or a
 * number literal kept as text, read exactly (`1e2` is 100, `1e19` is 10^19, `1.0` is 1;
 * `1e-400` and `1.0000000000000001` are not integers). Undefined for a literal with more
 * than 20 digits before the point (`1e400`): out of every integer type's range.
 */
function toBigInt(v: unknown, what: string, path: Path): bigint | undefined {
  const literal = literalText(v);
  if (literal !== undefined) {
    const d = exactDecimal(literal);
    if (d === undefined) throw mismatch(what, v, path);
    if (d.digits === "") return 0n;
    if (!(d.exponent >= 0)) throw mismatch(what, v, path);
    if (d.digits.length + d.exponent > 20) return undefined;
    const n = BigInt(d.digits) * 10n ** BigInt(d.exponent);
    return d.negative ? -n : n;
  }
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) {
    if (!Number.isSafeInteger(v))
      throw new AirError(
        "air.out_of_range",
        `${what} ${v} lost precision beyond 2^53: write it as a string`,
        jsonPath(path),
      );
    return BigInt(v);
  }
  if (typeof v === "string" && /^-?\d+$/.test(v)) return BigInt(v);
  throw mismatch(what, v, path);
}

function intValue(n: bigint): number | bigint {
  return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** An integer-typed scalar (`what`, named `name` in range errors) within min..max. */
function integer(v: unknown, what: string, name: string, min: bigint, max: bigint, path: Path): number | bigint {
  const n = toBigInt(v, what, path);
  if (n === undefined || n < min || n > max)
    throw new AirError(
      "air.out_of_range",
      `${name} ${n ?? literalText(v)?.slice(0, 60)} is out of range ${min}..${max}`,
      jsonPath(path),
    );
  return intValue(n);
}

/**
 * A dec128 from a number literal no double holds exactly: accepted only when its exact value
 * is the decimal its double gives (`1e21`), so it has the bytes it always had; refused rather
 * than rounded otherwise (`1e-400` is not 0, `0.10000000000000000001` is not 0.1).
 */
function dec128Literal(text: string, path: Path): CborTag {
  const exact = encodeDec128(text, jsonPath(path));
  const d = Number(text);
  if (Number.isFinite(d) && compareBytes(encodeDec128(String(d), jsonPath(path)), exact) === 0)
    return new CborTag(DEC128_TAG, exact);
  throw new AirError(
    "air.out_of_range",
    `dec128 ${text.slice(0, 60)} would be rounded to ${d} as a JSON number: write it as a decimal string`,
    jsonPath(path),
  );
}

/**
 * Canonicalizes a JSON value (either lens) against an expanded type. Every string in `v`
 * (values and keys, at any depth, even ones the type would ignore) must be valid Unicode:
 * a lone surrogate is refused with `air.invalid_unicode` at its JSON path, before anything
 * else is looked at.
 */
export function canonicalizeJson(t: TypeExpr, v: unknown, path: Path = []): CborValue {
  assertValidText(v, path);
  return canon(t, v, path);
}

function canon(t: TypeExpr, v: unknown, path: Path): CborValue {
  const tt = Object.keys(t)[0];
  if (tt === undefined)
    throw new AirError("air.invalid_type", "cannot canonicalize a type with no tag ({})", jsonPath(path));
  const tagged = unwrapTagged(tt, t, v);
  if (tagged) {
    if (tt === "option") {
      if (tagged.word === "null") return null;
      return tagged.body === null ? null : canon((t as { option: TypeExpr }).option, tagged.body, [...path, "option"]);
    }
    if (tt === "record" || tt === "variant" || tt === "list" || tt === "set" || tt === "map") {
      return fromTaggedComposite(t, tagged.body, [...path, tagged.word]);
    }
    if (tt === "unit") return {};
    return scalar(tt, tagged.body, [...path, tagged.word]);
  }
  switch (tt) {
    case "option":
      return v === null || v === undefined ? null : canon((t as { option: TypeExpr }).option, v, path);
    case "record":
      return record((t as { record: Record<string, TypeExpr> }).record, v, path);
    case "variant":
      return variant((t as { variant: Record<string, TypeExpr> }).variant, v, path);
    case "list": {
      if (!Array.isArray(v)) throw mismatch("a list (JSON array)", v, path);
      const elem = (t as { list: TypeExpr }).list;
      return v.map((x, i) => canon(elem, x, [...path, i]));
    }
    case "set": {
      if (!Array.isArray(v)) throw mismatch("a set (JSON array)", v, path);
      const elem = (t as { set: TypeExpr }).set;
      return sortedSet(v.map((x, i) => canon(elem, x, [...path, i])));
    }
    case "map":
      return map((t as { map: { key: TypeExpr; value: TypeExpr } }).map, v, path);
    case "unit":
      if (v === null || (isPlainObject(v) && Object.keys(v).length === 0)) return {};
      throw mismatch("unit ({} or null)", v, path);
    default:
      return scalar(tt, v, path);
  }
}

function scalar(tt: string, v: unknown, path: Path): CborValue {
  switch (tt) {
    case "bool":
      if (typeof v !== "boolean") throw mismatch("bool", v, path);
      return v;
    case "int":
      return integer(v, "int", "int", I64_MIN, I64_MAX, path);
    case "nat":
      return integer(v, "nat", "nat", 0n, U64_MAX, path);
    case "dec128": {
      const literal = literalText(v);
      if (literal !== undefined) return dec128Literal(literal, path);
      if (typeof v === "number" && Number.isFinite(v))
        return new CborTag(DEC128_TAG, encodeDec128(String(v), jsonPath(path)));
      if (typeof v === "bigint") return new CborTag(DEC128_TAG, encodeDec128(v.toString(), jsonPath(path)));
      if (typeof v !== "string") throw mismatch("dec128 (decimal string)", v, path);
      return new CborTag(DEC128_TAG, encodeDec128(v, jsonPath(path)));
    }
    case "bytes":
      if (v instanceof Uint8Array) return v;
      if (typeof v !== "string") throw mismatch("bytes (base64 string)", v, path);
      return parseBase64(v, path);
    case "text":
      if (typeof v !== "string") throw mismatch("text", v, path);
      return v;
    case "time":
      if (typeof v === "string" && !/^-?\d+$/.test(v)) return intValue(parseRfc3339(v, path));
      return integer(v, "time (ns)", "time", I64_MIN, I64_MAX, path);
    case "duration":
      return integer(v, "duration (ns)", "duration", I64_MIN, I64_MAX, path);
    case "hash":
      if (typeof v !== "string") throw mismatch("hash (sha256:<hex>)", v, path);
      return hashToBytes(v, jsonPath(path));
    case "uuid":
      if (typeof v !== "string") throw mismatch("uuid string", v, path);
      return parseUuid(v, path);
    default:
      throw new AirError("air.invalid_type", `cannot canonicalize type "${tt}" (unexpanded ref?)`, jsonPath(path));
  }
}

function record(fields: Record<string, TypeExpr>, v: unknown, path: Path): CborObject {
  if (!isPlainObject(v)) throw mismatch("a record (JSON object)", v, path);
  for (const k of Object.keys(v)) {
    if (!Object.hasOwn(fields, k))
      throw new AirError(
        "air.type_mismatch",
        `unknown field "${k}"; expected ${Object.keys(fields).join(", ") || "no fields"}`,
        jsonPath([...path, k]),
      );
  }
  const out: CborObject = {};
  for (const [k, ft] of Object.entries(fields)) {
    const present = Object.prototype.hasOwnProperty.call(v, k) && v[k] !== undefined;
    if (!present && !("option" in ft))
      throw new AirError("air.type_mismatch", `missing field "${k}"`, jsonPath([...path, k]));
    out[k] = present ? canon(ft, v[k], [...path, k]) : null;
  }
  return out;
}

function variant(alts: Record<string, TypeExpr>, v: unknown, path: Path): CborObject {
  let tag: string;
  let value: unknown;
  if (typeof v === "string") [tag, value] = [v, null];
  else if (isPlainObject(v) && "$tag" in v) [tag, value] = [String(v.$tag), v.$value ?? null];
  else if (isPlainObject(v) && Object.keys(v).length === 1) [tag, value] = [Object.keys(v)[0]!, Object.values(v)[0]];
  else throw mismatch(`a variant ({"Tag": value}); tags: ${Object.keys(alts).join(", ")}`, v, path);
  const at = Object.hasOwn(alts, tag) ? alts[tag] : undefined;
  if (!at)
    throw new AirError(
      "air.type_mismatch",
      `unknown variant tag "${tag}"; expected one of ${Object.keys(alts).join(", ")}`,
      jsonPath(path),
    );
  return { $tag: tag, $value: canon(at, value, [...path, tag]) };
}

function map(mt: { key: TypeExpr; value: TypeExpr }, v: unknown, path: Path): CborValue {
  const textKeys = "text" in mt.key;
  const pairs: [unknown, unknown][] = [];
  if (Array.isArray(v)) {
    v.forEach((p, i) => {
      if (Array.isArray(p) && p.length === 2) pairs.push([p[0], p[1]]);
      else if (isPlainObject(p) && "key" in p && "value" in p) pairs.push([p.key, p.value]);
      else throw mismatch("a [key, value] pair", p, [...path, i]);
    });
  } else if (isPlainObject(v) && textKeys) {
    for (const [k, x] of Object.entries(v)) pairs.push([k, x]);
  } else {
    throw mismatch(textKeys ? "a map (JSON object or [[key, value], ...])" : "a map as [[key, value], ...]", v, path);
  }
  const entries = pairs.map(([k, x], i) => {
    const key = canon(mt.key, k, [...path, i, "key"]);
    return { key, bytes: encodeCanonical(key), value: canon(mt.value, x, [...path, typeof k === "string" ? k : i]) };
  });
  entries.sort((a, b) => compareBytes(a.bytes, b.bytes));
  for (let i = 1; i < entries.length; i++) {
    if (compareBytes(entries[i - 1]!.bytes, entries[i]!.bytes) === 0)
      throw new AirError("air.type_mismatch", `duplicate map key ${String(pairs[i]![0])}`, jsonPath(path));
  }
  if (textKeys) {
    const out: CborObject = {};
    for (const e of entries) out[e.key as string] = e.value;
    return out;
  }
  return new Map(entries.map((e) => [e.key, e.value]));
}

function fromTaggedComposite(t: TypeExpr, body: unknown, path: Path): CborValue {
  if ("variant" in t) {
    if (!isPlainObject(body) || typeof body.tag !== "string") throw mismatch('{"tag": ..., "value": ...}', body, path);
    return variant(t.variant, { $tag: body.tag, $value: body.value ?? null }, path);
  }
  if ("map" in t && Array.isArray(body)) return map(t.map, body, path);
  return canon(t, body, path);
}

/** Deduplicates and sorts set elements by their canonical bytes. */
export function sortedSet(elems: CborValue[]): CborValue[] {
  const enc = elems.map((e) => ({ e, b: encodeCanonical(e) }));
  enc.sort((a, b) => compareBytes(a.b, b.b));
  const out: CborValue[] = [];
  for (let i = 0; i < enc.length; i++) if (i === 0 || compareBytes(enc[i - 1]!.b, enc[i]!.b) !== 0) out.push(enc[i]!.e);
  return out;
}
