/**
 * @module `verifyJournal`: one streaming pass (constant memory) that recomputes the hash
 * chain, the Merkle tree and every checkpoint signature, checks each body against its
 * kind, optionally holds the log to an external anchor, and names the first bad seq and
 * what is wrong with it. What the entries *mean* (receipt signers, governance, blobs) is
 * checked by the checkers the caller passes in `checks` — explicitly, never through a
 * global registry a caller could forget to fill (kernel/world/verify-world.ts passes the
 * kernel's). It can also start at a seq (the bounded check a writer runs on open).
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { WorldkernelError } from "../../air/errors.js";
import { toHex } from "../../air/hash.js";
import type { CborValue } from "../../air/cbor/value.js";
import { bytesEqual, verifyEntryInclusion } from "../crypto/merkle-verify.js";
import { verifyAnchorSignature, type Anchor } from "./anchor.js";
import { verifyCheckpointSignature } from "./checkpoint.js";
import { checkEntryBody, type CheckpointBody, type GenesisBody } from "./entries.js";
import { entryHash, entryLeafHash, ZERO_HASH } from "./entry-hash.js";
import { isJournalError, JournalError } from "./errors.js";
import { MerkleFrontier, nodeKey, STORED_NODE_LEVEL } from "./merkle.js";
import { SqliteJournalStore } from "./sqlite-store.js";
import { ChainLane, STAGE, type LaneFault } from "./chain-lane.js";
import type { JournalReader } from "./ports.js";
import type { JournalEntry, JournalStore } from "./store.js";

/** What can be wrong; checkers may report their own fault names. */
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
  | "uncovered_tail"
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

/** An entry with its decoded, schema-checked body, handed to checkers. */
export interface DecodedEntry extends JournalEntry {
  value: CborValue;
}

/** What checkers can rely on: the world's genesis body. */
export interface EntryCheckContext {
  genesis: GenesisBody;
}

/** A checker's finding: the fault, why, and (when it is not the entry at hand) the seq it concerns. */
export type CheckFinding = null | { fault: VerifyFault; message: string; seq?: number };

/** A check of what entries mean, run on every entry in order; `finish` runs after the last one. */
export interface EntryChecker {
  check(entry: DecodedEntry, ctx: EntryCheckContext): CheckFinding | Promise<CheckFinding>;
  finish?(ctx: EntryCheckContext): CheckFinding | Promise<CheckFinding>;
  /**
   * A body this checker can vouch for byte for byte: the value a kernel produced for exactly
   * this seq and kind whose canonical encoding equals `entry.body` (replay re-running the step
   * that wrote it). Verify then takes that value instead of decoding the body and checking it
   * against its kind's schema; undefined (the default) means decode and check as usual. Asked
   * after the entry's hash, chain and seq have been checked, before any `check` sees it; the
   * checker must still compare the entry when `check` gets it (it may remember the answer).
   */
  reproduced?(entry: JournalEntry): CborValue | undefined;
}

/** A stateless check as a plain function. */
export type EntryCheck = (entry: DecodedEntry, ctx: EntryCheckContext) => CheckFinding | Promise<CheckFinding>;

/** Options of a verification. */
export interface VerifyOptions {
  /** Hold the log to this exported checkpoint. */
  anchor?: Anchor;
  /** Called now and then with (entries done, entries in the journal). */
  onProgress?: (done: number, total: number) => void;
  /** The checks of meaning to run, in order (none: the chain, tree and checkpoints alone). */
  checks?: readonly (EntryChecker | EntryCheck)[];
  /** Verify signatures with @noble/curves instead of node:crypto. */
  pureSignatures?: boolean;
  /** Fail with `uncovered_tail` when entries follow the last checkpoint (only a crash leaves them). */
  requireSealedHead?: boolean;
  /**
   * Start at this seq instead of genesis (needs a store that can load its Merkle frontier).
   * Entries before it are trusted as far as the first checkpoint at or after it attests them:
   * that checkpoint's root is recomputed from the stored frontier, and genesis is proven under it.
   */
  from?: number;
  /**
   * Where the walk's hashing runs (chain-lane.ts): `"worker"` on a second thread, `"inline"`
   * on this one, `"auto"` (the default) a worker for a walk of `LANE_MIN_ENTRIES` or more from
   * genesis, without an anchor, over a store that lists its Merkle nodes by range.
   */
  lane?: "auto" | "worker" | "inline";
}

