/**
 * @module The append rules, once. From a writer's tip (head hash, Merkle frontier, genesis,
 * latest snapshot refs) and the items of one append, `planAppend` builds every row the
 * append writes — entries chained with entry-hash.ts, completed Merkle nodes, receipt and
 * ingress-key index rows, an automatic checkpoint when the batch crosses the cadence — and
 * the tip after it, or throws the typed refusal. Pure over its arguments (the tip is copied,
 * never changed; the checkpoint signer and state provider are the caller's): every store
 * executes the plan in one transaction and adopts `next` only on commit, and checks the
 * plan's index rows against the rows earlier appends left (SQLite by lookup, PostgreSQL by
 * primary key), since a plan cannot see them.
 */
import { encodeStored } from "../../air/cbor/encode.js";
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import { bytesEqual } from "../crypto/merkle-verify.js";
import type { KeyPair } from "../crypto/keys.js";
import {
  signCheckpoint,
  verifyCheckpointSignature,
  ZERO_STATE_ROOT,
  type StateProvider,
  type StateRefs,
} from "./checkpoint.js";
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
import { nodeKey, STORED_NODE_LEVEL, type MerkleFrontier, type NodeSink } from "./merkle.js";
import type { AppendInput, Appended } from "./store.js";

/** What a writer knows about its world between appends. */
export interface Tip {
  tree: MerkleFrontier;
  head: Uint8Array;
  genesis: GenesisBody | undefined;
  /** The latest snapshot's refs (the default state a checkpoint attests), undefined before the first. */
  state: StateRefs | undefined;
}

/** How a writer checkpoints on its own: every `every` entries, signed by `signer`, attesting `state` (default `tipState`). */
export interface AutoCheckpoint {
  every: number | undefined;
  signer: KeyPair | undefined;
  state: StateProvider | undefined;
}

/** Every row of one append (parallel arrays, the shape PostgreSQL's append function takes) and the tip after it. */
export interface AppendPlan {
  first: number;
  /** The hash before the first entry (its prev_hash). */
  prev: Uint8Array;
  kinds: EntryKind[];
  bodies: Uint8Array[];
  hashes: Uint8Array[];
  /** Completed perfect nodes at the stored levels, by `nodeKey` (one per 16 entries or so). */
  nodes: readonly number[];
  nodeHashes: readonly Uint8Array[];
  /** Receipt rows: intent id and the seq of its receipt. */
  receipts: readonly string[];
  receiptSeqs: readonly number[];
  /** Ingress-key rows: idempotency key, the seq of its event, its request hash. */
  ingress: readonly string[];
  ingressSeqs: readonly number[];
  ingressRequests: readonly string[];
  appended: Appended[];
  /** The entries as values, the automatic checkpoint included (what a mirror appends after the commit). */
  items: readonly AppendInput[];
  /** The tip once the append commits. */
  next: Tip;
}

type CborObjectLike = { origin?: unknown };

/**
 * The rows an entry adds to the store's derived indexes: the intent of a receipt (one
 * receipt per intent), the idempotency key of an ingress event. A rebuild from rows
 * (audit) derives them the same way.
 */
export function indexRowsOf(
  kind: string,
  value: unknown,
): { receipt?: string; ingressKey?: { key: string; requestHash: string } } {
  if (value === null || typeof value !== "object") return {};
  if (kind === "effect_receipt") {
    const id = (value as { intent_id?: unknown }).intent_id;
    return typeof id === "string" ? { receipt: id } : {};
  }
  if (kind === "event") {
    const k = ingressKeyOf(value as CborObjectLike);
    return k === null ? {} : { ingressKey: k };
  }
  return {};
}

