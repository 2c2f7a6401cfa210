/**
 * @module A journal entry as JSON (`wk log --json`, the server's journal pages and stream):
 * body decoded, bytes as hex, big integers as decimal text.
 */
import { CborTag, type CborValue } from "../../air/cbor/value.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { toHex } from "../../air/hash.js";

/**
 * A decoded CBOR value as JSON-ready data: bytes as hex, bigints as decimal text, Maps as
 * [key, value] pairs, tags as {tag, value}. (A JSON.stringify replacer cannot do bytes:
 * Buffer's own toJSON runs first.)
 */
export function cborToJson(v: CborValue): unknown {
  if (v instanceof Uint8Array) return toHex(v);
  if (typeof v === "bigint") return v.toString();
  if (Array.isArray(v)) return v.map(cborToJson);
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [cborToJson(k), cborToJson(x)]);
  if (v instanceof CborTag) return { tag: v.tag, value: cborToJson(v.value) };
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cborToJson(x as CborValue)]));
  return v;
}

/** A journal entry as JSON: body decoded, bytes as hex, big integers as text. */
export function entryToJson(e: {
  seq: number;
  kind: string;
  body: Uint8Array;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}): Record<string, unknown> {
  let body: unknown;
  try {
    body = cborToJson(decodeStored(e.body));
  } catch (err) {
    body = { undecodable: toHex(e.body), error: (err as Error).message };
  }
  return { seq: e.seq, kind: e.kind, hash: toHex(e.hash), prev_hash: toHex(e.prev_hash), body };
}
