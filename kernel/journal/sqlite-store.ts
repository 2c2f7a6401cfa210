/**
 * @module The SQLite `JournalStore`: one file per world (WAL; synchronous=FULL unless
 * NORMAL is asked for), entries guarded by append-only triggers, perfect Merkle nodes
 * written as they complete inside the append transaction, and a CAS for blobs. All work
 * is synchronous underneath (better-sqlite3); the `*Sync` methods expose it directly to
 * in-process callers and the async methods implement the port.
 */
import type Database from "better-sqlite3";
import { bytesToHash, hashToBytes, sha256, type HashText } from "../../air/hash.js";
import { decodeStored } from "../../air/cbor/decode.js";
import type { CborValue } from "../../air/cbor/value.js";
import { bytesEqual } from "../crypto/merkle-verify.js";
import type { KeyPair } from "../crypto/keys.js";
import type { StateProvider } from "./checkpoint.js";
import { checkSigner, planAppend, tipCheckpoint, tipState, type AppendPlan, type Tip } from "./append-plan.js";
import { parseEntryBody, type EntryKind, type GenesisBody } from "./entries.js";
import { ZERO_HASH } from "./entry-hash.js";
import { ErasedError, JournalError } from "./errors.js";
import { consistencyPath, inclusionPath, MerkleFrontier, rootAt, type NodeReader } from "./merkle.js";
import { nodeReader, nodeTable, storedNode, storedNodesCompleted, type NodeTable } from "./sqlite-merkle.js";
import { prepareStatements, type Statements } from "./sqlite-statements.js";
import {
  createFile,
  openReadonly,
  openWritable,
  RARE_KINDS,
  releaseWriterLock,
  storageVersion,
  takeWriterLock,
} from "./sqlite-open.js";
import type { AppendInput, Appended, JournalEntry, JournalHead } from "./store.js";
import type { ErasureExtra } from "./ports.js";
import type { WorldJournal } from "./world-journal.js";

/** Options for opening or creating a SQLite journal. */
export interface SqliteJournalOptions {
  /** Create a new file (refuses an existing one); otherwise the file must exist. */
  create?: boolean;
  /** Open without the writer lock; every write throws `journal.readonly`. */
  readonly?: boolean;
  /** FULL (default) fsyncs every commit; NORMAL is faster and may lose the last commits on power loss (never on a process crash). */
  synchronous?: "FULL" | "NORMAL";
  /** Write a signed checkpoint whenever the entry count crosses a multiple of this (needs `worldKey`). */
  checkpointEvery?: number;
  /** The world's key pair (its public key is in genesis): signs checkpoints, automatic and on demand. */
  worldKey?: KeyPair;
  /**
   * The state root and manifest hash checkpoints attest; the kernel supplies its live state
   * (also later, via `setStateProvider`). Default: the latest snapshot entry's, else the
   * genesis manifest hash with the all-zero state root.
   */
  stateProvider?: StateProvider;
}

const PAGE = 256;

// The index rows an entry adds are the append rules' (append-plan.ts); re-exported for the
// callers that name them here (the journal's public surface, the audit rebuild).
export { indexRowsOf, ingressKeyOf } from "./append-plan.js";

/** The typed error for bytes stored under a name they do not hash to. */
export function blobMismatch(hash: HashText, bytes: Uint8Array, path?: string): JournalError {
  return new JournalError(
    "journal.blob_hash_mismatch",
    `blob ${hash} holds bytes that hash to ${bytesToHash(sha256(bytes))}: the CAS was altered`,
    { blob_hash: hash, expected: hash, actual: bytesToHash(sha256(bytes)), ...(path === undefined ? {} : { path }) },
  );
}

/** A world's journal in one SQLite file. */
export class SqliteJournalStore implements WorldJournal {
  readonly path: string;
  readonly readonly: boolean;
  private readonly db: Database.Database;
  private lock: Database.Database | undefined;
  private readonly stmt: Statements;
  private readonly nodes: NodeTable;
  /** The writer's tip (a reader's is empty: it asks the file); replaced by an append's plan on commit. */
  private tip: Tip;
  private closed = false;
  private readonly every: number | undefined;
  private readonly signer: KeyPair | undefined;
  /** The kernel's state provider; undefined: the tip's (latest snapshot, else genesis's manifest). */
  private state: StateProvider | undefined;
  private readonly txExecute: (plan: AppendPlan) => void;