/** The walk length from which `lane: "auto"` hashes on a worker thread (starting one costs ≈ 30 ms). */
export const LANE_MIN_ENTRIES = 20_000;

/** A verification failure found while walking (`verifyJournal` turns it into its result). */
export class VerifyFailure extends WorldkernelError<"journal.verify_failed"> {
  readonly fault: VerifyFault;

  constructor(fault: VerifyFault, seq: number | undefined, message: string) {
    super("journal.verify_failed", message, { seq });
    this.name = "VerifyFailure";
    this.fault = fault;
  }
}

/** What verify reads: the async port, and when the store is also a `JournalReader`, its Merkle frontier (to start part-way). */
export type VerifiableStore = JournalStore & Partial<Pick<JournalReader, "frontierSync">>;

/** A store that reads its stored Merkle nodes by the entries that completed them (one range read). */
interface NodeRangeStore extends JournalStore {
  nodesCompletedSync(fromSeq: number, toSeq: number): Map<number, Uint8Array> | undefined;
}

const hasNodeRange = (s: JournalStore): s is NodeRangeStore =>
  typeof (s as Partial<NodeRangeStore>).nodesCompletedSync === "function";

/** Entries whose stored nodes the audit reads at once (≈ 4096 / 8 rows). */
const NODE_WINDOW = 4096;

/** Verifies a journal file (opened read-only) or an open store. */
export async function verifyJournal(target: string | VerifiableStore, opts: VerifyOptions = {}): Promise<VerifyResult> {
  let store: VerifiableStore;
  if (typeof target === "string") {
    try {
      store = SqliteJournalStore.open(target, { readonly: true });
    } catch (e) {
      if (isJournalError(e, "journal.not_a_journal"))
        return { ok: false, entries: 0, checkpoints: 0, fault: "not_a_journal", message: e.message };
      if (isJournalError(e, "journal.corrupt"))
        return { ok: false, entries: 0, checkpoints: 0, fault: "corrupt", message: e.message };
      throw e;
    }
  } else store = target;
  try {
    return await run(store, opts);
  } finally {
    if (typeof target === "string") await store.close();
  }
}

const asChecker = (c: EntryChecker | EntryCheck): EntryChecker => (typeof c === "function" ? { check: c } : c);

