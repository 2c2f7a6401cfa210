/**
 * @module A world's journal in PostgreSQL as the kernel uses it: the four ports (ports.ts) over
 * two named parts. The database store (`PgJournalStore`) is the record and the writer: every
 * append goes to it first, under the lease's fencing token, and the async `JournalStore` reads
 * (entries, proofs, nodes) ask it, so `verifyJournal` on this store audits the rows of record.
 * The read mirror (`PgReadMirror`, pg-read-mirror.ts) answers the synchronous `JournalReader`
 * and `BlobStore` reads: loaded from the database on open, verified against it, following each
 * commit before the write resolves. Blobs are put in the mirror at once and flushed to the
 * database before the next journal write, so an entry never commits ahead of a blob it names.
 * The `Lease` port reports the database store's lease.
 */
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import type { KeyPair } from "../crypto/keys.js";
import type { StateProvider } from "./checkpoint.js";
import type { EntryKind, GenesisBody } from "./entries.js";
import { JournalError } from "./errors.js";
import type { MerkleFrontier } from "./merkle.js";
import { PgReadMirror } from "./pg-read-mirror.js";
import { PG_SCHEMA_VERSION } from "./pg-schema.js";
import { PgJournalStore, type PgJournalOptions } from "./pg-store.js";
import type { ErasureExtra, LeaseState } from "./ports.js";
import type { AppendInput, Appended, JournalEntry, JournalHead } from "./store.js";
import type { WorldJournal } from "./world-journal.js";

/** Options of a PostgreSQL world journal: the store's, and where the read mirror lives. */
export interface PgWorldJournalOptions extends Omit<PgJournalOptions, "onCommit"> {
  /** The directory the mirror's temporary directory is made in (default: the OS temp directory). */
  mirrorDir?: string;
  /** With a lease: renew it this often (default a third of its TTL; 0 turns renewal off, the caller renews). */
  renewEveryMs?: number;
}

/** One world's journal in PostgreSQL, with a local mirror for the kernel's synchronous reads. */
export class PgWorldJournal implements WorldJournal {
  readonly path: string;
  readonly readonly: boolean;
  /** Blobs put since the last write, by hash: flushed to the database before the next entry. */
  private readonly pending = new Map<HashText, Uint8Array>();
  private closed = false;
  private renewal: ReturnType<typeof setInterval> | undefined;

  /** Opens (or with `create`, creates) world `worldId` in the database at `url`, and loads its read mirror. */
  static async open(url: string, worldId: string, opts: PgWorldJournalOptions = {}): Promise<PgWorldJournal> {
    const { mirrorDir, renewEveryMs, ...pgOpts } = opts;
    // The database calls the mirror after each commit; the mirror exists once the world is locked.
    const follower: { mirror?: PgReadMirror } = {};
    const db = await PgJournalStore.open(url, worldId, {
      ...pgOpts,
      onCommit: (plan, erased) => follower.mirror!.follow(plan, erased),
    });
    try {
      const mirror = (follower.mirror = await PgReadMirror.load(db, mirrorDir));
      const j = new PgWorldJournal(db, mirror);
      const every = opts.lease ? (renewEveryMs ?? Math.max(1, Math.floor(opts.lease.ttlMs / 3))) : 0;
      // Renewal is liveness only (fencing keeps a late writer out); unref'd, so it never holds the process open.
      if (every > 0) j.renewal = setInterval(() => void j.db.renewLease().catch(() => undefined), every).unref();
      return j;
    } catch (e) {
      await db.close().catch(() => undefined);
      throw e;
    }
  }

  /** The read mirror's synchronous reads. */
  private readonly mirror: PgReadMirror["reader"];

  private constructor(
    /** The database store: the record every write goes to first. */
    private readonly db: PgJournalStore,
    /** The read mirror: a verified local cache of the database's rows. */
    private readonly cache: PgReadMirror,
  ) {
    this.path = db.path;
    this.readonly = db.readonly;
    this.mirror = cache.reader;
  }

  /** Holds the read mirror to the database now (count and head row); `journal.corrupt` when they differ. */
  verifyMirror(): Promise<void> {
    return this.cache.verify(this.db);
  }

  /** The lease port: the database store's lease, and whether another node has taken it. */
  leaseState(): LeaseState | undefined {
    return this.db.leaseState();
  }

  /** Extends the lease; false once another node has taken it (this journal then writes no more). */
  renewLease(): Promise<boolean> {
    return this.db.renewLease();
  }

  private writable(): void {
    if (this.closed) throw new JournalError("journal.closed", "journal is closed", { path: this.path });
    if (this.readonly) throw new JournalError("journal.readonly", "journal is open read-only", { path: this.path });
  }

  /** Puts every pending blob in the database; those put meanwhile stay pending. */
  private async flushBlobs(): Promise<void> {
    for (const [hash, bytes] of [...this.pending]) {
      await this.db.putBlob(bytes);
      this.pending.delete(hash);
    }
  }

  // ---- writes -----------------------------------------------------------------------

  setStateProvider(provider: StateProvider): void {
    this.db.setStateProvider(provider);
  }

  async append(kind: EntryKind, body: CborValue): Promise<Appended> {
    return (await this.appendMany([{ kind, body }]))[0]!;
  }