  /** Opens (or with `create`, creates) the journal at `path`. */
  static open(path: string, opts: SqliteJournalOptions = {}): SqliteJournalStore {
    // Inspect before locking, so a foreign or broken file gets no sidecar lock file either.
    if (!opts.create && !opts.readonly) openReadonly(path).close();
    const lock = opts.readonly ? undefined : takeWriterLock(path);
    let db: Database.Database | undefined;
    try {
      const sync = opts.synchronous ?? "FULL";
      db = opts.readonly ? openReadonly(path) : opts.create ? createFile(path, sync) : openWritable(path, sync);
      return new SqliteJournalStore(path, db, lock, opts);
    } catch (e) {
      db?.close();
      if (lock !== undefined) releaseWriterLock(lock);
      throw e;
    }
  }

  private constructor(
    path: string,
    db: Database.Database,
    lock: Database.Database | undefined,
    opts: SqliteJournalOptions,
  ) {
    this.path = path;
    this.db = db;
    this.lock = lock;
    this.readonly = lock === undefined;
    this.every = opts.checkpointEvery;
    this.signer = opts.worldKey;
    this.state = opts.stateProvider;
    if (this.every !== undefined && !(Number.isSafeInteger(this.every) && this.every > 0))
      throw new RangeError("checkpointEvery must be a positive integer");
    if (this.every !== undefined && this.signer === undefined)
      throw new JournalError("journal.no_signing_key", "checkpointEvery needs the world key (worldKey)", { path });
    this.stmt = prepareStatements(db, storageVersion(db));
    this.nodes = nodeTable(db, storageVersion(db));
    this.reader = nodeReader(this.stmt, this.nodes, path);
    this.tip = this.readonly
      ? { tree: new MerkleFrontier(), head: ZERO_HASH, genesis: undefined, state: undefined }
      : this.loadTip();
    this.txExecute = db.transaction((plan: AppendPlan) => this.execute(plan));
    if (this.tip.genesis !== undefined) checkSigner(this.signer, this.tip.genesis.world_public_key, path);
  }

  /** A writer's tip as stored: head, Merkle frontier, genesis, and the latest snapshot's refs (from the index). */
  private loadTip(): Tip {
    const head = this.stmt.head.get() as { seq: number; hash: Buffer } | undefined;
    const tree = MerkleFrontier.load(head === undefined ? 0 : head.seq + 1, this.reader);
    if (head === undefined) return { tree, head: ZERO_HASH, genesis: undefined, state: undefined };
    const snap = this.latestOfKind("snapshot");
    const s = snap === null ? undefined : parseEntryBody("snapshot", decodeStored(snap.body), snap.seq);
    return {
      tree,
      head: head.hash,
      genesis: this.genesis(),
      state:
        s === undefined
          ? undefined
          : { state_root: s.state_root as HashText, manifest_hash: s.manifest_hash as HashText },
    };
  }

  /** Replaces the provider of the state that checkpoints attest (the kernel's live state). */
  setStateProvider(provider: StateProvider): void {
    this.state = provider;
  }

  // ---- appends ----------------------------------------------------------------------

  /** Appends one entry synchronously (one transaction). */
  appendSync(kind: EntryKind, body: CborValue): Appended {
    return this.appendManySync([{ kind, body }])[0]!;
  }

  /** Appends entries in one transaction (one fsync); validates every body first; all or none. */
  appendManySync(items: readonly AppendInput[]): Appended[] {
    this.writable();
    const plan = this.plan(items);
    this.txExecute(plan);
    this.tip = plan.next;
    // The appended items (an automatic checkpoint after them is not one).
    return plan.appended.length === items.length ? plan.appended : plan.appended.slice(0, items.length);
  }

