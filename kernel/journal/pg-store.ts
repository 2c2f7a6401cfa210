/**
 * @module The PostgreSQL `JournalStore`: many worlds in one database, one world per store.
 * Worlds share one set of tables keyed by `world_id` rather than a schema each: migrations
 * run once per database, every world uses the same named statements on any connection,
 * thousands of worlds add rows, not catalogs, and the per-world leases of issue 13 join on
 * the same key. Chaining, Merkle nodes and checks happen in the client: the store executes
 * the append plan the SQLite store executes (append-plan.ts), each append one round trip to
 * one database function that
 * checks the head and writes every row in one transaction (pg-schema.ts).
 */
import type { CborValue } from "../../air/cbor/value.js";
import { bytesToHash, hashToBytes, sha256, type HashText } from "../../air/hash.js";
import { bytesEqual } from "../crypto/merkle-verify.js";
import type { KeyPair } from "../crypto/keys.js";
import type { StateProvider } from "./checkpoint.js";
import type { EntryKind } from "./entries.js";
import { ErasedError, JournalError } from "./errors.js";
import { consistencyPath, inclusionPath, MerkleFrontier, rootAt } from "./merkle.js";
import { storedNodeAt, withNodes } from "./pg-merkle.js";
import { refusal } from "./pg-refusal.js";
import { NO_BLOB_SQLSTATE } from "./pg-schema.js";
import { loadTip } from "./pg-tip.js";
import {
  checkVersion,
  connect,
  locationOf,
  pgErrorOf,
  migrate,
  openWorld,
  takeWorldLock,
  type PgClient,
} from "./pg-open.js";
import { checkSigner, planAppend, tipCheckpoint, tipState, type AppendPlan, type Tip } from "./append-plan.js";
import { SQL } from "./pg-statements.js";
import { blobMismatch } from "./sqlite-store.js";
import type { AppendInput, Appended, JournalEntry, JournalHead, JournalStore } from "./store.js";
import type { ErasureExtra, Lease, LeaseState } from "./ports.js";

/** Options for opening or creating a world in PostgreSQL (the SQLite store's, where they apply). */
export interface PgJournalOptions {
  /** Create the world (refuses an existing one); otherwise it must exist. */
  create?: boolean;
  /** Open without the writer lock; every write throws `journal.readonly`. */
  readonly?: boolean;
  /** FULL (default) waits for the commit to be durable; NORMAL sets synchronous_commit=off (a server crash may lose the last commits, never corrupt). */
  synchronous?: "FULL" | "NORMAL";
  /** Write a signed checkpoint whenever the entry count crosses a multiple of this (needs `worldKey`). */
  checkpointEvery?: number;
  /** The world's key pair: signs checkpoints, automatic and on demand. */
  worldKey?: KeyPair;
  /** The state refs checkpoints attest (default: the latest snapshot's, else genesis's manifest with the zero state root). */
  stateProvider?: StateProvider;
  /**
   * Write under a lease instead of the session lock: open takes the world's lease for `holder`
   * (refused with `journal.lease_held` while another holder's is unexpired at `now()`), and every
   * append carries its fencing token; once another node has taken the lease, an append is
   * `journal.lease_lost` and the store writes no more. The holder renews with `renewLease()`.
   */
  lease?: PgLeaseOptions;
  /**
   * Called after each write commits, before it resolves, with the plan the database executed
   * (automatic checkpoint included) and, for an erasure, the blob it deleted: a mirror follows.
   */
  onCommit?: (plan: AppendPlan, erased?: HashText) => void;
}

/** A writer's lease: who holds it, for how long, and the clock its expiry is read in (injectable). */
export interface PgLeaseOptions {
  holder: string;
  ttlMs: number;
  /** Milliseconds of the nodes' shared clock (default `Date.now`); only liveness depends on it, fencing does not. */
  now?: () => number;
}

/** The lease a store writes under. */
export interface PgLease {
  holder: string;
  token: number;
  expiresAtMs: number;
}

type EntryRow = JournalEntry;
const PAGE = 256;

/** A batch's rows as the append function's parameters after p_world. */
function rowsOf(b: AppendPlan): unknown[] {
  return [
    b.first,
    b.prev,
    b.kinds,
    b.bodies,
    b.hashes,
    b.nodes,
    b.nodeHashes,
    b.receipts,
    b.receiptSeqs,
    b.ingress,
    b.ingressSeqs,
    b.ingressRequests,
  ];
}

