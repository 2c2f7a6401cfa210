/**
 * @module The offline receipt bundle (`worldkernel.receipt-bundle/1`): one effect_receipt
 * journal entry, optionally its payload, a Merkle inclusion proof of the entry under a
 * checkpoint, and that checkpoint signed by the world key — everything a third party needs
 * to check a receipt with nothing but this JSON and (optionally) a pinned world key.
 * No SQLite, no WASM: only zod, @noble/hashes and the AIR CBOR helpers.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { encodeCanonical, encodeStored, HASH_PATTERN, type CborValue, type HashText } from "../../air/index.js";

/** The format tag of version 1 bundles. */
export const BUNDLE_FORMAT = "worldkernel.receipt-bundle/1";

const hex = z.string().regex(/^(?:[0-9a-f]{2})*$/, "lowercase hex");
const hexN = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${2 * n}}$`), `${n} bytes of lowercase hex`);
const seqNum = z.number().int().nonnegative();
const hashText = z.string().regex(HASH_PATTERN, "must be sha256:<64 hex>");

/** The JSON shape of a bundle. */
export const ReceiptBundleSchema = z.strictObject({
  format: z.literal(BUNDLE_FORMAT),
  world_id: z.string().min(1),
  world_public_key: hexN(32),
  entry: z.strictObject({ seq: seqNum, kind: z.literal("effect_receipt"), body_cbor: hex, prev_hash: hexN(32), hash: hexN(32) }),
  payload_cbor: hex.optional(),
  inclusion: z.strictObject({ leaf_index: seqNum, tree_size: seqNum, path: z.array(hexN(32)) }),
  checkpoint: z.strictObject({
    seq: seqNum,
    tree_size: seqNum,
    root: hexN(32),
    head_hash: hexN(32),
    state_root: hashText,
    manifest_hash: hashText,
    signature: hexN(64),
  }),
});
export type ReceiptBundle = z.infer<typeof ReceiptBundleSchema>;

/**
 * The journal's entry hash, recomputed with @noble/hashes (same formula as
 * kernel/journal/entry-hash.ts, cross-checked in test/receipts):
 * sha256(prev_hash(32) ‖ u64be seq ‖ u8 len(kind) ‖ kind ‖ body).
 */
export function bundleEntryHash(prevHash: Uint8Array, seq: number, kind: string, body: Uint8Array): Uint8Array {
  const k = new TextEncoder().encode(kind);
  if (k.length > 255 || prevHash.length !== 32) throw new RangeError("bad entry framing");
  const buf = new Uint8Array(32 + 8 + 1 + k.length + body.length);
  buf.set(prevHash, 0);
  new DataView(buf.buffer).setBigUint64(32, BigInt(seq));
  buf[40] = k.length;
  buf.set(k, 41);
  buf.set(body, 41 + k.length);
  return sha256(buf);
}

/** The checkpoint fields the world key signs. */
export interface SignedCheckpointFields {
  tree_size: number;
  root: Uint8Array;
  head_hash: Uint8Array;
  state_root: HashText | string;
  manifest_hash: HashText | string;
}

/**
 * The bytes a checkpoint signature covers: canonical CBOR (no 55799 prefix) of the five
 * fields — exactly kernel/journal/checkpoint.ts `checkpointPayload`, pinned by a test.
 */
export function checkpointSigningPayload(f: SignedCheckpointFields): Uint8Array {
  return encodeCanonical({ tree_size: f.tree_size, root: f.root, head_hash: f.head_hash, state_root: f.state_root, manifest_hash: f.manifest_hash });
}

/** What an exporter gathers from the journal to make a bundle (bytes, not hex). */
export interface BundleInput {
  worldId: string;
  worldPublicKey: Uint8Array;
  entry: { seq: number; body: Uint8Array; prevHash: Uint8Array; hash: Uint8Array };
  /** The receipt payload, included as stored CBOR when given. */
  payload?: CborValue;
  inclusion: { leafIndex: number; treeSize: number; path: readonly Uint8Array[] };
  checkpoint: SignedCheckpointFields & { seq: number; signature: Uint8Array };
}

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** Assembles a bundle from journal data (validated against the schema on the way out). */
export function buildBundle(i: BundleInput): ReceiptBundle {
  const c = i.checkpoint;
  return ReceiptBundleSchema.parse({
    format: BUNDLE_FORMAT,
    world_id: i.worldId,
    world_public_key: toHex(i.worldPublicKey),
    entry: { seq: i.entry.seq, kind: "effect_receipt", body_cbor: toHex(i.entry.body), prev_hash: toHex(i.entry.prevHash), hash: toHex(i.entry.hash) },
    ...(i.payload === undefined ? {} : { payload_cbor: toHex(encodeStored(i.payload)) }),
    inclusion: { leaf_index: i.inclusion.leafIndex, tree_size: i.inclusion.treeSize, path: i.inclusion.path.map(toHex) },
    checkpoint: { seq: c.seq, tree_size: c.tree_size, root: toHex(c.root), head_hash: toHex(c.head_hash), state_root: c.state_root, manifest_hash: c.manifest_hash, signature: toHex(c.signature) },
  });
}