  private plan(items: readonly AppendInput[]): AppendPlan {
    return planAppend(this.tip, items, { every: this.every, signer: this.signer, state: this.state }, this.path);
  }

  /**
   * Runs inside the transaction: the plan's receipt and ingress-key rows, each refused when an
   * earlier append already holds its intent or key (the plan checks only its own batch), then
   * its entries and Merkle nodes.
   */
  private execute(p: AppendPlan): void {
    const s = this.stmt;
    for (let i = 0; i < p.receipts.length; i++) {
      const prior = s.receiptOf.get(p.receipts[i]) as number | undefined;
      if (prior !== undefined)
        throw new JournalError(
          "journal.duplicate_receipt",
          `intent ${p.receipts[i]} already has its receipt at seq ${prior}`,
          { seq: p.receiptSeqs[i], path: this.path },
        );
      s.insertReceipt.run(p.receipts[i], p.receiptSeqs[i]);
    }
    for (let i = 0; i < p.ingress.length; i++) {
      const prior = s.ingressKeyOf.get(p.ingress[i]) as { seq: number } | undefined;
      if (prior !== undefined)
        throw new JournalError(
          "journal.duplicate_ingress",
          `idempotency key ${JSON.stringify(p.ingress[i])} already names the event at seq ${prior.seq}`,
          { seq: p.ingressSeqs[i], path: this.path },
        );
      s.insertIngressKey.run(p.ingress[i], p.ingressSeqs[i], p.ingressRequests[i]);
    }
    let prev = p.prev;
    for (let i = 0; i < p.kinds.length; i++) {
      const hash = p.hashes[i]!;
      s.insert.run(p.first + i, p.kinds[i], p.bodies[i], prev, hash);
      prev = hash;
    }
    for (let i = 0; i < p.nodes.length; i++) this.nodes.put(p.nodes[i]!, p.nodeHashes[i]!);
  }

  /**
   * Executes a plan another store made and committed — PostgreSQL's read mirror follows its
   * database so: one plan, executed by both stores — in one transaction (an erasure's blob
   * deleted and indexed with it). `journal.corrupt` unless the plan extends this file's head.
   */
  applyPlanSync(plan: AppendPlan, erased?: HashText): void {
    this.writable();
    if (plan.first !== this.tip.tree.size || !bytesEqual(plan.prev, this.tip.head))
      throw new JournalError(
        "journal.corrupt",
        `the plan extends ${plan.first} entries, not this journal's ${this.tip.tree.size} and head`,
        { path: this.path, seq: plan.first },
      );
    this.db.transaction(() => {
      if (erased !== undefined) {
        this.stmt.deleteBlob.run(hashToBytes(erased));
        this.stmt.putErasure.run(hashToBytes(erased), plan.first);
      }
      this.execute(plan);
    })();
    // The frontier is copied: the planning store keeps the same tip object.
    this.tip = { ...plan.next, tree: plan.next.tree.clone() };
    if (erased !== undefined) this.db.pragma("wal_checkpoint(TRUNCATE)");
  }

  /** The event first appended under an idempotency key, with the hash of its request, or null. */
  ingressKeySeq(key: string): { seq: number; request_hash: string } | null {
    this.open();
    return (this.stmt.ingressKeyOf.get(key) as { seq: number; request_hash: string } | undefined) ?? null;
  }

  /** The store's ingress key index (key → event seq, request hash). */
  *iterateIngressKeysSync(): IterableIterator<{ key: string; seq: number; request_hash: string }> {
    this.open();
    yield* this.stmt.ingressKeyIndex.iterate() as IterableIterator<{ key: string; seq: number; request_hash: string }>;
  }

  /** The seq of the receipt for `intentId`, or null when it has none. */
  receiptSeq(intentId: string): number | null {
    this.open();
    return (this.stmt.receiptOf.get(intentId) as number | undefined) ?? null;
  }