  async appendMany(items: readonly AppendInput[]): Promise<Appended[]> {
    this.writable();
    await this.flushBlobs();
    return this.db.appendMany(items);
  }

  async checkpoint(key?: KeyPair, state?: StateProvider): Promise<Appended> {
    this.writable();
    await this.flushBlobs();
    return this.db.checkpoint(key, state);
  }

  async erase(hash: HashText, reason: string, extra: ErasureExtra = {}): Promise<Appended> {
    this.writable();
    await this.flushBlobs();
    return this.db.erase(hash, reason, extra);
  }

  putBlobSync(bytes: Uint8Array): HashText {
    this.writable();
    const h = this.cache.putBlobSync(bytes);
    this.pending.set(h, bytes.slice()); // the caller may reuse its buffer before the flush
    return h;
  }

  async putBlob(bytes: Uint8Array): Promise<HashText> {
    const h = this.putBlobSync(bytes);
    await this.flushBlobs();
    return h;
  }

  /** Waits for pending writes and closes the database connection (giving the lease up) and the mirror. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.renewal);
    try {
      if (!this.readonly && this.pending.size > 0 && !this.db.leaseLost) await this.flushBlobs().catch(() => undefined);
      await this.db.close();
    } finally {
      this.cache.close();
    }
  }

  // ---- synchronous reads: the mirror ------------------------------------------------

  headSync(): JournalHead | null {
    return this.mirror.headSync();
  }
  countSync(): number {
    return this.mirror.countSync();
  }
  getSync(seq: number): JournalEntry | null {
    return this.mirror.getSync(seq);
  }
  iterateSync(fromSeq?: number, toSeq?: number): IterableIterator<JournalEntry> {
    return this.mirror.iterateSync(fromSeq, toSeq);
  }
  latestOfKind(kind: EntryKind, atOrBefore?: number): JournalEntry | null {
    return this.mirror.latestOfKind(kind, atOrBefore);
  }
  rareEntriesSync(fromSeq?: number, toSeq?: number): IterableIterator<JournalEntry> {
    return this.mirror.rareEntriesSync(fromSeq, toSeq);
  }
  ruleEntriesSync(fromSeq?: number, toSeq?: number): IterableIterator<JournalEntry> {
    return this.mirror.ruleEntriesSync(fromSeq, toSeq);
  }
  genesis(): GenesisBody {
    return this.mirror.genesis();
  }
  /** The database's schema version (open migrated it to this one, or found it so when read-only). */
  storageVersionSync(): number {
    return PG_SCHEMA_VERSION;
  }
  ingressKeySeq(key: string): { seq: number; request_hash: string } | null {
    return this.mirror.ingressKeySeq(key);
  }
  receiptSeq(intentId: string): number | null {
    return this.mirror.receiptSeq(intentId);
  }
  iterateReceiptIndexSync(): IterableIterator<{ intent_id: string; seq: number }> {
    return this.mirror.iterateReceiptIndexSync();
  }
  iterateIngressKeysSync(): IterableIterator<{ key: string; seq: number; request_hash: string }> {
    return this.mirror.iterateIngressKeysSync();
  }
  frontierSync(size: number): MerkleFrontier {
    return this.mirror.frontierSync(size);
  }
  rootSync(size?: number): Uint8Array {
    return this.mirror.rootSync(size);
  }
  /** The database's stored node, so verify audits the rows proofs are served from (the mirror's are rebuilt). */
  nodeAt(level: number, index: number): Promise<Uint8Array | null | undefined> {
    return this.db.nodeAt(level, index);
  }
  getBlobSync(hash: HashText): Uint8Array {
    return this.mirror.getBlobSync(hash);
  }
  hasBlobSync(hash: HashText): boolean {
    return this.mirror.hasBlobSync(hash);
  }
  erasureSeq(hash: HashText): number | null {
    return this.mirror.erasureSeq(hash);
  }
  iterateBlobsSync(): IterableIterator<{ hash: HashText; bytes: Uint8Array }> {
    return this.mirror.iterateBlobsSync();
  }
  iterateErasuresSync(): IterableIterator<{ hash: HashText; seq: number }> {
    return this.mirror.iterateErasuresSync();
  }

  // ---- the asynchronous JournalStore port: the database -----------------------------

  head(): Promise<JournalHead | null> {
    return this.db.head();
  }
  count(): Promise<number> {
    return this.db.count();
  }
  get(seq: number): Promise<JournalEntry | null> {
    return this.db.get(seq);
  }
  iterate(fromSeq?: number, toSeq?: number): AsyncIterable<JournalEntry> {
    return this.db.iterate(fromSeq, toSeq);
  }
  async getBlob(hash: HashText): Promise<Uint8Array> {
    return this.pending.get(hash) ?? this.db.getBlob(hash);
  }
  async hasBlob(hash: HashText): Promise<boolean> {
    return this.pending.has(hash) || this.db.hasBlob(hash);
  }
  root(size?: number): Promise<Uint8Array> {
    return this.db.root(size);
  }
  inclusionProof(index: number, size?: number): Promise<Uint8Array[]> {
    return this.db.inclusionProof(index, size);
  }
  consistencyProof(oldSize: number, newSize?: number): Promise<Uint8Array[]> {
    return this.db.consistencyProof(oldSize, newSize);
  }
}
