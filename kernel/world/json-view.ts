/**
 * @module A JSON view of CBOR values for people and `--json` output: bytes as hex,
 * big integers as decimal strings, typed maps as [key, value] pairs, tags as {tag, value}.
 */
import { CborRaw, CborTag, isCborObject, type CborValue } from "../../air/cbor/value.js";
import { toHex } from "../../air/hash.js";

/** Converts a CBOR value into plain JSON data. */
export function jsonView(v: CborValue): unknown {
  if (v === null || typeof v === "boolean" || typeof v === "number" || typeof v === "string") return v;
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return toHex(v);
  if (Array.isArray(v)) return v.map(jsonView);
  if (v instanceof Map) return [...v.entries()].map(([k, x]) => [jsonView(k), jsonView(x)]);
  if (v instanceof CborTag) return { tag: v.tag, value: jsonView(v.value) };
  if (v instanceof CborRaw) return toHex(v.bytes);
  if (isCborObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = jsonView(x);
    return out;
  }
  return String(v);
}