  /** Signs and appends a checkpoint now over every entry so far (key and state default to the store's). */
  checkpointSync(key: KeyPair | undefined = this.signer, state: StateProvider | undefined = this.state): Appended {
    this.writable();
    if (key === undefined)
      throw new JournalError("journal.no_signing_key", "a checkpoint needs the world key", { path: this.path });
    if (this.tip.tree.size === 0)
      throw new JournalError("journal.bad_sequence", "cannot checkpoint an empty journal", { path: this.path });
    return this.appendSync("checkpoint", tipCheckpoint(this.tip, key, state?.() ?? tipState(this.tip, this.path)));
  }

  /** The genesis body (decoded, schema-checked). */
  genesis(): GenesisBody {
    const g = this.getSync(0);
    if (g === null) throw new JournalError("journal.bad_sequence", "journal has no genesis", { path: this.path });
    return parseEntryBody("genesis", decodeStored(g.body), 0);
  }

  // ---- reads ------------------------------------------------------------------------

  /** The latest entry, or null when empty. */
  headSync(): JournalHead | null {
    this.open();
    if (!this.readonly) return this.tip.tree.size === 0 ? null : { seq: this.tip.tree.size - 1, hash: this.tip.head };
    const h = this.stmt.head.get() as { seq: number; hash: Buffer } | undefined;
    return h === undefined ? null : { seq: h.seq, hash: h.hash };
  }

  /** The storage layout version of the file (`meta.storage_version`; see sqlite-open.ts). */
  storageVersionSync(): number {
    this.open();
    return storageVersion(this.db);
  }

  /** Number of entries (= next seq). */
  countSync(): number {
    const h = this.headSync();
    return h === null ? 0 : h.seq + 1;
  }

  /** The entry at `seq`, or null. */
  getSync(seq: number): JournalEntry | null {
    this.open();
    return (this.stmt.get.get(seq) as JournalEntry | undefined) ?? null;
  }

  /** Streams entries (inclusive range) with better-sqlite3's cursor; do not touch the store while iterating. */
  *iterateSync(fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER): IterableIterator<JournalEntry> {
    this.open();
    yield* this.stmt.range.iterate(fromSeq, toSeq) as IterableIterator<JournalEntry>;
  }

  /** The most recent entry of a kind at or before `atOrBefore` (rare kinds from an index; others scan backwards from the head). */
  latestOfKind(kind: EntryKind, atOrBefore = Number.MAX_SAFE_INTEGER): JournalEntry | null {
    this.open();
    if ((RARE_KINDS as readonly string[]).includes(kind))
      return (this.stmt.latestRare.get(kind, atOrBefore) as JournalEntry | undefined) ?? null;
    if (atOrBefore !== Number.MAX_SAFE_INTEGER)
      throw new RangeError(`latestOfKind(${kind}) takes no bound: ${kind} is not indexed`);
    return (this.stmt.latestOfKind.get(kind) as JournalEntry | undefined) ?? null;
  }

  /** Entries of the rare kinds (genesis, keys, governance, snapshots, checkpoints, erasures) in a seq range, from the index. */
  *rareEntriesSync(fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER): IterableIterator<JournalEntry> {
    this.open();
    yield* this.stmt.rareRange.iterate(fromSeq, toSeq) as IterableIterator<JournalEntry>;
  }

  /** The rare entries that carry rules state (genesis, keys, governance, erasures; no snapshots or checkpoints), from the index. */
  *ruleEntriesSync(fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER): IterableIterator<JournalEntry> {
    this.open();
    yield* this.stmt.ruleRange.iterate(fromSeq, toSeq) as IterableIterator<JournalEntry>;
  }

  /** The stored Merkle frontier of the first `size` entries (where a part-way verification starts). */
  frontierSync(size: number): MerkleFrontier {
    this.checkSize(size, "tree size");
    return MerkleFrontier.load(size, this.reader);
  }

  // ---- Merkle -----------------------------------------------------------------------

  private readonly reader: NodeReader;

  /** The stored perfect node at (level, index), null if missing, undefined below the stored levels. */
  nodeAt(level: number, index: number): Uint8Array | null | undefined {
    this.open();
    return storedNode(this.nodes, level, index);
  }

