/**
 * @module Identities: `sha256:<hex>` over the stored form (55799 prefix + canonical CBOR).
 * Defs hash their canonical node; a typed value hashes together with its schema hash so
 * two schemas with the same shape never collide.
 */
import { createHash, hash as oneShot } from "node:crypto";
import { AirError } from "./errors.js";
import { encodeStored } from "./cbor/encode.js";
import { SELF_DESCRIBE_PREFIX, type CborValue } from "./cbor/value.js";

/** A content identity as text: `sha256:` and 64 lowercase hex digits. */
export type HashText = `sha256:${string}`;

/** The text form of a content hash. */
export const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

// Node 20's one-shot crypto.hash returning a latin1 or hex string costs a third of
// createHash().update().digest() for small inputs; its "buffer" output is as slow as the
// latter. A "binary" (latin1) string maps each byte to one char, so copying the chars back is exact.
// Measured by tools/bench/cbor.bench.ts ("sha256 of a journal-sized body").

/** Raw SHA-256 of some bytes (a Buffer, as SQLite reads give them back). */
export function sha256(bytes: Uint8Array): Uint8Array {
  const s = oneShot("sha256", bytes, "binary");
  // Pooled, so off-heap: handing a fresh on-heap 32-byte array to native code (an SQLite
  // bind) makes V8 move it off-heap first, which cost more than the hash.
  const out = Buffer.allocUnsafe(32);
  for (let i = 0; i < 32; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** `sha256:<hex>` of some bytes. */
export function hashBytes(bytes: Uint8Array): HashText {
  return `sha256:${oneShot("sha256", bytes, "hex")}`;
}

// Small canonical items are copied behind the prefix and hashed in one shot; large ones stream.
const STREAM_FROM = 1 << 16;
let prefixed = new Uint8Array(4096);
prefixed.set(SELF_DESCRIBE_PREFIX);

/** `sha256:<hex>` of the stored form of already-canonical bytes (no re-encoding). */
export function hashCanonical(canonical: Uint8Array): HashText {
  const n = SELF_DESCRIBE_PREFIX.length + canonical.length;
  if (n > STREAM_FROM)
    return `sha256:${createHash("sha256").update(SELF_DESCRIBE_PREFIX).update(canonical).digest("hex")}`;
  if (n > prefixed.length) {
    prefixed = new Uint8Array(STREAM_FROM);
    prefixed.set(SELF_DESCRIBE_PREFIX);
  }
  prefixed.set(canonical, SELF_DESCRIBE_PREFIX.length);
  return hashBytes(prefixed.subarray(0, n));
}

/** `sha256:<hex>` of a value's stored canonical form. */
export function hashValue(v: CborValue): HashText {
  return hashBytes(encodeStored(v));
}

/** Identity of a typed value: the canonical value bound to its schema hash. */
export function hashTypedValue(schemaHash: HashText, value: CborValue): HashText {
  return hashValue({ schema: hashToBytes(schemaHash), value });
}

/** The 32 raw bytes of a `sha256:<hex>` text. */
export function hashToBytes(h: string, path = "$"): Uint8Array {
  if (!HASH_PATTERN.test(h)) throw new AirError("air.type_mismatch", `"${h}" is not a sha256:<64 hex> hash`, path);
  return Uint8Array.from(Buffer.from(h.slice(7), "hex"));
}

/** `sha256:<hex>` text of 32 raw bytes. */
export function bytesToHash(b: Uint8Array): HashText {
  if (b.length !== 32) throw new AirError("air.type_mismatch", `a hash has 32 bytes, got ${b.length}`);
  return `sha256:${Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex")}`;
}

/** Lowercase hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");
}

/** Bytes of a hex string (even length, hex digits only). */
export function fromHex(hex: string, path = "$"): Uint8Array {
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(hex)) throw new AirError("air.type_mismatch", "not a hex string", path);
  return Uint8Array.from(Buffer.from(hex, "hex"));
}