async function run(store: VerifiableStore, opts: VerifyOptions): Promise<VerifyResult> {
  const checks = (opts.checks ?? []).map(asChecker);
  const vouchers = checks.filter((c) => c.reproduced !== undefined);
  const anchor = opts.anchor;
  if (anchor !== undefined && !verifyAnchorSignature(anchor, opts.pureSignatures)) {
    throw new JournalError(
      "journal.bad_anchor",
      "the anchor's signature does not verify under the public key it names",
    );
  }
  const total = await store.count();
  const from = opts.from ?? 0;
  if (!Number.isSafeInteger(from) || from < 0 || from > total)
    throw new JournalError("journal.out_of_range", `verify start ${from} is outside 0..${total}`);
  if (from > 0 && store.frontierSync === undefined)
    throw new JournalError("journal.out_of_range", "this store cannot verify from a seq part-way");
  const tree = from > 0 && store.frontierSync !== undefined ? store.frontierSync(from) : new MerkleFrontier();
  let prev = from === 0 ? ZERO_HASH : (await store.get(from - 1))!.hash;
  let checkpoints = 0;
  let lastCheckpoint = -1;
  let genesis: GenesisBody | undefined;
  // Genesis before the start is proven under the first checkpoint the walk reaches.
  let genesisUnproven: Uint8Array | undefined;
  if (from > 0) {
    const g = await store.get(0);
    if (g === null)
      return {
        ok: false,
        entries: 0,
        checkpoints: 0,
        first_bad_seq: 0,
        fault: "seq_gap",
        message: "the journal has no entry 0",
      };
    const r = decodeGenesis(g);
    if (!r.ok) return { ok: false, entries: 0, checkpoints: 0, first_bad_seq: 0, fault: r.fault, message: r.message };
    genesis = r.genesis;
    genesisUnproven = entryHash(ZERO_HASH, 0, "genesis", g.body);
  }
  const lane = startLane(store, opts, from, total);
  // Audit the store's Merkle index node by node as the recomputed tree completes each one
  // (about one node per entry, most below the levels a store keeps): a synchronous store's
  // answer is checked at once, and only a promised answer is awaited. With a lane, its worker does.
  const nodeAt = lane === undefined ? auditedNodes(store) : undefined;
  // Where the walk is (entries done) and which check it runs: a lane's fault at an earlier
  // place wins over this thread's (chain-lane.ts), as it would in a one-thread walk.
  let pos = from;
  let stage: number = STAGE.chain;
  const checkpointSeqs: number[] = [];
  const completed: { level: number; index: number; hash: Uint8Array }[] = [];
  const collect = (level: number, index: number, hash: Uint8Array) => completed.push({ level, index, hash });
  let ctx: EntryCheckContext | undefined;
  const finding = (f: CheckFinding, seq: number | undefined) => {
    if (f !== null) throw new VerifyFailure(f.fault, f.seq ?? seq, f.message);
  };
  try {
    for await (const e of store.iterate(from)) {
      const seq = pos;
      stage = STAGE.chain;
      if (e.seq !== seq) throw new VerifyFailure("seq_gap", seq, `expected seq ${seq}, found ${e.seq}`);
      if (lane !== undefined) lane.add(e);
      else {
        if (!bytesEqual(e.prev_hash, prev))
          throw new VerifyFailure(
            "bad_prev_hash",
            seq,
            `prev_hash ${toHex(e.prev_hash)} is not the hash of seq ${seq - 1} (${toHex(prev)})`,
          );
        const h = entryHash(prev, seq, e.kind, e.body);
        if (!bytesEqual(h, e.hash))
          throw new VerifyFailure("hash_mismatch", seq, `stored hash ${toHex(e.hash)}, recomputed ${toHex(h)}`);
      }
      stage = STAGE.body;
      // A body a checker reproduced byte for byte (replay's kernel wrote these very bytes) is
      // canonical CBOR by construction, and its schema is the one the kernel's appends are held
      // to (append-plan.ts parses every body it writes): decoding it and checking the schema
      // again would only repeat what the comparison proved. Any other body, including one that
      // differs from what the kernel produced, is decoded strictly and schema-checked here, so a
      // tampered body still fails as bad_body before any rule or the replayer sees it.
      let value = vouchers.length === 0 ? undefined : reproducedBy(vouchers, e);
      if (value === undefined) {
        try {
          value = decodeStored(e.body);
        } catch (err) {
          throw new VerifyFailure("bad_body", seq, `body is not stored canonical CBOR: ${(err as Error).message}`);
        }
        const issue = checkEntryBody(e.kind, value);
        if (issue !== null)
          throw new VerifyFailure("bad_body", seq, `${e.kind} body: ${issue.message} at ${issue.path}`);
      }
      if ((seq === 0) !== (e.kind === "genesis"))
        throw new VerifyFailure(
          "bad_body",
          seq,
          seq === 0 ? `the first entry is ${e.kind}, not genesis` : "a second genesis entry",
        );
      if (e.kind === "genesis") genesis = value as GenesisBody;
      const g = genesis!;
      if (
        seq === 0 &&
        anchor !== undefined &&
        (anchor.world_id !== g.world_id || anchor.world_public_key !== toHex(g.world_public_key))
      ) {
        throw new VerifyFailure(
          "anchor_mismatch",
          0,
          `the anchor names world ${anchor.world_id} with key ${anchor.world_public_key}; this journal's genesis says ${g.world_id} with key ${toHex(g.world_public_key)}`,
        );
      }
      // The anchor is a copy of the checkpoint entry at its seq: every signed field must agree.
      if (anchor !== undefined && seq === anchor.seq) checkAnchorEntry(anchor, e.kind, value);
      if (e.kind === "checkpoint") {
        stage = STAGE.checkpoint;
        checkCheckpoint(value as CheckpointBody, seq, lane ?? tree, prev);
        stage = STAGE.signature;
        if (!verifyCheckpointSignature(value as CheckpointBody, g.world_public_key, opts.pureSignatures === true))
          throw new VerifyFailure(
            "bad_signature",
            seq,
            "checkpoint signature does not verify with the genesis world key",
          );
        checkpointSeqs.push(seq);
        if (genesisUnproven !== undefined) {
          const proof = await store.inclusionProof(0, seq);
          if (!verifyEntryInclusion(genesisUnproven, 0, seq, proof, (value as CheckpointBody).root)) {
            throw new VerifyFailure(
              "hash_mismatch",
              0,
              `genesis is not the entry 0 that the checkpoint at seq ${seq} signed`,
            );
          }
          genesisUnproven = undefined;
        }
        checkpoints++;
        lastCheckpoint = seq;
      }
      stage = STAGE.checks;
      if (checks.length > 0) {
        // The row is ours: decorate it instead of copying it, and await only what is a promise.
        const decoded = e as DecodedEntry;
        decoded.value = value;
        if (ctx === undefined || ctx.genesis !== g) ctx = { genesis: g };
        for (const c of checks) {
          const r = c.check(decoded, ctx);
          finding(r instanceof Promise ? await r : r, seq);
        }
      }
      stage = STAGE.node;
      if (lane !== undefined) {
        const f = lane.step();
        if (f !== undefined) throw laneFailure(f);
      } else {
        tree.append(entryLeafHash(e.hash), nodeAt === undefined ? undefined : collect);
        if (completed.length > 0) {
          for (const n of completed) {
            const stored = nodeAt!(n.level, n.index);
            checkNode(n.level, n.index, n.hash, stored instanceof Promise ? await stored : stored);
          }
          completed.length = 0;
        }
      }
      pos++;
      prev = e.hash;
      if (anchor !== undefined && tree.size === anchor.tree_size) checkAnchor(anchor, tree, prev);
      if (pos % 4096 === 0) opts.onProgress?.(pos, total);
    }
    let root: Uint8Array;
    if (lane !== undefined) {
      const end = lane.finish();
      if ("fault" in end) throw laneFailure(end.fault);
      root = end.root;
    } else root = tree.root();
    opts.onProgress?.(pos, total);
    if (genesisUnproven !== undefined)
      throw new VerifyFailure(
        "uncovered_tail",
        from,
        `no signed checkpoint at or after seq ${from} attests the entries before it`,
      );
    if (pos === 0) throw new VerifyFailure("bad_body", 0, "the journal is empty: it has no genesis");
    if (anchor !== undefined && pos < anchor.tree_size) {
      throw new VerifyFailure(
        "anchor_mismatch",
        pos,
        `the anchor covers ${anchor.tree_size} entries; the journal has only ${pos}`,
      );
    }
    await checkStoredTree(store, pos, root);
    for (const c of checks) if (c.finish) finding(await c.finish({ genesis: genesis! }), undefined);
    if (opts.requireSealedHead && lastCheckpoint !== pos - 1) {
      const first = lastCheckpoint + 1;
      throw new VerifyFailure(
        "uncovered_tail",
        first,
        `entries ${first}..${pos - 1} follow the last signed checkpoint${lastCheckpoint < 0 ? " (there is none)" : ` (seq ${lastCheckpoint})`}: a world closed cleanly ends with a checkpoint, so only a crash leaves such a tail — or someone cut or appended entries. Opening the world for writing checks the tail and seals it.`,
      );
    }
  } catch (err) {
    // This thread stopped first; the lane may have found an earlier fault in what it was handed.
    const laneFault =
      lane === undefined || err instanceof LaneFailure || isJournalError(err, "journal.verify_lane_failed")
        ? undefined
        : earlierLaneFault(lane, pos, stage);
    if (laneFault !== undefined) err = laneFailure(laneFault);
    if (err instanceof LaneFailure)
      return {
        ok: false,
        entries: err.pos,
        checkpoints: checkpointSeqs.filter((s) => s < err.pos).length,
        first_bad_seq: err.seq!,
        fault: err.fault,
        message: err.message,
      };
    if (err instanceof VerifyFailure)
      return {
        ok: false,
        entries: pos,
        checkpoints,
        first_bad_seq: err.seq ?? pos,
        fault: err.fault,
        message: err.message,
      };
    if (isJournalError(err, "journal.corrupt"))
      return {
        ok: false,
        entries: pos,
        checkpoints,
        first_bad_seq: pos,
        fault: "corrupt",
        message: err.message,
      };
    if (isJournalError(err, "journal.blob_hash_mismatch"))
      return {
        ok: false,
        entries: pos,
        checkpoints,
        first_bad_seq: pos,
        fault: "blob_hash_mismatch",
        message: err.message,
      };
    throw err;
  } finally {
    await lane?.close();
  }
  return { ok: true, entries: pos, checkpoints };
}

