/**
 * @module The entry hash that chains the journal:
 * sha256(prev_hash(32) ‖ u64be seq ‖ u8 len(kind) ‖ kind UTF-8 ‖ body), body being the
 * stored canonical CBOR (d9d9f7 ‖ canonical item). Fixed-width seq and a length-prefixed
 * kind keep the framing unambiguous. Pinned by test/vectors/journal-entries.json.
 */
import { sha256 as sha } from "../../air/hash.js";

/** prev_hash of the genesis entry (seq 0). */
export const ZERO_HASH: Uint8Array = new Uint8Array(32);

const kindHeaders = new Map<string, Buffer>();

function kindHeader(kind: string): Buffer {
  let h = kindHeaders.get(kind);
  if (h === undefined) {
    const k = Buffer.from(kind, "utf8");
    if (k.length > 255) throw new RangeError("entry kind longer than 255 bytes");
    h = Buffer.concat([Buffer.of(k.length), k]);
    kindHeaders.set(kind, h);
  }
  return h;
}

// One-shot hashing of one buffer beats createHash().update()… for inputs this small;
// the copies into a scratch buffer cost far less than that.
let scratch = new Uint8Array(4096);

/** The bytes `entryHash` hashes: prev_hash ‖ u64be seq ‖ u8 len(kind) ‖ kind ‖ body; the length needed for them. */
export function entryPreimageLength(kind: string, body: Uint8Array): number {
  return 40 + kindHeader(kind).length + body.length;
}

/** Writes an entry's hash preimage into `into` at `at` (room for `entryPreimageLength`); returns its length. */
export function writeEntryPreimage(
  into: Uint8Array,
  at: number,
  prevHash: Uint8Array,
  seq: number,
  kind: string,
  body: Uint8Array,
): number {
  if (prevHash.length !== 32) throw new RangeError(`prev_hash has ${prevHash.length} bytes, not 32`);
  const k = kindHeader(kind);
  into.set(prevHash, at);
  // u64 big-endian without BigInt: seqs are safe integers (< 2^53).
  const hi = Math.floor(seq / 0x100000000);
  const lo = seq >>> 0;
  into[at + 32] = hi >>> 24;
  into[at + 33] = (hi >>> 16) & 0xff;
  into[at + 34] = (hi >>> 8) & 0xff;
  into[at + 35] = hi & 0xff;
  into[at + 36] = lo >>> 24;
  into[at + 37] = (lo >>> 16) & 0xff;
  into[at + 38] = (lo >>> 8) & 0xff;
  into[at + 39] = lo & 0xff;
  into.set(k, at + 40);
  into.set(body, at + 40 + k.length);
  return 40 + k.length + body.length;
}

/** The hash of one entry given its predecessor's hash (all zero for seq 0). */
export function entryHash(prevHash: Uint8Array, seq: number, kind: string, body: Uint8Array): Uint8Array {
  const n = entryPreimageLength(kind, body);
  if (n > scratch.length) scratch = new Uint8Array(Math.max(n, scratch.length * 2));
  writeEntryPreimage(scratch, 0, prevHash, seq, kind, body);
  return sha(new Uint8Array(scratch.buffer, 0, n));
}

const leafBuf = new Uint8Array(33);

/** The Merkle leaf hash of an entry: sha256(0x00 ‖ entry hash) (node:crypto, hot path). */
export function entryLeafHash(hash: Uint8Array): Uint8Array {
  leafBuf.set(hash, 1);
  return sha(leafBuf);
}

const nodeBuf = new Uint8Array(65).fill(1, 0, 1);

/** A Merkle interior node hash with node:crypto (same bytes as merkle-verify's nodeHash). */
export function fastNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  nodeBuf.set(left, 1);
  nodeBuf.set(right, 33);
  return sha(nodeBuf);
}
