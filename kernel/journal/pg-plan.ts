/**
 * @module The client half of a PostgreSQL append: from the writer's tip (head hash, Merkle
 * frontier, genesis key) and the items, build every row the append writes — entries chained
 * with entry-hash.ts, completed Merkle nodes, receipt and ingress-key index rows, and an
 * automatic checkpoint when the batch crosses the cadence — with the same checks, in the
 * same order, as the SQLite store. The plan works on a copy; the tip moves only on commit.
 */
import { encodeStored } from "../../air/cbor/encode.js";
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import { bytesEqual } from "../crypto/merkle-verify.js";
import type { KeyPair } from "../crypto/keys.js";
import { signCheckpoint, verifyCheckpointSignature, type StateProvider, type StateRefs } from "./checkpoint.js";
import {
  parseEntryBody,
  type CheckpointBody,
  type EntryKind,
  type GenesisBody,
  type KeysBody,
  type SnapshotBody,
} from "./entries.js";
import { entryHash, entryLeafHash } from "./entry-hash.js";
import { JournalError } from "./errors.js";
import { verifyKeysSignature } from "./keys-entry.js";
import type { MerkleFrontier } from "./merkle.js";
import { nodeKey, STORED_NODE_LEVEL } from "./sqlite-merkle.js";
import { indexRowsOf } from "./sqlite-store.js";
import type { AppendInput, Appended } from "./store.js";

/** What the writer knows about its world between appends. */
export interface Tip {
  tree: MerkleFrontier;
  head: Uint8Array;
  genesis: GenesisBody | undefined;
  /** The latest snapshot's refs (the default checkpoint state), once known. */
  state: StateRefs | undefined;
}

/** Every row of one append, in the shape the append function takes (parallel arrays). */
export interface Batch {
  first: number;
  prev: Uint8Array;
  kinds: string[];
  bodies: Uint8Array[];
  hashes: Uint8Array[];
  nodes: number[];
  nodeHashes: Uint8Array[];
  receipts: string[];
  receiptSeqs: number[];
  ingress: string[];
  ingressSeqs: number[];
  ingressRequests: string[];
  appended: Appended[];
  /** The entries as values, the automatic checkpoint included (what a mirror appends after the commit). */
  items: AppendInput[];
  /** The tip after the batch commits. */
  next: Tip;
}

/** How the writer checkpoints on its own (the SQLite store's checkpointEvery). */
export interface AutoCheckpoint {
  every: number | undefined;
  signer: KeyPair | undefined;
  state: StateProvider;
}

/** Builds the rows of `items` on top of `tip`; throws the SQLite store's typed errors. */
export function planAppend(tip: Tip, items: readonly AppendInput[], auto: AutoCheckpoint, where: string): Batch {
  items.forEach((it, i) => parseEntryBody(it.kind, it.body, tip.tree.size + i));
  const next: Tip = { tree: tip.tree.clone(), head: tip.head, genesis: tip.genesis, state: tip.state };
  const b: Batch = {
    first: tip.tree.size,
    prev: tip.head,
    kinds: [],
    bodies: [],
    hashes: [],
    nodes: [],
    nodeHashes: [],
    receipts: [],
    receiptSeqs: [],
    ingress: [],
    ingressSeqs: [],
    ingressRequests: [],
    appended: [],
    items: [],
    next,
  };
  const before = next.tree.size;
  for (const it of items) writeOne(b, it.kind, it.body, where, auto.signer);
  const every = auto.every;
  if (every !== undefined && Math.floor(before / every) !== Math.floor(next.tree.size / every)) {
    const body = signCheckpoint(
      { tree_size: next.tree.size, root: next.tree.root(), head_hash: next.head, ...auto.state() },
      auto.signer!,
    );
    parseEntryBody("checkpoint", body, next.tree.size);
    writeOne(b, "checkpoint", body, where, auto.signer);
  }
  return b;
}