/** Takes the world's lease for `o.holder`, or refuses with `journal.lease_held` naming who holds it until when. */
async function takeLease(c: PgClient, worldId: string, o: PgLeaseOptions, where: string): Promise<PgLease> {
  const now = (o.now ?? Date.now)();
  const r = await c.query<{ acquired: boolean; token: number; holder: string; expires_at_ms: number }>({
    ...SQL.acquireLease,
    values: [worldId, o.holder, now, o.ttlMs],
  });
  const row = r.rows[0]!;
  if (!row.acquired)
    throw new JournalError(
      "journal.lease_held",
      `${row.holder} holds the world's lease (token ${row.token}) until ${row.expires_at_ms}, ${row.expires_at_ms - now} ms from now`,
      { path: where },
    );
  return { holder: row.holder, token: row.token, expiresAtMs: row.expires_at_ms };
}

/** Opens (or with `create`, creates) world `worldId` in the database at `url`. */
export function openPgJournalStore(url: string, worldId: string, opts: PgJournalOptions = {}): Promise<PgJournalStore> {
  return PgJournalStore.open(url, worldId, opts);
}

/** One world's journal in a PostgreSQL database. */
export class PgJournalStore implements JournalStore, Lease {
  readonly worldId: string;
  /** Where errors say they happened: `pg:host:port/database#world` (no credentials). */
  readonly path: string;
  readonly readonly: boolean;
  private readonly c: PgClient;
  private tip: Tip;
  private readonly every: number | undefined;
  private readonly signer: KeyPair | undefined;
  /** The kernel's state provider; undefined: the tip's (latest snapshot, else genesis's manifest). */
  private state: StateProvider | undefined;
  private closed = false;
  /** Set when close() starts: writes queued before it finish, later ones are refused. */
  private closing = false;
  /** Writes run one after another: each plans on the tip the previous one committed. */
  private queue: Promise<unknown> = Promise.resolve();