/** A fault the chain lane found, with where in the walk it was found. */
class LaneFailure extends VerifyFailure {
  constructor(
    readonly pos: number,
    f: LaneFault,
  ) {
    super(f.fault, f.seq, f.message);
  }
}

const laneFailure = (f: LaneFault) => new LaneFailure(f.pos, f);

/** The lane's fault when it lies before where this thread stopped (position, then stage), else undefined. */
function earlierLaneFault(lane: ChainLane, pos: number, stage: number): LaneFault | undefined {
  const end = lane.finish();
  if (!("fault" in end)) return undefined;
  const f = end.fault;
  return f.pos < pos || (f.pos === pos && f.stage < stage) ? f : undefined;
}

/** A chain lane for this walk when `opts.lane` asks for one (or "auto" finds it worth it), else undefined. */
function startLane(store: VerifiableStore, opts: VerifyOptions, from: number, total: number): ChainLane | undefined {
  const mode = opts.lane ?? "auto";
  if (mode === "inline") return undefined;
  // The lane walks from genesis and checks no anchor; it audits nodes by range (storage v2).
  const able =
    from === 0 && opts.anchor === undefined && hasNodeRange(store) && store.nodesCompletedSync(0, 0) !== undefined;
  if (!able || (mode === "auto" && total < LANE_MIN_ENTRIES)) {
    if (mode === "worker" && !able) throw new JournalError("journal.out_of_range", "this walk cannot use a chain lane");
    return undefined;
  }
  const s = store as NodeRangeStore;
  return ChainLane.start((a, b) => s.nodesCompletedSync(a, b));
}