/** The genesis world key; a key that is not it would sign checkpoints that fail verification. */
export function checkSigner(signer: KeyPair | undefined, worldKey: Uint8Array, where: string): void {
  if (signer !== undefined && !bytesEqual(signer.publicKey, worldKey))
    throw new JournalError("journal.wrong_key", "the signing key is not this world's key (genesis world_public_key)", {
      path: where,
      expected: Buffer.from(worldKey).toString("hex"),
      actual: signer.publicKeyHex,
    });
}

function genesisOf(t: Tip, where: string): GenesisBody {
  if (t.genesis === undefined)
    throw new JournalError("journal.bad_sequence", "journal has no genesis", { path: where });
  return t.genesis;
}

function writeOne(b: Batch, kind: EntryKind, value: CborValue, where: string, signer: KeyPair | undefined): void {
  const t = b.next;
  const seq = t.tree.size;
  if ((seq === 0) !== (kind === "genesis"))
    throw new JournalError(
      "journal.bad_sequence",
      seq === 0 ? `the first entry must be genesis, not ${kind}` : "genesis may only be the first entry",
      { seq, kind },
    );
  if (kind === "checkpoint") checkCheckpoint(t, value as CheckpointBody, seq, where);
  if (kind === "keys") {
    const g = genesisOf(t, where);
    if (!verifyKeysSignature(value as KeysBody, g.world_id, seq, g.world_public_key))
      throw new JournalError("journal.bad_body", "keys entry: signature does not verify with the world key", {
        seq,
        kind,
      });
  }
  if (kind === "genesis") checkSigner(signer, (value as GenesisBody).world_public_key, where);
  const body = encodeStored(value);
  const hash = entryHash(t.head, seq, kind, body);
  b.kinds.push(kind);
  b.bodies.push(body);
  b.hashes.push(hash);
  const rows = indexRowsOf(kind, value);
  if (rows.receipt !== undefined) {
    const prior = b.receipts.indexOf(rows.receipt);
    if (prior >= 0)
      throw new JournalError(
        "journal.duplicate_receipt",
        `intent ${rows.receipt} already has its receipt at seq ${b.receiptSeqs[prior]}`,
        { seq, path: where },
      );
    b.receipts.push(rows.receipt);
    b.receiptSeqs.push(seq);
  }
  if (rows.ingressKey !== undefined) {
    const prior = b.ingress.indexOf(rows.ingressKey.key);
    if (prior >= 0)
      throw new JournalError(
        "journal.duplicate_ingress",
        `idempotency key ${JSON.stringify(rows.ingressKey.key)} already names the event at seq ${b.ingressSeqs[prior]}`,
        { seq, path: where },
      );
    b.ingress.push(rows.ingressKey.key);
    b.ingressSeqs.push(seq);
    b.ingressRequests.push(rows.ingressKey.requestHash);
  }
  t.tree.append(entryLeafHash(hash), (level, index, node) => {
    if (level < STORED_NODE_LEVEL) return;
    b.nodes.push(nodeKey(level, index));
    b.nodeHashes.push(node);
  });
  t.head = hash;
  if (kind === "genesis") t.genesis = value as GenesisBody;
  if (kind === "snapshot")
    t.state = {
      state_root: (value as SnapshotBody).state_root as HashText,
      manifest_hash: (value as SnapshotBody).manifest_hash as HashText,
    };
  b.appended.push({ seq, kind, hash });
  b.items.push({ kind, body: value });
}

/** A checkpoint must attest exactly the entries before it and carry the world key's signature. */
function checkCheckpoint(t: Tip, body: CheckpointBody, seq: number, where: string): void {
  const fail = (what: string): never => {
    throw new JournalError("journal.bad_body", `checkpoint ${what}`, { seq, kind: "checkpoint" });
  };
  if (body.tree_size !== seq) fail(`tree_size ${body.tree_size} must equal its seq ${seq}`);
  if (!bytesEqual(body.head_hash, t.head)) fail("head_hash is not the hash of the previous entry");
  if (!bytesEqual(body.root, t.tree.root())) fail("root is not the Merkle root of the entries before it");
  if (!verifyCheckpointSignature(body, genesisOf(t, where).world_public_key))
    fail("signature does not verify with the world key");
}