  /** The stored perfect nodes completed by entries fromSeq..toSeq, by node key (undefined: storage v1); verify audits with it. */
  nodesCompletedSync(fromSeq: number, toSeq: number): Map<number, Uint8Array> | undefined {
    this.open();
    return storedNodesCompleted(this.nodes, fromSeq, toSeq);
  }

  private checkSize(size: number, what: string): void {
    const n = this.countSync();
    if (!Number.isSafeInteger(size) || size < 0 || size > n)
      throw new JournalError("journal.out_of_range", `${what} ${size} is outside 0..${n}`, { path: this.path });
  }

  /** Merkle root over the first `size` entries. */
  rootSync(size = this.countSync()): Uint8Array {
    this.checkSize(size, "tree size");
    return !this.readonly && size === this.tip.tree.size ? this.tip.tree.root() : rootAt(this.reader, size);
  }

  /** Inclusion proof of entry `index` in the tree of `size`. */
  inclusionProofSync(index: number, size = this.countSync()): Uint8Array[] {
    this.checkSize(size, "tree size");
    if (!Number.isSafeInteger(index) || index < 0 || index >= size)
      throw new JournalError("journal.out_of_range", `leaf ${index} is outside a tree of ${size}`, { path: this.path });
    return inclusionPath(this.reader, index, size);
  }

