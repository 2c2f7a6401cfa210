/**
 * @module `verifyJournal`: one streaming pass (constant memory) that recomputes the hash
 * chain, the Merkle tree and every checkpoint signature, checks each body against its
 * kind, optionally holds the log to an external anchor, and names the first bad seq and
 * what is wrong with it. Other layers add checks for their own kinds (receipt
 * signatures, say) through `registerEntryCheck` or the `entryCheck` option.
 */
import { decodeStored, toHex, type CborValue } from "../../air/index.js";
import { bytesEqual } from "../crypto/merkle-verify.js";
import { verifyAnchorSignature, type Anchor } from "./anchor.js";
import { verifyCheckpointSignature } from "./checkpoint.js";
import { checkEntryBody, type CheckpointBody, type GenesisBody } from "./entries.js";
import { entryHash, entryLeafHash, ZERO_HASH } from "./entry-hash.js";
import { isJournalError, JournalError } from "./errors.js";
import { MerkleFrontier } from "./merkle.js";
import { SqliteJournalStore } from "./sqlite-store.js";
import type { JournalEntry, JournalStore } from "./store.js";

/** What can be wrong; extension checks may report their own fault names. */
export type VerifyFault =
  | "hash_mismatch"
  | "bad_prev_hash"
  | "seq_gap"
  | "bad_signature"
  | "checkpoint_mismatch"
  | "anchor_mismatch"
  | "bad_body"
  | "tree_mismatch"
  | "not_a_journal"
  | "corrupt"
  | (string & {});

/** The outcome of a verification. */
export interface VerifyResult {
  ok: boolean;
  entries: number;
  checkpoints: number;
  first_bad_seq?: number;
  fault?: VerifyFault;
  message?: string;
}

/** An entry with its decoded, schema-checked body, handed to extension checks. */
export interface DecodedEntry extends JournalEntry {
  value: CborValue;
}

/** What extension checks can rely on: the world's genesis body. */
export interface EntryCheckContext {
  genesis: GenesisBody;
}

/** A pluggable check: null when the entry is fine, else the fault and why. */
export type EntryCheck = (entry: DecodedEntry, ctx: EntryCheckContext) => null | { fault: VerifyFault; message: string } | Promise<null | { fault: VerifyFault; message: string }>;

const registry: EntryCheck[] = [];

/** Adds a check every later `verifyJournal` runs (e.g. receipt signatures); returns its remover. */
export function registerEntryCheck(check: EntryCheck): () => void {
  registry.push(check);
  return () => {
    const i = registry.indexOf(check);
    if (i >= 0) registry.splice(i, 1);
  };
}

/** Options of a verification. */
export interface VerifyOptions {
  /** Hold the log to this exported checkpoint. */
  anchor?: Anchor;
  /** Called now and then with (entries done, entries in the journal). */
  onProgress?: (done: number, total: number) => void;
  /** Extra checks for this run, after the registered ones. */
  entryCheck?: EntryCheck | EntryCheck[];
  /** Verify signatures with @noble/curves instead of node:crypto. */
  pureSignatures?: boolean;
}