/** The first value a checker vouches for (see `EntryChecker.reproduced`), else undefined. */
function reproducedBy(vouchers: readonly EntryChecker[], e: JournalEntry): CborValue | undefined {
  for (const c of vouchers) {
    const v = c.reproduced!(e);
    if (v !== undefined) return v;
  }
  return undefined;
}

function decodeGenesis(
  g: JournalEntry,
): { ok: true; genesis: GenesisBody } | { ok: false; fault: VerifyFault; message: string } {
  if (g.kind !== "genesis")
    return { ok: false, fault: "bad_body", message: `the first entry is ${g.kind}, not genesis` };
  let value: CborValue;
  try {
    value = decodeStored(g.body);
  } catch (err) {
    return { ok: false, fault: "bad_body", message: `genesis is not stored canonical CBOR: ${(err as Error).message}` };
  }
  const issue = checkEntryBody("genesis", value);
  if (issue !== null)
    return { ok: false, fault: "bad_body", message: `genesis body: ${issue.message} at ${issue.path}` };
  return { ok: true, genesis: value as GenesisBody };
}

/** A checkpoint covers exactly the entries before it: its tree size, head hash and root (a lane checks the root when it gets there). */
function checkCheckpoint(cp: CheckpointBody, seq: number, tree: MerkleFrontier | ChainLane, prev: Uint8Array): void {
  if (cp.tree_size !== seq)
    throw new VerifyFailure(
      "checkpoint_mismatch",
      seq,
      `checkpoint tree_size ${cp.tree_size} at seq ${seq}: a checkpoint covers exactly the entries before it`,
    );
  if (!bytesEqual(cp.head_hash, prev))
    throw new VerifyFailure(
      "checkpoint_mismatch",
      seq,
      `checkpoint head_hash ${toHex(cp.head_hash)} is not the hash of seq ${seq - 1}`,
    );
  // A lane checks the root when its worker reaches this seq (chain-lane-worker.mjs, same message).
  if (tree instanceof ChainLane) tree.expectRoot(seq, cp.root);
  else {
    const root = tree.root();
    if (!bytesEqual(cp.root, root))
      throw new VerifyFailure(
        "checkpoint_mismatch",
        seq,
        `checkpoint root ${toHex(cp.root)}, recomputed ${toHex(root)}`,
      );
  }
}