  /** Consistency proof between two tree sizes. */
  consistencyProofSync(oldSize: number, newSize = this.countSync()): Uint8Array[] {
    this.checkSize(newSize, "tree size");
    if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > newSize)
      throw new JournalError("journal.out_of_range", `old size ${oldSize} is outside 0..${newSize}`, {
        path: this.path,
      });
    return consistencyPath(this.reader, oldSize, newSize);
  }

  // ---- blobs ------------------------------------------------------------------------

  /** Stores bytes under their sha256; storing again is a no-op. */
  putBlobSync(bytes: Uint8Array): HashText {
    this.writable();
    const digest = sha256(bytes);
    this.stmt.putBlob.run(digest, bytes);
    return bytesToHash(digest);
  }

  /**
   * The bytes of a blob, checked against their name: bytes that do not hash to it (a
   * substituted file or row) are `journal.blob_hash_mismatch`, never returned.
   * ErasedError (`journal.blob_erased`) after an erasure.
   */
  getBlobSync(hash: HashText): Uint8Array {
    this.open();
    const key = hashToBytes(hash);
    const r = this.stmt.getBlob.get(key) as { bytes: Buffer } | undefined;
    if (r !== undefined) {
      if (!bytesEqual(sha256(r.bytes), key)) throw blobMismatch(hash, r.bytes, this.path);
      return r.bytes;
    }
    const erased = this.stmt.getErasure.get(key) as { seq: number } | undefined;
    if (erased !== undefined) throw new ErasedError(hash, erased.seq);
    throw new JournalError("journal.blob_not_found", `no blob ${hash}`, { path: this.path, blob_hash: hash });
  }

  /** The seq of the erasure entry that erased `hash`, or null. */
  erasureSeq(hash: HashText): number | null {
    this.open();
    return (this.stmt.getErasure.get(hashToBytes(hash)) as { seq: number } | undefined)?.seq ?? null;
  }

  /** Every stored blob with the name it is stored under (bytes unchecked: the caller checks them). */
  *iterateBlobsSync(): IterableIterator<{ hash: HashText; bytes: Uint8Array }> {
    this.open();
    for (const r of this.stmt.blobs.iterate() as IterableIterator<{ hash: Buffer; bytes: Buffer }>)
      yield { hash: bytesToHash(r.hash), bytes: r.bytes };
  }

  /** The store's erasure index (blob → erasure seq), which `getBlob` answers from. */
  *iterateErasuresSync(): IterableIterator<{ hash: HashText; seq: number }> {
    this.open();
    for (const r of this.stmt.erasureIndex.iterate() as IterableIterator<{ hash: Buffer; seq: number }>)
      yield { hash: bytesToHash(r.hash), seq: r.seq };
  }

  /** The store's receipt index (intent → receipt seq), which refuses a second receipt. */
  *iterateReceiptIndexSync(): IterableIterator<{ intent_id: string; seq: number }> {
    this.open();
    yield* this.stmt.receiptIndex.iterate() as IterableIterator<{ intent_id: string; seq: number }>;
  }

  /** True when the blob's bytes are present. */
  hasBlobSync(hash: HashText): boolean {
    this.open();
    return this.stmt.hasBlob.get(hashToBytes(hash)) !== undefined;
  }

  /** Deletes a blob's bytes (pages zeroed, WAL truncated) and journals the erasure, atomically. */
  eraseSync(hash: HashText, reason: string, extra: ErasureExtra = {}): Appended {
    this.writable();
    const key = hashToBytes(hash);
    const plan = this.plan([{ kind: "erasure", body: { blob_hash: hash, reason, ...extra } }]);
    this.db.transaction(() => {
      if (this.stmt.deleteBlob.run(key).changes === 0) this.getBlobSync(hash); // throws erased / not found
      this.execute(plan);
      this.stmt.putErasure.run(key, plan.first);
    })();
    this.tip = plan.next;
    // Old page images of the blob may still sit in the WAL; fold it back and truncate it.
    this.db.pragma("wal_checkpoint(TRUNCATE)");
    return plan.appended[0]!;
  }

  // ---- lifecycle --------------------------------------------------------------------

  /** The lease port: a SQLite file has one writer by its file lock, so there is no lease. */
  leaseState(): undefined {
    return undefined;
  }

  /** Closes the file and releases the writer lock. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
    if (this.lock !== undefined) releaseWriterLock(this.lock);
    this.lock = undefined;
  }

  private open(): void {
    if (this.closed) throw new JournalError("journal.closed", "journal is closed", { path: this.path });
  }

  private writable(): void {
    this.open();
    if (this.readonly) throw new JournalError("journal.readonly", "journal is open read-only", { path: this.path });
  }

  // ---- the JournalStore port --------------------------------------------------------

  async append(kind: EntryKind, body: CborValue): Promise<Appended> {
    return this.appendSync(kind, body);
  }
  async appendMany(items: readonly AppendInput[]): Promise<Appended[]> {
    return this.appendManySync(items);
  }
  async head(): Promise<JournalHead | null> {
    return this.headSync();
  }
  async count(): Promise<number> {
    return this.countSync();
  }
  async get(seq: number): Promise<JournalEntry | null> {
    return this.getSync(seq);
  }
  /** Pages through the range (constant memory) so callers may await other store calls between entries. */
  async *iterate(fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER): AsyncIterable<JournalEntry> {
    let next = fromSeq;
    for (;;) {
      this.open();
      const rows = this.stmt.page.all(next, toSeq, PAGE) as JournalEntry[];
      for (const r of rows) yield r;
      if (rows.length < PAGE) return;
      next = rows[rows.length - 1]!.seq + 1;
    }
  }
  async putBlob(bytes: Uint8Array): Promise<HashText> {
    return this.putBlobSync(bytes);
  }
  async getBlob(hash: HashText): Promise<Uint8Array> {
    return this.getBlobSync(hash);
  }
  async hasBlob(hash: HashText): Promise<boolean> {
    return this.hasBlobSync(hash);
  }
  async erase(hash: HashText, reason: string, extra?: ErasureExtra): Promise<Appended> {
    return this.eraseSync(hash, reason, extra);
  }
  async checkpoint(key?: KeyPair, state?: StateProvider): Promise<Appended> {
    return this.checkpointSync(key, state);
  }
  async root(size?: number): Promise<Uint8Array> {
    return this.rootSync(size);
  }
  async inclusionProof(index: number, size?: number): Promise<Uint8Array[]> {
    return this.inclusionProofSync(index, size);
  }
  async consistencyProof(oldSize: number, newSize?: number): Promise<Uint8Array[]> {
    return this.consistencyProofSync(oldSize, newSize);
  }
  async close(): Promise<void> {
    this.closeSync();
  }
}
