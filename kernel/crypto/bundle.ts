/**
 * @module The offline receipt bundle (`worldkernel.receipt-bundle/1`): one effect_receipt
 * journal entry, optionally its payload, a Merkle inclusion proof of the entry under a
 * checkpoint, and that checkpoint signed by the world key — everything a third party needs
 * to check a receipt with nothing but this JSON and (optionally) a pinned world key.
 * No SQLite, no WASM: only zod, @noble/hashes and the AIR CBOR helpers.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
// Leaf modules of air (not its index): the offline verifier must not load the AIR loader.
import { decodeStored } from "../../air/cbor/decode.js";
import { encodeStored } from "../../air/cbor/encode.js";
import type { CborValue } from "../../air/cbor/value.js";
import { HASH_PATTERN } from "../../air/hash.js";
import type { SignedCheckpointFields } from "./checkpoint-payload.js";

/** The format tag of bundles this kernel writes (2: with the adapter-key declaration). */
export const BUNDLE_FORMAT = "worldkernel.receipt-bundle/2";
/** Version 1 bundles carry no key declaration; they verify only with a pinned adapter key. */
export const BUNDLE_FORMAT_V1 = "worldkernel.receipt-bundle/1";

const hex = z.string().regex(/^(?:[0-9a-f]{2})*$/, "lowercase hex");
const hexN = (n: number) => z.string().regex(new RegExp(`^[0-9a-f]{${2 * n}}$`), `${n} bytes of lowercase hex`);
const seqNum = z.number().int().nonnegative();
const hashText = z.string().regex(HASH_PATTERN, "must be sha256:<64 hex>");

const entryJson = <K extends z.ZodType<string>>(kind: K) =>
  z.strictObject({ seq: seqNum, kind, body_cbor: hex, prev_hash: hexN(32), hash: hexN(32) });
const inclusionJson = z.strictObject({ leaf_index: seqNum, tree_size: seqNum, path: z.array(hexN(32)) });

/**
 * The entry that declared the adapter keys in force at the receipt's seq (genesis, or the
 * latest `keys` rotation before it), proven under the same checkpoint as the receipt.
 */
export const KeyDeclarationSchema = z.strictObject({
  entry: entryJson(z.enum(["genesis", "keys"])),
  inclusion: inclusionJson,
});