  /** Opens (or with `create`, creates) world `worldId` in the database at `url`. */
  static async open(url: string, worldId: string, opts: PgJournalOptions = {}): Promise<PgJournalStore> {
    if (typeof worldId !== "string" || worldId.length === 0) throw new RangeError("worldId must be a non-empty string");
    const every = opts.checkpointEvery;
    if (every !== undefined && !(Number.isSafeInteger(every) && every > 0))
      throw new RangeError("checkpointEvery must be a positive integer");
    if (opts.readonly && opts.create) throw new RangeError("a world cannot be created read-only");
    if (opts.readonly && opts.lease) throw new RangeError("a read-only store takes no lease");
    if (opts.lease && !(Number.isSafeInteger(opts.lease.ttlMs) && opts.lease.ttlMs > 0))
      throw new RangeError("lease.ttlMs must be a positive integer");
    const where = locationOf(url, worldId);
    if (every !== undefined && opts.worldKey === undefined)
      throw new JournalError("journal.no_signing_key", "checkpointEvery needs the world key (worldKey)", {
        path: where,
      });
    const c = await connect(url, where);
    try {
      await (opts.readonly ? checkVersion(c, where) : migrate(c, where));
      // A leased writer is fenced by its token, not a session lock: a paused holder keeps its session.
      if (!opts.readonly && !opts.lease) await takeWorldLock(c, worldId, where);
      await openWorld(c, worldId, opts.create === true, where);
      const lease = opts.lease ? await takeLease(c, worldId, opts.lease, where) : undefined;
      if (opts.synchronous === "NORMAL") await c.query("SET synchronous_commit = off");
      const tip = await loadTip(c, worldId, where, opts.readonly === true);
      const genesis = tip.genesis;
      if (genesis !== undefined) checkSigner(opts.worldKey, genesis.world_public_key, where);
      const store = new PgJournalStore(c, worldId, where, tip, opts);
      store.leaseHeld = lease;
      return store;
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
  }

  /** The lease written under, its options, and whether another node has taken it since. */
  private leaseHeld: PgLease | undefined;
  private readonly leaseOpts: PgLeaseOptions | undefined;
  private lost = false;
  private readonly onCommit: PgJournalOptions["onCommit"];

  private constructor(c: PgClient, worldId: string, where: string, tip: Tip, opts: PgJournalOptions) {
    this.leaseOpts = opts.lease;
    this.onCommit = opts.onCommit;
    this.c = c;
    this.worldId = worldId;
    this.path = where;
    this.readonly = opts.readonly === true;
    this.tip = tip;
    this.every = opts.checkpointEvery;
    this.signer = opts.worldKey;
    this.state = opts.stateProvider;
  }

  /** Replaces the provider of the state that checkpoints attest (the kernel's live state). */
  setStateProvider(provider: StateProvider): void {
    this.state = provider;
  }

  private open(): void {
    if (this.closed) throw new JournalError("journal.closed", "journal is closed", { path: this.path });
  }

  private writable(): void {
    this.open();
    if (this.readonly) throw new JournalError("journal.readonly", "journal is open read-only", { path: this.path });
    if (this.lost)
      throw new JournalError("journal.lease_lost", "this writer lost the world's lease and writes no more", {
        path: this.path,
      });
  }

  /** True once another node took the lease: this store writes no more. */
  get leaseLost(): boolean {
    return this.lost;
  }

  /** The lease this store writes under (undefined without one). */
  get lease(): PgLease | undefined {
    return this.leaseHeld;
  }

  /** The lease port: the lease written under and whether it was lost (undefined without one; answers after close too). */
  leaseState(): LeaseState | undefined {
    const l = this.leaseHeld;
    return l === undefined ? undefined : { ...l, lost: this.lost };
  }

  /** Extends the lease by its TTL from now; false (and the store writes no more) when another node has taken it. */
  renewLease(): Promise<boolean> {
    return this.serial(async () => {
      const l = this.leaseHeld;
      if (l === undefined || this.leaseOpts === undefined) throw new RangeError("this store holds no lease");
      if (this.lost) return false;
      const now = (this.leaseOpts.now ?? Date.now)();
      const r = await this.c.query({
        ...SQL.renewLease,
        values: [this.worldId, l.holder, l.token, now, this.leaseOpts.ttlMs],
      });
      if (r.rowCount === 0) this.lost = true;
      else this.leaseHeld = { ...l, expiresAtMs: now + this.leaseOpts.ttlMs };
      return !this.lost;
    });
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing)
      return Promise.reject(new JournalError("journal.closed", "journal is closed", { path: this.path }));
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  // ---- appends ----------------------------------------------------------------------

  /** Appends one entry (one round trip, one transaction). */
  append(kind: EntryKind, body: CborValue): Promise<Appended> {
    return this.appendMany([{ kind, body }]).then((a) => a[0]!);
  }

  /** Appends entries in one transaction (group commit); validates every body first; all or none. */
  appendMany(items: readonly AppendInput[]): Promise<Appended[]> {
    return this.serial(async () => {
      this.writable();
      const b = this.plan(items);
      await this.send(b);
      this.tip = b.next;
      this.onCommit?.(b);
      // As the SQLite store: the appended items (an automatic checkpoint after them is not one).
      return b.appended.slice(0, items.length);
    });
  }

  /** Signs and appends a checkpoint over every entry so far (key and state default to the store's). */
  checkpoint(key: KeyPair | undefined = this.signer, state: StateProvider | undefined = this.state): Promise<Appended> {
    return this.serial(async () => {
      this.writable();
      if (key === undefined)
        throw new JournalError("journal.no_signing_key", "a checkpoint needs the world key", { path: this.path });
      if (this.tip.tree.size === 0)
        throw new JournalError("journal.bad_sequence", "cannot checkpoint an empty journal", { path: this.path });
      const body = tipCheckpoint(this.tip, key, state?.() ?? tipState(this.tip, this.path));
      const b = this.plan([{ kind: "checkpoint", body }]);
      await this.send(b);
      this.tip = b.next;
      this.onCommit?.(b);
      return b.appended[0]!;
    });
  }

  private plan(items: readonly AppendInput[]): AppendPlan {
    return planAppend(this.tip, items, { every: this.every, signer: this.signer, state: this.state }, this.path);
  }

  /** The one statement of an append; database refusals become the SQLite store's typed errors. */
  private async send(b: AppendPlan): Promise<void> {
    try {
      await this.c.query({ ...SQL.append, values: [this.worldId, this.leaseHeld?.token ?? null, ...rowsOf(b)] });
    } catch (e) {
      throw this.noteRefusal(await refusal(this.c, this.worldId, this.path, e, b));
    }
  }

  /** A lost lease stops every later write (the refusal is returned to throw). */
  private noteRefusal(e: unknown): unknown {
    if ((e as { code?: string }).code === "journal.lease_lost") this.lost = true;
    return e;
  }

  /** The seq of the receipt for `intentId`, or null when it has none. */
  async receiptSeq(intentId: string): Promise<number | null> {
    this.open();
    const r = await this.c.query<{ seq: number }>({ ...SQL.receiptOf, values: [this.worldId, intentId] });
    return r.rows[0]?.seq ?? null;
  }

  /** The event first appended under an idempotency key, with the hash of its request, or null. */
  async ingressKeySeq(key: string): Promise<{ seq: number; request_hash: string } | null> {
    this.open();
    const r = await this.c.query<{ seq: number; request_hash: string }>({
      ...SQL.ingressKeyOf,
      values: [this.worldId, key],
    });
    return r.rows[0] ?? null;
  }

  // ---- reads ------------------------------------------------------------------------

  /** The latest entry (the writer's committed tip; a reader asks the database), or null. */
  async head(): Promise<JournalHead | null> {
    this.open();
    if (!this.readonly) {
      const t = this.tip;
      return t.tree.size === 0 ? null : { seq: t.tree.size - 1, hash: t.head };
    }
    const h = (await this.c.query<{ seq: number; hash: Buffer }>({ ...SQL.head, values: [this.worldId] })).rows[0];
    return h === undefined ? null : { seq: h.seq, hash: h.hash };
  }

  /** Number of entries (= next seq). */
  async count(): Promise<number> {
    const h = await this.head();
    return h === null ? 0 : h.seq + 1;
  }

  /** The entry at `seq`, or null. */
  async get(seq: number): Promise<JournalEntry | null> {
    this.open();
    const r = await this.c.query<EntryRow>({ ...SQL.get, values: [this.worldId, seq] });
    return r.rows[0] ?? null;
  }

  /** Pages through the range (constant memory), so callers may use the store between entries. */
  async *iterate(fromSeq = 0, toSeq = Number.MAX_SAFE_INTEGER): AsyncIterable<JournalEntry> {
    let next = fromSeq;
    for (;;) {
      this.open();
      const r = await this.c.query<EntryRow>({ ...SQL.page, values: [this.worldId, next, toSeq, PAGE] });
      for (const row of r.rows) yield row;
      if (r.rows.length < PAGE) return;
      next = r.rows[r.rows.length - 1]!.seq + 1;
    }
  }

  /** The most recent entry of a rare kind (genesis, keys, governance, snapshot, checkpoint, erasure) at or before a seq. */
  async latestOfKind(kind: EntryKind, atOrBefore = Number.MAX_SAFE_INTEGER): Promise<JournalEntry | null> {
    this.open();
    const r = await this.c.query<EntryRow>({ ...SQL.latestRare, values: [this.worldId, kind, atOrBefore] });
    return r.rows[0] ?? null;
  }

  // ---- Merkle -----------------------------------------------------------------------

  private async checkSize(size: number, what: string): Promise<void> {
    const n = await this.count();
    if (!Number.isSafeInteger(size) || size < 0 || size > n)
      throw new JournalError("journal.out_of_range", `${what} ${size} is outside 0..${n}`, { path: this.path });
  }

  /** Merkle root over the first `size` entries (default: all). */
  async root(size?: number): Promise<Uint8Array> {
    const n = size ?? (await this.count());
    await this.checkSize(n, "tree size");
    if (!this.readonly && n === this.tip.tree.size) return this.tip.tree.root();
    return withNodes(this.c, this.worldId, this.path, (read) => rootAt(read, n));
  }

  /** RFC 6962 inclusion proof of entry `index` in the tree of `size`. */
  async inclusionProof(index: number, size?: number): Promise<Uint8Array[]> {
    const n = size ?? (await this.count());
    await this.checkSize(n, "tree size");
    if (!Number.isSafeInteger(index) || index < 0 || index >= n)
      throw new JournalError("journal.out_of_range", `leaf ${index} is outside a tree of ${n}`, { path: this.path });
    return withNodes(this.c, this.worldId, this.path, (read) => inclusionPath(read, index, n));
  }

  /** RFC 6962 consistency proof from `oldSize` to `newSize`. */
  async consistencyProof(oldSize: number, newSize?: number): Promise<Uint8Array[]> {
    const n = newSize ?? (await this.count());
    await this.checkSize(n, "tree size");
    if (!Number.isSafeInteger(oldSize) || oldSize < 0 || oldSize > n)
      throw new JournalError("journal.out_of_range", `old size ${oldSize} is outside 0..${n}`, { path: this.path });
    return withNodes(this.c, this.worldId, this.path, (read) => consistencyPath(read, oldSize, n));
  }

  /** The stored perfect node at (level, index), null if missing, undefined below the stored levels. */
  nodeAt(level: number, index: number): Promise<Uint8Array | null | undefined> {
    this.open();
    return storedNodeAt(this.c, this.worldId, level, index);
  }

  /** The stored Merkle frontier of the first `size` entries (where a part-way verification starts). */
  async frontier(size: number): Promise<MerkleFrontier> {
    await this.checkSize(size, "tree size");
    return withNodes(this.c, this.worldId, this.path, (read) => MerkleFrontier.load(size, read));
  }

  // ---- blobs ------------------------------------------------------------------------

  /** Stores bytes under their sha256 in this world's CAS (idempotent). */
  async putBlob(bytes: Uint8Array): Promise<HashText> {
    this.writable();
    const digest = sha256(bytes);
    await this.c.query({ ...SQL.putBlob, values: [this.worldId, digest, bytes] });
    return bytesToHash(digest);
  }

  /** Every blob the world holds (present bytes; erased ones are gone). */
  async blobs(): Promise<{ hash: HashText; bytes: Uint8Array }[]> {
    this.open();
    const r = await this.c.query<{ hash: Buffer; bytes: Buffer }>({ ...SQL.blobs, values: [this.worldId] });
    return r.rows.map((x) => ({ hash: bytesToHash(new Uint8Array(x.hash)), bytes: new Uint8Array(x.bytes) }));
  }

  /** Every erasure record: the blob and the seq of the erasure entry. */
  async erasures(): Promise<{ hash: HashText; seq: number }[]> {
    this.open();
    const r = await this.c.query<{ hash: Buffer; seq: number }>({ ...SQL.erasures, values: [this.worldId] });
    return r.rows.map((x) => ({ hash: bytesToHash(new Uint8Array(x.hash)), seq: x.seq }));
  }

  /** Records an erasure moved in with its entry (pg-move.ts): the erased bytes never arrive. */
  async importErasure(hash: HashText, seq: number): Promise<void> {
    this.writable();
    await this.c.query({ ...SQL.importErasure, values: [this.worldId, hashToBytes(hash), seq] });
  }

  /** The bytes, checked against their name (`journal.blob_hash_mismatch`); ErasedError after an erasure. */
  async getBlob(hash: HashText): Promise<Uint8Array> {
    this.open();
    const key = hashToBytes(hash);
    const r = (
      await this.c.query<{ bytes: Buffer | null; erased_at: number | null }>({
        ...SQL.getBlob,
        values: [this.worldId, key],
      })
    ).rows[0]!;
    if (r.bytes !== null) {
      if (!bytesEqual(sha256(r.bytes), key)) throw blobMismatch(hash, r.bytes, this.path);
      return r.bytes;
    }
    if (r.erased_at !== null) throw new ErasedError(hash, r.erased_at);
    throw new JournalError("journal.blob_not_found", `no blob ${hash}`, { path: this.path, blob_hash: hash });
  }

  /** True when the blob's bytes are present in this world. */
  async hasBlob(hash: HashText): Promise<boolean> {
    this.open();
    const r = await this.c.query({ ...SQL.hasBlob, values: [this.worldId, hashToBytes(hash)] });
    return r.rowCount !== null && r.rowCount > 0;
  }

  /**
   * Deletes a blob's row and journals the erasure in one statement (one transaction). PostgreSQL keeps the
   * dead row's bytes on disk until VACUUM reuses the space (and in WAL until it recycles).
   */
  erase(hash: HashText, reason: string, extra: ErasureExtra = {}): Promise<Appended> {
    return this.serial(async () => {
      this.writable();
      const key = hashToBytes(hash);
      const body = { blob_hash: hash, reason, ...extra };
      const b = this.plan([{ kind: "erasure", body }]);
      try {
        await this.c.query({
          ...SQL.erase,
          values: [this.worldId, this.leaseHeld?.token ?? null, key, ...rowsOf(b)],
        });
      } catch (e) {
        if (pgErrorOf(e)?.code !== NO_BLOB_SQLSTATE)
          throw this.noteRefusal(await refusal(this.c, this.worldId, this.path, e, b));
        await this.getBlob(hash); // throws erased or not found
        throw new JournalError("journal.blob_not_found", `no blob ${hash}`, { path: this.path, blob_hash: hash });
      }
      this.tip = b.next;
      this.onCommit?.(b, hash);
      return b.appended[0]!;
    });
  }

  // ---- lifecycle --------------------------------------------------------------------

  /** Waits for pending writes, then closes the connection (releasing the writer lock). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.queue;
    this.closed = true;
    // A clean close gives the lease up, so another node takes the world at once, not after the TTL.
    const l = this.leaseHeld;
    if (l !== undefined && !this.lost) {
      const r = await this.c
        .query({ ...SQL.releaseLease, values: [this.worldId, l.holder, l.token] })
        .catch(() => undefined);
      // No row under our token: another node took the world while we held nothing to write.
      if (r?.rowCount === 0) this.lost = true;
    }
    await this.c.end();
  }
}
