/**
 * @module An `mcp.call`'s arguments: the intent carries them as `bytes`, the canonical CBOR of
 * a text-keyed map, because AIR has no type for "any JSON value" and a byte string keeps the
 * params canonical (one encoding per value, so one intent id). The gate (mcp-v1) refuses bytes
 * that are not canonical or have no JSON form — a byte string, a tag (dec128 included), an
 * integer past 2^53, NaN or an infinity — so what the adapter sends is exactly what was
 * journaled. Policy conditions see the decoded map (`conditionView`). Pure.
 */
import { decodeCanonical } from "../../../air/cbor/decode.js";
import { CborTag, isCborObject, type CborValue } from "../../../air/cbor/value.js";
import { jsonPath } from "../../../air/errors.js";

/** A JSON value as the MCP SDK sends it. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** The arguments as a JSON object, or why the bytes cannot be sent. */
export type ReadArguments = { ok: true; value: { [k: string]: Json } } | { ok: false; message: string };

/** Decodes and checks an `mcp.call`'s arguments bytes. */
export function readArguments(bytes: Uint8Array): ReadArguments {
  let v: CborValue;
  try {
    v = decodeCanonical(bytes);
  } catch (e) {
    return { ok: false, message: `arguments are not canonical CBOR: ${(e as Error).message}` };
  }
  if (!isCborObject(v)) return { ok: false, message: "arguments must be a map with text keys (a JSON object)" };
  try {
    return { ok: true, value: toJson(v, []) as { [k: string]: Json } };
  } catch (e) {
    if (e instanceof NoJson) return { ok: false, message: e.message };
    throw e;
  }
}

class NoJson {
  constructor(readonly message: string) {}
}

function toJson(v: CborValue, path: (string | number)[]): Json {
  const at = () => `arguments${jsonPath(path).slice(1)}`;
  if (v === null || typeof v === "boolean" || typeof v === "string") return v;
  if (typeof v === "number") {
    if (!Number.isFinite(v)) throw new NoJson(`${at()}: ${v} has no JSON form`);
    return v;
  }
  if (typeof v === "bigint")
    throw new NoJson(`${at()}: ${v} is beyond 2^53, which JSON numbers do not carry exactly (send it as text)`);
  if (v instanceof Uint8Array) throw new NoJson(`${at()}: a byte string has no JSON form (send base64 text)`);
  if (Array.isArray(v)) return v.map((x, i) => toJson(x, [...path, i]));
  if (v instanceof CborTag)
    throw new NoJson(`${at()}: CBOR tag ${v.tag} has no JSON form (send a decimal as a float or as text)`);
  if (isCborObject(v))
    // fromEntries defines own properties, so a `__proto__` key stays a key.
    return Object.fromEntries(Object.keys(v).map((k) => [k, toJson(v[k]!, [...path, k])]));
  throw new NoJson(`${at()}: a map whose keys are not text has no JSON form`);
}

/**
 * What a policy condition sees of an `mcp.call`'s params (mcp-v1): `arguments` decoded to its
 * map, with each float as its shortest decimal text (`0.5` reads `"0.5"`; CEL sees integers
 * only, and a double compared as one would round), like a `dec128`. Params whose arguments do
 * not decode are left as they are (the gate has denied them before any policy runs).
 */
export function conditionView(kind: string, params: CborValue): CborValue {
  if (kind !== "mcp.call" || !isCborObject(params) || !(params.arguments instanceof Uint8Array)) return params;
  const read = readArguments(params.arguments);
  if (!read.ok) return params;
  return { ...params, arguments: floatsAsText(read.value) };
}

function floatsAsText(v: Json): CborValue {
  if (typeof v === "number") return Number.isInteger(v) ? v : String(v);
  if (Array.isArray(v)) return v.map(floatsAsText);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.keys(v).map((k) => [k, floatsAsText(v[k]!)]));
  return v;
}