function checkAnchorEntry(a: Anchor, kind: string, value: CborValue): void {
  if (kind !== "checkpoint")
    throw new VerifyFailure(
      "anchor_mismatch",
      a.seq,
      `the anchor names the checkpoint at seq ${a.seq}; the journal has a ${kind} there`,
    );
  const cp = value as CheckpointBody;
  const same =
    cp.tree_size === a.tree_size &&
    toHex(cp.root) === a.root &&
    toHex(cp.head_hash) === a.head_hash &&
    cp.state_root === a.state_root &&
    cp.manifest_hash === a.manifest_hash &&
    toHex(cp.signature) === a.signature;
  if (!same)
    throw new VerifyFailure(
      "anchor_mismatch",
      a.seq,
      `the checkpoint at seq ${a.seq} is not the one the anchor holds (state root ${cp.state_root}, anchor ${a.state_root})`,
    );
}

function checkAnchor(a: Anchor, tree: MerkleFrontier, head: Uint8Array): void {
  const root = toHex(tree.root());
  // The log no longer matches what was exported: the rewrite lies somewhere in 0..tree_size-1.
  if (root !== a.root)
    throw new VerifyFailure(
      "anchor_mismatch",
      a.tree_size - 1,
      `the first ${a.tree_size} entries have root ${root}; the anchor says ${a.root}`,
    );
  if (toHex(head) !== a.head_hash)
    throw new VerifyFailure(
      "anchor_mismatch",
      a.tree_size - 1,
      `head hash at seq ${a.tree_size - 1} is ${toHex(head)}; the anchor says ${a.head_hash}`,
    );
}

/**
 * How the walk reads the store's stored nodes: `nodeAt`, or, where the store can, windows of
 * `NODE_WINDOW` entries' nodes read in one range query (the levels kept are merkle.ts's
 * `STORED_NODE_LEVEL` and up; a node absent from its window is missing).
 */
function auditedNodes(store: JournalStore): JournalStore["nodeAt"] {
  const nodeAt = store.nodeAt?.bind(store);
  if (nodeAt === undefined || !hasNodeRange(store)) return nodeAt;
  let window: Map<number, Uint8Array> | undefined;
  let windowEnd = -1;
  let ranged = true;
  return (level, index) => {
    if (!ranged) return nodeAt(level, index);
    if (level < STORED_NODE_LEVEL) return undefined;
    const last = (index + 1) * 2 ** level - 1;
    if (last > windowEnd) {
      window = store.nodesCompletedSync(last, last + NODE_WINDOW - 1);
      windowEnd = last + NODE_WINDOW - 1;
      if (window === undefined) {
        ranged = false; // storage v1: rows not in completion order
        return nodeAt(level, index);
      }
    }
    return window!.get(nodeKey(level, index)) ?? null;
  };
}

/** A stored node must be the recomputed one (undefined: a level the store does not keep). */
function checkNode(level: number, index: number, hash: Uint8Array, stored: Uint8Array | null | undefined): void {
  if (stored === undefined) return;
  if (stored === null || !bytesEqual(stored, hash)) {
    const last = (index + 1) * 2 ** level - 1;
    throw new VerifyFailure(
      "tree_mismatch",
      last,
      `the store's Merkle node at level ${level} index ${index} (entries ${index * 2 ** level}..${last}) is ${stored === null ? "missing" : toHex(stored)}; the entries give ${toHex(hash)}`,
    );
  }
}

/** The store's own Merkle index must agree with the recomputed tree (proofs are served from it). */
async function checkStoredTree(store: JournalStore, size: number, root: Uint8Array): Promise<void> {
  const stored = await store.root(size);
  if (!bytesEqual(stored, root))
    throw new VerifyFailure(
      "tree_mismatch",
      size - 1,
      `the store's Merkle index gives root ${toHex(stored)}, the entries give ${toHex(root)}`,
    );
}