/** The idempotency key an ingress event body carries (`origin.idempotency_key`), with its request hash. */
export function ingressKeyOf(body: CborObjectLike): { key: string; requestHash: string } | null {
  const o = body.origin as { kind?: unknown; idempotency_key?: unknown; request_hash?: unknown } | undefined;
  if (o === undefined || o === null || o.kind !== "ingress" || typeof o.idempotency_key !== "string") return null;
  return { key: o.idempotency_key, requestHash: String(o.request_hash) };
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

/** The state a checkpoint attests by default: the latest snapshot's, else genesis's manifest with the zero state root. */
export function tipState(t: Tip, where: string): StateRefs {
  return t.state ?? { state_root: ZERO_STATE_ROOT, manifest_hash: genesisOf(t, where).manifest_hash as HashText };
}

/** A checkpoint over every entry of `t`, signed by `key`. */
export function tipCheckpoint(t: Tip, key: KeyPair, refs: StateRefs): CheckpointBody {
  return signCheckpoint({ tree_size: t.tree.size, root: t.tree.root(), head_hash: t.head, ...refs }, key);
}

/** Builds every row of appending `items` to `tip`; throws the typed refusal, leaving `tip` as it was. */
export function planAppend(tip: Tip, items: readonly AppendInput[], auto: AutoCheckpoint, where: string): AppendPlan {
  for (let i = 0; i < items.length; i++) parseEntryBody(items[i]!.kind, items[i]!.body, tip.tree.size + i);
  const next: Tip = { tree: tip.tree.clone(), head: tip.head, genesis: tip.genesis, state: tip.state };
  const p: AppendPlan = {
    first: tip.tree.size,
    prev: tip.head,
    kinds: [],
    bodies: [],
    hashes: [],
    nodes: NONE,
    nodeHashes: NONE,
    receipts: NONE,
    receiptSeqs: NONE,
    ingress: NONE,
    ingressSeqs: NONE,
    ingressRequests: NONE,
    appended: [],
    items,
    next,
  };
  const c: Planning = {
    p,
    where,
    signer: auto.signer,
    receipts: undefined,
    ingress: undefined,
    // One sink per plan, not one closure per entry.
    sink: (level, index, node) => {
      if (level < STORED_NODE_LEVEL) return;
      p.nodes = add(p.nodes, nodeKey(level, index));
      p.nodeHashes = add(p.nodeHashes, node);
    },
  };
  for (const it of items) planOne(c, it.kind, it.body);
  const every = auto.every;
  if (every !== undefined && Math.floor(p.first / every) !== Math.floor(next.tree.size / every)) {
    const body = tipCheckpoint(next, auto.signer!, auto.state?.() ?? tipState(next, where));
    parseEntryBody("checkpoint", body, next.tree.size);
    planOne(c, "checkpoint", body);
    p.items = [...items, { kind: "checkpoint", body }];
  }
  return p;
}

/** The row list of an append that has no such rows (shared: most appends have no receipts, keys or nodes). */
const NONE: readonly never[] = Object.freeze([]);

/** `xs` with `x` appended: a new list in place of NONE, else the same list grown. */
function add<T>(xs: readonly T[], x: T): readonly T[] {
  if (xs === NONE) return [x];
  (xs as T[]).push(x);
  return xs;
}

/** One plan in progress: its rows, where errors say they happened, and the keys it has seen. */
interface Planning {
  p: AppendPlan;
  where: string;
  signer: KeyPair | undefined;
  /** The receipt intents and ingress keys planned so far, by seq (built on the first: most batches have none). */
  receipts: Map<string, number> | undefined;
  ingress: Map<string, number> | undefined;
  sink: NodeSink;
}

function genesisOf(t: Tip, where: string): GenesisBody {
  if (t.genesis === undefined)
    throw new JournalError("journal.bad_sequence", "journal has no genesis", { path: where });
  return t.genesis;
}

/** One entry: the sequence, checkpoint, keys and signer rules, then its rows; advances `p.next`. */
function planOne(c: Planning, kind: EntryKind, value: CborValue): void {
  const { p, where } = c;
  const t = p.next;
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
  if (kind === "genesis") checkSigner(c.signer, (value as GenesisBody).world_public_key, where);
  const body = encodeStored(value);
  const hash = entryHash(t.head, seq, kind, body);
  const rows = kind === "event" || kind === "effect_receipt" ? indexRowsOf(kind, value) : {};
  if (rows.receipt !== undefined) {
    const prior = (c.receipts ??= new Map()).get(rows.receipt);
    if (prior !== undefined)
      throw new JournalError(
        "journal.duplicate_receipt",
        `intent ${rows.receipt} already has its receipt at seq ${prior}`,
        { seq, path: where },
      );
    c.receipts.set(rows.receipt, seq);
    p.receipts = add(p.receipts, rows.receipt);
    p.receiptSeqs = add(p.receiptSeqs, seq);
  }
  if (rows.ingressKey !== undefined) {
    const prior = (c.ingress ??= new Map()).get(rows.ingressKey.key);
    if (prior !== undefined)
      throw new JournalError(
        "journal.duplicate_ingress",
        `idempotency key ${JSON.stringify(rows.ingressKey.key)} already names the event at seq ${prior}`,
        { seq, path: where },
      );
    c.ingress.set(rows.ingressKey.key, seq);
    p.ingress = add(p.ingress, rows.ingressKey.key);
    p.ingressSeqs = add(p.ingressSeqs, seq);
    p.ingressRequests = add(p.ingressRequests, rows.ingressKey.requestHash);
  }
  p.kinds.push(kind);
  p.bodies.push(body);
  p.hashes.push(hash);
  t.tree.append(entryLeafHash(hash), c.sink);
  t.head = hash;
  if (kind === "genesis") t.genesis = value as GenesisBody;
  if (kind === "snapshot")
    t.state = {
      state_root: (value as SnapshotBody).state_root as HashText,
      manifest_hash: (value as SnapshotBody).manifest_hash as HashText,
    };
  p.appended.push({ seq, kind, hash });
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
