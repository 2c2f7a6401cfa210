/**
 * @module Redaction of resolved secrets from everything an adapter records: an upstream that
 * echoes a secret back (in a body, a header, an error) must not get it into a receipt or the
 * CAS. Each secret is searched for as its raw UTF-8 bytes and in the encodings an echo
 * commonly uses — JSON string escaping, URL (percent and form) encoding, hex (either case),
 * base64 and base64url at each of the three byte alignments it can sit at inside a longer
 * encoded value — and replaced with the marker `[secret:NAME]`. What it cannot see: other
 * transformations (encryption, hashing, compression, splitting, other case or escape forms).
 */
import type { CborValue } from "../../../air/cbor/value.js";
import { CborTag, isCborObject } from "../../../air/cbor/value.js";
import type { ResolvedSecret } from "./access.js";

/** Replaces every known encoding of the resolved secrets with `[secret:NAME]`. */
export interface Redactor {
  /** True when there is nothing to redact (no secret was resolved). */
  readonly empty: boolean;
  bytes(b: Uint8Array): Uint8Array;
  text(s: string): string;
  /** A CBOR value with every text and byte string redacted (map keys too). */
  value(v: CborValue): CborValue;
}

/** The redacted forms an echo of `value` may take; every pattern non-empty, longest first. */
export function secretEncodings(value: string): string[] {
  const raw = Buffer.from(value, "utf8");
  const forms = new Set<string>([value]);
  const json = JSON.stringify(value).slice(1, -1);
  forms.add(json);
  forms.add(json.replace(/\//g, "\\/"));
  forms.add(json.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
  const pct = encodeURIComponent(value);
  forms.add(pct);
  forms.add(pct.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()));
  forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  forms.add(encodeURI(value));
  const hex = raw.toString("hex");
  forms.add(hex);
  forms.add(hex.toUpperCase());
  for (const core of base64Cores(raw)) {
    forms.add(core);
    forms.add(core.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return [...forms].filter((f) => f.length > 0).sort((a, b) => b.length - a.length);
}

/**
 * The base64 characters that depend on `raw` alone, for each of the three offsets (mod 3)
 * it can start at inside a longer encoded string: the edge characters, which mix in
 * neighbouring bytes, are left out (they leak under 6 bits each).
 */
function base64Cores(raw: Buffer): string[] {
  const out: string[] = [];
  for (let s = 0; s < 3; s++) {
    const enc = Buffer.concat([Buffer.alloc(s), raw]).toString("base64");
    const from = Math.ceil((8 * s) / 6);
    const to = Math.floor((8 * (s + raw.length)) / 6);
    if (to > from) out.push(enc.slice(from, to));
  }
  return out;
}

/** A redactor for the secrets resolved for one request. */
export function redactor(secrets: readonly ResolvedSecret[]): Redactor {
  const patterns = secrets
    .flatMap((s) =>
      secretEncodings(s.value).map((f) => ({ find: Buffer.from(f, "utf8"), marker: `[secret:${s.name}]` })),
    )
    .sort((a, b) => b.find.length - a.find.length);
  const bytes = (b: Uint8Array): Uint8Array => {
    let buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    let changed = false;
    for (const p of patterns) {
      let at = buf.indexOf(p.find);
      if (at < 0) continue;
      const parts: Buffer[] = [];
      let from = 0;
      const marker = Buffer.from(p.marker, "utf8");
      while (at >= 0) {
        parts.push(buf.subarray(from, at), marker);
        from = at + p.find.length;
        at = buf.indexOf(p.find, from);
      }
      parts.push(buf.subarray(from));
      buf = Buffer.concat(parts);
      changed = true;
    }
    return changed ? new Uint8Array(buf) : b;
  };
  const text = (s: string): string =>
    patterns.length === 0 ? s : Buffer.from(bytes(Buffer.from(s, "utf8"))).toString("utf8");
  const value = (v: CborValue): CborValue => {
    if (typeof v === "string") return text(v);
    if (v instanceof Uint8Array) return bytes(v);
    if (Array.isArray(v)) return v.map(value);
    if (v instanceof Map) return new Map([...v].map(([k, x]) => [value(k), value(x)]));
    if (v instanceof CborTag) return new CborTag(v.tag, value(v.value));
    if (isCborObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [text(k), value(x)]));
    return v;
  };
  return { empty: patterns.length === 0, bytes, text, value };
}