class Fault extends Error {
  constructor(
    readonly fault: VerifyFault,
    readonly seq: number | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** Verifies a journal file (opened read-only) or an open store. */
export async function verifyJournal(target: string | JournalStore, opts: VerifyOptions = {}): Promise<VerifyResult> {
  let store: JournalStore;
  if (typeof target === "string") {
    try {
      store = SqliteJournalStore.open(target, { readonly: true });
    } catch (e) {
      if (isJournalError(e, "journal.not_a_journal")) return { ok: false, entries: 0, checkpoints: 0, fault: "not_a_journal", message: e.message };
      if (isJournalError(e, "journal.corrupt")) return { ok: false, entries: 0, checkpoints: 0, fault: "corrupt", message: e.message };
      throw e;
    }
  } else store = target;
  try {
    return await run(store, opts);
  } finally {
    if (typeof target === "string") await store.close();
  }
}

async function run(store: JournalStore, opts: VerifyOptions): Promise<VerifyResult> {
  const checks = [...registry, ...(opts.entryCheck === undefined ? [] : Array.isArray(opts.entryCheck) ? opts.entryCheck : [opts.entryCheck])];
  const anchor = opts.anchor;
  if (anchor !== undefined && !verifyAnchorSignature(anchor, opts.pureSignatures)) {
    throw new JournalError("journal.bad_anchor", "the anchor's signature does not verify under the public key it names");
  }
  const total = await store.count();
  const tree = new MerkleFrontier();
  let prev = ZERO_HASH;
  let checkpoints = 0;
  let genesis: GenesisBody | undefined;
  // Audit the store's Merkle index node by node as the recomputed tree completes each one.
  const nodeAt = store.nodeAt?.bind(store);
  const completed: { level: number; index: number; hash: Uint8Array }[] = [];
  const collect = (level: number, index: number, hash: Uint8Array) => completed.push({ level, index, hash });
  const checkNode = async (level: number, index: number, hash: Uint8Array) => {
    const got = nodeAt!(level, index);
    const stored = got instanceof Promise ? await got : got;
    if (stored === undefined) return; // a level this store does not keep
    if (stored === null || !bytesEqual(stored, hash)) {
      const last = (index + 1) * 2 ** level - 1;
      throw new Fault("tree_mismatch", last, `the store's Merkle node at level ${level} index ${index} (entries ${index * 2 ** level}..${last}) is ${stored === null ? "missing" : toHex(stored)}; the entries give ${toHex(hash)}`);
    }
  };
  try {
    for await (const e of store.iterate(0)) {
      const seq = tree.size;
      if (e.seq !== seq) throw new Fault("seq_gap", seq, `expected seq ${seq}, found ${e.seq}`);
      if (!bytesEqual(e.prev_hash, prev)) throw new Fault("bad_prev_hash", seq, `prev_hash ${toHex(e.prev_hash)} is not the hash of seq ${seq - 1} (${toHex(prev)})`);
      const h = entryHash(prev, seq, e.kind, e.body);
      if (!bytesEqual(h, e.hash)) throw new Fault("hash_mismatch", seq, `stored hash ${toHex(e.hash)}, recomputed ${toHex(h)}`);
      let value: CborValue;
      try {
        value = decodeStored(e.body);
      } catch (err) {
        throw new Fault("bad_body", seq, `body is not stored canonical CBOR: ${(err as Error).message}`);
      }
      const issue = checkEntryBody(e.kind, value);
      if (issue !== null) throw new Fault("bad_body", seq, `${e.kind} body: ${issue.message} at ${issue.path}`);
      if ((seq === 0) !== (e.kind === "genesis")) throw new Fault("bad_body", seq, seq === 0 ? `the first entry is ${e.kind}, not genesis` : "a second genesis entry");
      if (e.kind === "genesis") genesis = value as GenesisBody;
      const g = genesis!;
      if (seq === 0 && anchor !== undefined && (anchor.world_id !== g.world_id || anchor.world_public_key !== toHex(g.world_public_key))) {
        throw new Fault("anchor_mismatch", 0, `the anchor names world ${anchor.world_id} with key ${anchor.world_public_key}; this journal's genesis says ${g.world_id} with key ${toHex(g.world_public_key)}`);
      }
      if (e.kind === "checkpoint") {
        checkCheckpoint(value as CheckpointBody, seq, tree, prev, g, opts.pureSignatures === true);
        checkpoints++;
      }
      for (const check of checks) {
        const r = await check({ ...e, value }, { genesis: g });
        if (r !== null) throw new Fault(r.fault, seq, r.message);
      }
      completed.length = 0;
      tree.append(entryLeafHash(e.hash), nodeAt === undefined ? undefined : collect);
      for (const n of completed) await checkNode(n.level, n.index, n.hash);
      prev = e.hash;
      if (anchor !== undefined && tree.size === anchor.tree_size) checkAnchor(anchor, tree, prev);
      if (tree.size % 4096 === 0) opts.onProgress?.(tree.size, total);
    }
    opts.onProgress?.(tree.size, total);
    if (tree.size === 0) throw new Fault("bad_body", 0, "the journal is empty: it has no genesis");
    if (anchor !== undefined && tree.size < anchor.tree_size) {
      throw new Fault("anchor_mismatch", tree.size, `the anchor covers ${anchor.tree_size} entries; the journal has only ${tree.size}`);
    }
    await checkStoredTree(store, tree);
  } catch (err) {
    if (err instanceof Fault) return { ok: false, entries: tree.size, checkpoints, first_bad_seq: err.seq ?? tree.size, fault: err.fault, message: err.message };
    if (isJournalError(err, "journal.corrupt")) return { ok: false, entries: tree.size, checkpoints, first_bad_seq: tree.size, fault: "corrupt", message: err.message };
    throw err;
  }
  return { ok: true, entries: tree.size, checkpoints };
}

function checkCheckpoint(cp: CheckpointBody, seq: number, tree: MerkleFrontier, prev: Uint8Array, g: GenesisBody, pure: boolean): void {
  if (cp.tree_size !== seq) throw new Fault("checkpoint_mismatch", seq, `checkpoint tree_size ${cp.tree_size} at seq ${seq}: a checkpoint covers exactly the entries before it`);
  if (!bytesEqual(cp.head_hash, prev)) throw new Fault("checkpoint_mismatch", seq, `checkpoint head_hash ${toHex(cp.head_hash)} is not the hash of seq ${seq - 1}`);
  const root = tree.root();
  if (!bytesEqual(cp.root, root)) throw new Fault("checkpoint_mismatch", seq, `checkpoint root ${toHex(cp.root)}, recomputed ${toHex(root)}`);
  if (!verifyCheckpointSignature(cp, g.world_public_key, pure)) throw new Fault("bad_signature", seq, "checkpoint signature does not verify with the genesis world key");
}

function checkAnchor(a: Anchor, tree: MerkleFrontier, head: Uint8Array): void {
  const root = toHex(tree.root());
  // The log no longer matches what was exported: the rewrite lies somewhere in 0..tree_size-1.
  if (root !== a.root) throw new Fault("anchor_mismatch", a.tree_size - 1, `the first ${a.tree_size} entries have root ${root}; the anchor says ${a.root}`);
  if (toHex(head) !== a.head_hash) throw new Fault("anchor_mismatch", a.tree_size - 1, `head hash at seq ${a.tree_size - 1} is ${toHex(head)}; the anchor says ${a.head_hash}`);
}

/** The store's own Merkle index must agree with the recomputed tree (proofs are served from it). */
async function checkStoredTree(store: JournalStore, tree: MerkleFrontier): Promise<void> {
  const stored = await store.root(tree.size);
  if (!bytesEqual(stored, tree.root())) throw new Fault("tree_mismatch", tree.size - 1, `the store's Merkle index gives root ${toHex(stored)}, the entries give ${toHex(tree.root())}`);
}
