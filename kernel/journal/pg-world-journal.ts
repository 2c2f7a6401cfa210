/**
 * @module A world's journal in PostgreSQL as the kernel uses it (`WorldJournal`): the database
 * is the record, and a local SQLite mirror answers the kernel's synchronous reads. The mirror
 * is loaded verbatim from the database on open (after the lock or lease is taken, so no other
 * writer moves the world meanwhile) and follows every commit before the write resolves: an
 * append is written to PostgreSQL first, under the lease's fencing token, and only then to
 * the mirror, with each hash checked against the database's. A crash between the two loses
 * nothing: the mirror is a cache, rebuilt on the next open. Blobs are put in the mirror at
 * once and flushed to the database before the next journal write, so an entry never commits
 * ahead of a blob it names. The asynchronous `JournalStore` reads (entries, proofs, nodes)
 * ask the database itself, so `verifyJournal` on this store audits the rows of record. A mirror
 * lives in `wk-mirror-<pid>-…` and is deleted on close; one whose process died is swept away by
 * the next open in the same directory.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import type { KeyPair } from "../crypto/keys.js";
import { bytesEqual } from "../crypto/merkle-verify.js";
import type { StateProvider } from "./checkpoint.js";
import type { EntryKind, GenesisBody } from "./entries.js";
import { JournalError } from "./errors.js";
import type { MerkleFrontier } from "./merkle.js";
import { rowsOfPg } from "./pg-move.js";
import { PG_SCHEMA_VERSION } from "./pg-schema.js";
import { PgJournalStore, type PgJournalOptions, type PgLease } from "./pg-store.js";
import { importVerbatim } from "./sqlite-import.js";
import { SqliteJournalStore } from "./sqlite-store.js";
import type { AppendInput, Appended, JournalEntry, JournalHead } from "./store.js";
import type { ErasureExtra, LeaseState } from "./ports.js";
import type { WorldJournal } from "./world-journal.js";

/** Options of a PostgreSQL world journal: the store's, and where the mirror file lives. */
export interface PgWorldJournalOptions extends Omit<PgJournalOptions, "onCommit"> {
  /** The directory the mirror's temporary directory is made in (default: the OS temp directory). */
  mirrorDir?: string;
  /** With a lease: renew it this often (default a third of its TTL; 0 turns renewal off, the caller renews). */
  renewEveryMs?: number;
}

/** The typed error of a mirror that does not hash as the database (a bug or a changed database). */
function diverged(where: string, seq: number): JournalError {
  return new JournalError(
    "journal.corrupt",
    `the local mirror's entry ${seq} does not hash as the database's: reopen the world to rebuild it`,
    { path: where, seq },
  );
}

/** Checks that the mirror appended exactly what the database committed. */
function checkFollowed(where: string, got: readonly Appended[], want: readonly Appended[]): void {
  want.forEach((w, i) => {
    const g = got[i];
    if (g === undefined || g.seq !== w.seq || !bytesEqual(g.hash, w.hash)) throw diverged(where, w.seq);
  });
}

/** True when process `pid` is alive (signal 0 checks without signalling; EPERM means it exists). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the mirrors of processes that died without closing (a SIGKILL leaves its mirror behind). */
function sweepDeadMirrors(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return; // mkdtemp reports a missing or unwritable directory
  }
  for (const name of names) {
    const m = /^wk-mirror-(\d+)-/.exec(name);
    if (m !== null && !alive(Number(m[1]))) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

/** One world's journal in PostgreSQL, with a local mirror for the kernel's synchronous reads. */
export class PgWorldJournal implements WorldJournal {
  readonly path: string;
  readonly readonly: boolean;
  /** Blobs put since the last write, by hash: flushed to the database before the next entry. */
  private readonly pending = new Map<HashText, Uint8Array>();
  private closed = false;
  private renewal: ReturnType<typeof setInterval> | undefined;

  /** Opens (or with `create`, creates) world `worldId` in the database at `url`, and loads its mirror. */
  static async open(url: string, worldId: string, opts: PgWorldJournalOptions = {}): Promise<PgWorldJournal> {
    const { mirrorDir, renewEveryMs, ...pgOpts } = opts;
    const follower: { mirror?: SqliteJournalStore; where: string } = { where: url };
    const pg = await PgJournalStore.open(url, worldId, {
      ...pgOpts,
      onCommit: (items, appended, erased) => {
        const m = follower.mirror!;
        if (erased === undefined) return checkFollowed(follower.where, m.appendManySync(items), appended);
        // An erasure, then the automatic checkpoint when it crossed the cadence.
        const { reason, derived_from, notify } = items[0]!.body as unknown as { reason: string } & ErasureExtra;
        const extra = { ...(derived_from ? { derived_from } : {}), ...(notify ? { notify } : {}) };
        const first = m.eraseSync(erased, reason, extra);
        const rest = items.length > 1 ? m.appendManySync(items.slice(1)) : [];
        checkFollowed(follower.where, [first, ...rest], appended);
      },
    });
    follower.where = pg.path;
    const parent = mirrorDir ?? tmpdir();
    sweepDeadMirrors(parent);
    const dir = mkdtempSync(join(parent, `wk-mirror-${process.pid}-`));
    try {
      const file = join(dir, "journal.db");
      importVerbatim(file, await rowsOfPg(pg));
      const mirror = SqliteJournalStore.open(file, { synchronous: "NORMAL" });
      follower.mirror = mirror;
      const [a, b] = [await pg.head(), mirror.headSync()];
      if ((a === null) !== (b === null) || (a !== null && b !== null && !bytesEqual(a.hash, b.hash)))
        throw diverged(pg.path, a?.seq ?? 0);
      const j = new PgWorldJournal(pg, mirror, dir);
      const every = opts.lease ? (renewEveryMs ?? Math.max(1, Math.floor(opts.lease.ttlMs / 3))) : 0;
      // Renewal is liveness only (fencing keeps a late writer out); unref'd, so it never holds the process open.
      if (every > 0) j.renewal = setInterval(() => void j.db.renewLease().catch(() => undefined), every).unref();
      return j;
    } catch (e) {
      follower.mirror?.closeSync();
      rmSync(dir, { recursive: true, force: true });
      await pg.close().catch(() => undefined);
      throw e;
    }
  }

  private constructor(
    /** The database store: the record every write goes to first. */
    readonly db: PgJournalStore,
    private readonly mirror: SqliteJournalStore,
    private readonly mirrorDir: string,
  ) {
    this.path = db.path;
    this.readonly = db.readonly;
  }

  /** The lease this journal writes under (undefined without one). */
  get lease(): PgLease | undefined {
    return this.db.lease;
  }

  /** True once another node took the lease: this journal writes no more. */
  get leaseLost(): boolean {
    return this.db.leaseLost;
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
    const h = this.mirror.putBlobSync(bytes);
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
      this.mirror.closeSync();
      rmSync(this.mirrorDir, { recursive: true, force: true });
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
