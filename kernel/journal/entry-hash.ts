/**
 * @module The entry hash that chains the journal:
 * sha256(prev_hash(32) ‖ u64be seq ‖ u8 len(kind) ‖ kind UTF-8 ‖ body), body being the
 * stored canonical CBOR (d9d9f7 ‖ canonical item). Fixed-width seq and a length-prefixed
 * kind keep the framing unambiguous. Pinned by test/vectors/journal-entries.json.
 */
import { createHash } from "node:crypto";

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

const header = Buffer.alloc(40);

/** The hash of one entry given its predecessor's hash (all zero for seq 0). */
export function entryHash(prevHash: Uint8Array, seq: number, kind: string, body: Uint8Array): Uint8Array {
  header.set(prevHash, 0);
  header.writeBigUInt64BE(BigInt(seq), 32);
  return createHash("sha256").update(header).update(kindHeader(kind)).update(body).digest();
}

const leafPrefix = Buffer.of(0);

/** The Merkle leaf hash of an entry: sha256(0x00 ‖ entry hash) (node:crypto, hot path). */
export function entryLeafHash(hash: Uint8Array): Uint8Array {
  return createHash("sha256").update(leafPrefix).update(hash).digest();
}

const nodePrefix = Buffer.of(1);

/** A Merkle interior node hash with node:crypto (same bytes as merkle-verify's nodeHash). */
export function fastNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return createHash("sha256").update(nodePrefix).update(left).update(right).digest();
}