/** The JSON shape of a bundle. */
export const ReceiptBundleSchema = z.strictObject({
  format: z.union([z.literal(BUNDLE_FORMAT), z.literal(BUNDLE_FORMAT_V1)]),
  world_id: z.string().min(1),
  world_public_key: hexN(32),
  entry: entryJson(z.literal("effect_receipt")),
  payload_cbor: hex.optional(),
  inclusion: inclusionJson,
  declaration: KeyDeclarationSchema.optional(),
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

export { checkpointSigningPayload, type SignedCheckpointFields } from "./checkpoint-payload.js";

/** What an exporter gathers from the journal to make a bundle (bytes, not hex). */
export interface BundleInput {
  worldId: string;
  worldPublicKey: Uint8Array;
  entry: { seq: number; body: Uint8Array; prevHash: Uint8Array; hash: Uint8Array };
  /** The receipt payload, included as stored CBOR when given. */
  payload?: CborValue;
  inclusion: { leafIndex: number; treeSize: number; path: readonly Uint8Array[] };
  checkpoint: SignedCheckpointFields & { seq: number; signature: Uint8Array };
  declaration: { entry: BundleSourceEntry; path: readonly Uint8Array[] };
}

const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString("hex");

/** Assembles a bundle from journal data (validated against the schema on the way out). */
export function buildBundle(i: BundleInput): ReceiptBundle {
  const c = i.checkpoint;
  return ReceiptBundleSchema.parse({
    format: BUNDLE_FORMAT,
    world_id: i.worldId,
    world_public_key: toHex(i.worldPublicKey),
    entry: {
      seq: i.entry.seq,
      kind: "effect_receipt",
      body_cbor: toHex(i.entry.body),
      prev_hash: toHex(i.entry.prevHash),
      hash: toHex(i.entry.hash),
    },
    ...(i.payload === undefined ? {} : { payload_cbor: toHex(encodeStored(i.payload)) }),
    inclusion: {
      leaf_index: i.inclusion.leafIndex,
      tree_size: i.inclusion.treeSize,
      path: i.inclusion.path.map(toHex),
    },
    declaration: {
      entry: {
        seq: i.declaration.entry.seq,
        kind: i.declaration.entry.kind,
        body_cbor: toHex(i.declaration.entry.body),
        prev_hash: toHex(i.declaration.entry.prev_hash),
        hash: toHex(i.declaration.entry.hash),
      },
      inclusion: {
        leaf_index: i.declaration.entry.seq,
        tree_size: i.inclusion.treeSize,
        path: i.declaration.path.map(toHex),
      },
    },
    checkpoint: {
      seq: c.seq,
      tree_size: c.tree_size,
      root: toHex(c.root),
      head_hash: toHex(c.head_hash),
      state_root: c.state_root,
      manifest_hash: c.manifest_hash,
      signature: toHex(c.signature),
    },
  });
}

/** An entry as a journal store returns it (structurally a `JournalEntry`). */
export interface BundleSourceEntry {
  seq: number;
  kind: string;
  body: Uint8Array;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

/**
 * The journal reads an export needs; any `JournalStore` satisfies it structurally, so
 * this file stays free of SQLite (and of any import of kernel/journal).
 */
export interface BundleSource {
  get(seq: number): Promise<BundleSourceEntry | null>;
  iterate(fromSeq?: number, toSeq?: number): AsyncIterable<BundleSourceEntry>;
  inclusionProof(index: number, size?: number): Promise<Uint8Array[]>;
  /** The latest entry of a kind at or before a seq, when the store can find it without a scan. */
  latestOfKind?(kind: "keys", atOrBefore: number): BundleSourceEntry | null;
}

/** The entry declaring the adapter keys in force at `seq`: the latest `keys` rotation before it, else genesis. */
async function declarationAt(store: BundleSource, seq: number, genesis: BundleSourceEntry): Promise<BundleSourceEntry> {
  if (store.latestOfKind) return store.latestOfKind("keys", seq) ?? genesis;
  let found = genesis;
  for await (const e of store.iterate(1, seq)) if (e.kind === "keys") found = e;
  return found;
}

/** Why an export failed (the journal holds no such receipt, or no checkpoint covers it yet). */
export type ExportFailure = {
  ok: false;
  code: "not_found" | "not_a_receipt" | "no_genesis" | "no_checkpoint";
  message: string;
};

const asRecord = (v: CborValue): Record<string, CborValue> =>
  v !== null && typeof v === "object" && !Array.isArray(v) && !(v instanceof Uint8Array)
    ? (v as Record<string, CborValue>)
    : {};

/**
 * Exports the bundle of the effect_receipt at `seq`, proven under the first checkpoint that
 * covers it (append a checkpoint first when none does: `no_checkpoint`).
 */
export async function exportBundle(
  store: BundleSource,
  seq: number,
  opts: { includePayload?: boolean } = {},
): Promise<{ ok: true; bundle: ReceiptBundle } | ExportFailure> {
  const entry = await store.get(seq);
  if (entry === null) return { ok: false, code: "not_found", message: `no entry at seq ${seq}` };
  if (entry.kind !== "effect_receipt")
    return { ok: false, code: "not_a_receipt", message: `entry ${seq} is a ${entry.kind}, not an effect_receipt` };
  const genesis = await store.get(0);
  if (genesis === null || genesis.kind !== "genesis")
    return { ok: false, code: "no_genesis", message: "the journal has no genesis entry" };
  const g = asRecord(decodeStored(genesis.body));
  for await (const e of store.iterate(seq + 1)) {
    if (e.kind !== "checkpoint") continue;
    const c = asRecord(decodeStored(e.body));
    const size = Number(c.tree_size);
    if (!(size > seq)) continue;
    const body = asRecord(decodeStored(entry.body));
    const decl = await declarationAt(store, seq, genesis);
    return {
      ok: true,
      bundle: buildBundle({
        worldId: String(g.world_id),
        worldPublicKey: g.world_public_key as Uint8Array,
        entry: { seq, body: entry.body, prevHash: entry.prev_hash, hash: entry.hash },
        ...(opts.includePayload && body.payload !== undefined ? { payload: body.payload } : {}),
        inclusion: { leafIndex: seq, treeSize: size, path: await store.inclusionProof(seq, size) },
        checkpoint: {
          seq: e.seq,
          tree_size: size,
          root: c.root as Uint8Array,
          head_hash: c.head_hash as Uint8Array,
          state_root: String(c.state_root),
          manifest_hash: String(c.manifest_hash),
          signature: c.signature as Uint8Array,
        },
        declaration: { entry: decl, path: await store.inclusionProof(decl.seq, size) },
      }),
    };
  }
  return {
    ok: false,
    code: "no_checkpoint",
    message: `no checkpoint after seq ${seq} covers it yet; write one (wk checkpoint) and export again`,
  };
}

/** The seq of the effect_receipt for `intentId` (a linear scan), or null when it has none yet. */
export async function findReceiptSeq(store: Pick<BundleSource, "iterate">, intentId: string): Promise<number | null> {
  for await (const e of store.iterate(0)) {
    if (e.kind === "effect_receipt" && asRecord(decodeStored(e.body)).intent_id === intentId) return e.seq;
  }
  return null;
}
