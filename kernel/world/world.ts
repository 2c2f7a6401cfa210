/**
 * @module The World: a world directory opened for writing. Ingress events are validated,
 * stamped (time, logical clock, entropy) and journaled; the processor steps modules; the
 * batch is appended in one transaction; then allowed intents are dispatched to adapters
 * and their signed receipts appended and delivered. Cold start restores the latest
 * snapshot and re-runs (and so re-verifies) the tail.
 */
import { randomBytes } from "node:crypto";
import { decodeStored } from "../../air/cbor/decode.js";
import type { HashText } from "../../air/hash.js";
import type { AirCatalog } from "../../air/loader.js";
import type { CborObject, CborValue } from "../../air/cbor/value.js";
import { renameSync } from "node:fs";
import { generateKeyPair, loadKeyPair, saveKeyPair, type KeyPair } from "../crypto/keys.js";
import type { Signer } from "../crypto/signer.js";
import { buildEffectReceiptBody } from "../crypto/receipt.js";
import { signKeysEntry, worldPaths, type Appended, type EntryBodies } from "../journal/index.js";
import type { PgLeaseOptions } from "../journal/pg-store.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { openWorldJournal, type WorldJournalOptions } from "./journal-open.js";
import type { EffectAdapter, EffectOutcome } from "../adapters/adapter.js";
import { CellStore, cellId, type CellKey } from "../core/cells.js";
import { KernelError } from "../core/errors.js";
import { Batch } from "./batch.js";
import { AdmissionError, admit, journalKeys, type IngressEvent } from "./ingress.js";
import { ModuleHost } from "./modules.js";
import {
  EXPIRY_ADAPTER,
  eventHash,
  ingressEventHash,
  type EventBody,
  type KernelState,
  type PendingIntent,
  type Processor,
} from "./processor.js";
import { newProcessor } from "./processor-factory.js";
import { replayRange, type ReplayResult } from "./replay.js";
import { writeSnapshotBlob } from "./snapshot.js";
import { bootState, readGenesis } from "./boot.js";
import { readConfig, type WorldConfig } from "./config.js";
import { approvalEntry } from "./approvals.js";
import { checkTailOnOpen, tailRefusal } from "./verify-world.js";
import { checkErasable, structuralBlobs } from "./erase.js";
import { erasureReach } from "./erasure-taint.js";
import { startsUnit } from "./boundaries.js";
import { cascadeReport } from "./cascade-report.js";
import { governanceAdapter } from "./governance.js";
import { introspectAdapter } from "./introspect-adapter.js";
import { withAnchorLog } from "./anchor-log.js";

/** How to open a world. */
export interface OpenOptions {
  adapters?: Map<string, EffectAdapter>;
  synchronous?: "FULL" | "NORMAL";
  /** Wall clock in ns (injectable for tests); the default reads Date.now(). */
  clock?: () => bigint;
  /** Dispatch timers due within this many ms (default 0: only timers already due). */
  timerWaitMs?: number;
  /** A world in PostgreSQL: write under this lease (fenced by its token; default: this process's, renewed while open). */
  lease?: PgLeaseOptions;
  /** A world in PostgreSQL: where its local read mirror lives while open (default: the OS temp directory). */
  mirrorDir?: string;
  /**
   * `send`, `sendMany` and `decideHeldIntent` run pending intents before they return (default
   * true); false lets a server answer once the input is durable and dispatch on its own.
   */
  dispatchAfterWrite?: boolean;
  /** Runs each adapter call (a bounded pool, e.g. `wk serve`'s per world and overall); default: at once. */
  limit?: <T>(perform: () => Promise<T>) => Promise<T>;
  /** Anchor log (anchor-log.ts): a file, false for none (a throwaway world), default `<state dir>/anchors/<world_id>.jsonl`. */
  anchorLog?: string | false;
}

/** What `World.eraseReport` did. */
export interface EraseReport {
  /** The erasure entry's seq. */
  seq: number;
  /** Cells told of the erasure (they read the blob or derive from it). */
  notified: { module: string; key: CellKey }[];
  /** Derived blobs and older cell states erased with it. */
  derived_erased: HashText[];
  /** Told cells whose state did not change: their module did not redact, so they may still hold derived data. */
  still_holding: { module: string; key: CellKey }[];
}

/** Result of sending one event (for a retry under an idempotency key: the first send's, with `duplicate`). */
export interface SendResult {
  seq: number;
  entries: number;
  steps: number;
  failures: number;
  duplicate?: boolean;
}

/** What the batch of the input at `seq` held: its entries, steps and failed steps. */
export function batchSummary(store: WorldJournal, seq: number): SendResult {
  const count = store.countSync();
  let last = seq;
  while (last + 1 < count && !startsUnit(store.getSync(last + 1)!)) last++;
  const c = cascadeReport(store, seq, last);
  return { seq, entries: c.entries, steps: c.steps, failures: c.failures.length };
}

/** Store options for a world: durability and automatic signed checkpoints from config. */
export function storeOptions(
  config: WorldConfig,
  worldKey: KeyPair,
  opts: { synchronous?: "FULL" | "NORMAL"; lease?: PgLeaseOptions; mirrorDir?: string } = {},
): WorldJournalOptions {
  return {
    synchronous: opts.synchronous ?? config.synchronous,
    ...(opts.lease ? { lease: opts.lease } : {}),
    ...(opts.mirrorDir ? { mirrorDir: opts.mirrorDir } : {}),
    ...(config.checkpoint_every > 0 ? { checkpointEvery: config.checkpoint_every, worldKey } : {}),
  };
}

/** The id under which genesis declares the world's adapter key. */
export const ADAPTER_KEY_ID = "adapter";

/**
 * Refuses a config.json or an adapter key file that contradicts genesis: behaviour is fixed
 * by the journal, and a replaced adapter key would sign receipts `wk verify` rejects.
 */
function checkAgainstGenesis(
  genesis: EntryBodies["genesis"],
  config: WorldConfig,
  adapterKey: KeyPair,
  store: WorldJournal,
): void {
  if (config.world_id !== genesis.world_id)
    throw new KernelError(
      "kernel.config_mismatch",
      `config.json names world ${config.world_id}; the journal's genesis says ${genesis.world_id}`,
      { path: "$.world_id" },
    );
  if (genesis.format_version === 1) return;
  if (config.checkpoint_every !== genesis.checkpoint_every) {
    throw new KernelError(
      "kernel.config_mismatch",
      `config.json sets checkpoint_every ${config.checkpoint_every}; genesis fixed it at ${genesis.checkpoint_every}`,
      { path: "$.checkpoint_every" },
    );
  }
  const rotation = store.latestOfKind("keys");
  const declared = rotation ? (decodeStored(rotation.body) as EntryBodies["keys"]).adapter_keys : genesis.adapter_keys;
  if (!declared.some((k) => Buffer.compare(k.public_key, adapterKey.publicKey) === 0)) {
    throw new KernelError(
      "kernel.undeclared_key",
      `keys/adapter.key (${adapterKey.publicKeyHex.slice(0, 16)}…) is not an adapter key this world declared${rotation ? ` (latest rotation at seq ${rotation.seq})` : " in genesis"}: its receipts would not verify`,
    );
  }
}

/** A world open for writing: one writer at a time (the journal holds a lock). */
export class World {
  readonly processor: Processor;
  private nextSeq: number;
  private readonly inflight = new Set<string>();
  /** Adapters the kernel itself provides (they act on this world, e.g. governance.propose). */
  private readonly internalAdapters: Map<string, EffectAdapter>;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    readonly store: WorldJournal,
    readonly state: KernelState,
    readonly modules: ModuleHost,
    readonly worldKey: KeyPair,
    /** The adapter key receipts are signed with (replaced by `rotateAdapterKey`). */
    public adapterKey: KeyPair,
    readonly config: WorldConfig,
    private readonly opts: OpenOptions,
  ) {
    this.processor = newProcessor(state, modules, { signWith: worldKey });
    this.nextSeq = store.countSync();
    this.internalAdapters = new Map(
      [governanceAdapter(this), introspectAdapter(this)].flatMap((a) => a.kinds.map((k) => [k, a] as const)),
    );
    // Automatic checkpoints sign the live state root after the batch that crosses the cadence.
    store.setStateProvider(() => this.stateRefs());
    // Holds the journal to its anchor log (rolled_back: refused) and anchors every seal from here on.
    this.store = withAnchorLog(store, opts.anchorLog);
  }

  /** Opens an existing world: restores the latest snapshot, then re-runs the tail. */
  static async open(dir: string, opts: OpenOptions = {}): Promise<World> {
    const paths = worldPaths(dir);
    const config = readConfig(paths.config);
    const worldKey = loadKeyPair(paths.worldKey);
    const adapterKey = loadKeyPair(paths.adapterKey);
    const store = await openWorldJournal(dir, config, storeOptions(config, worldKey, opts));
    try {
      const { genesis, catalog } = readGenesis(store);
      checkAgainstGenesis(genesis, config, adapterKey, store);
      // Derive before trust: boot only from a snapshot a signed checkpoint covers; the rules check
      // everything after it against the state it implies, and re-execution derives that state again.
      const { state, from, snapshotSeq } = bootState(store, genesis, catalog, { snapshot: "latest" });
      await checkTailOnOpen(store, snapshotSeq);
      const modules = new ModuleHost((h) => store.getBlobSync(h));
      const world = new World(dir, store, state, modules, worldKey, adapterKey, config, opts);
      const r = await world.replayTail(from);
      world.processor.oracle = undefined; // live steps never adopt: only replay may
      world.processor.adopted.length = 0;
      if (!r.ok) {
        await modules.close();
        const d = r.divergence!;
        // A recorded cache that disagrees with the derived state is the fault verify names.
        if (d.fault !== undefined)
          throw tailRefusal(store, { fault: d.fault, first_bad_seq: d.seq, message: d.reason });
        throw new KernelError("kernel.replay_divergence", `cold start diverged at seq ${d.seq}: ${d.reason}`, {
          divergence: d,
        });
      }
      return world;
    } catch (e) {
      await store.close();
      throw e;
    }
  }

  /** Internal: constructs a World around an already-open store (used by create and fork). */
  static async attach(
    dir: string,
    store: WorldJournal,
    state: KernelState,
    worldKey: KeyPair,
    adapterKey: KeyPair,
    config: WorldConfig,
    opts: OpenOptions,
  ): Promise<World> {
    return new World(
      dir,
      store,
      state,
      new ModuleHost((h) => store.getBlobSync(h)),
      worldKey,
      adapterKey,
      config,
      opts,
    );
  }

  private async replayTail(from: number): Promise<ReplayResult> {
    return replayRange(this.store, this.processor, from, undefined);
  }

  get catalog(): AirCatalog {
    return this.state.catalog;
  }

  /** The world id (from genesis). */
  get id(): string {
    return this.state.worldId;
  }

  private entropyPool = new Uint8Array(0);
  private entropyAt = 0;

  /** 32 fresh random bytes, drawn from a pool refilled 8 KiB at a time. */
  private entropy(): Uint8Array {
    if (this.entropyAt + 32 > this.entropyPool.length) {
      this.entropyPool = new Uint8Array(randomBytes(8192));
      this.entropyAt = 0;
    }
    this.entropyAt += 32;
    return this.entropyPool.slice(this.entropyAt - 32, this.entropyAt);
  }

  /** The world's clock in ns: the injected one, else the wall clock (the shell stamps it at ingress). */
  nowNs(): bigint {
    return this.now();
  }

  private now(): bigint {
    return this.opts.clock ? this.opts.clock() : BigInt(Date.now()) * 1_000_000n;
  }

  /** Builds a stamped ingress event body from an admitted value (with its idempotency key, if any). */
  private ingressBody(
    schema: string,
    value: CborValue,
    seq: number,
    idempotency?: { key: string; requestHash: HashText },
  ): EventBody {
    const ctx = {
      now_ns: this.now(),
      logical_now: ++this.state.logicalNow,
      journal_height: seq,
      entropy: this.entropy(),
      // identity-v2: the seq binds identity, so identical requests are independent.
      event_hash: this.state.behaviour.identityV2
        ? ingressEventHash(schema, value, seq)
        : eventHash(schema, value, null),
      manifest_hash: this.catalog.manifestHash,
    };
    const origin = idempotency
      ? { kind: "ingress", idempotency_key: idempotency.key, request_hash: idempotency.requestHash }
      : { kind: "ingress" };
    return { schema, value, key: null, ctx: ctx as unknown as CborObject, origin };
  }

  /**
   * Appends one event and runs until idle (all steps done, allowed effects dispatched). With
   * an idempotency key, a retry returns the first result and appends nothing; the same key
   * with another request is `kernel.idempotency_conflict`.
   */
  async send(schema: string, json: unknown, opts: { idempotencyKey?: string } = {}): Promise<SendResult> {
    return (await this.sendMany([{ schema, json, ...opts }]))[0]!;
  }

  /**
   * Appends several events with one commit for all their steps (group commit), then runs until
   * idle. A refused batch appends nothing: an `AdmissionError` with the first refused event's
   * code and message and every issue by index (ingress.ts).
   */
  async sendMany(events: readonly IngressEvent[]): Promise<SendResult[]> {
    const results = await this.exclusive(async () => {
      // Admit every event and idempotency key first: a bad event later in the list must not
      // leave the kernel holding steps of earlier ones that were never journaled.
      const admitted = admit(this.catalog, events, journalKeys(this.store));
      if (!admitted.ok) throw new AdmissionError(admitted.issues);
      const batch = new Batch(this.nextSeq);
      const out: SendResult[] = [];
      for (const p of admitted.events) {
        const i = p.index;
        if (p.duplicateOf !== undefined) {
          const first =
            "index" in p.duplicateOf ? out[p.duplicateOf.index]! : batchSummary(this.store, p.duplicateOf.seq);
          out[i] = { ...first, duplicate: true };
          continue;
        }
        const before = {
          n: batch.entries.length,
          steps: this.processor.stats.steps,
          failures: this.processor.stats.failures,
        };
        const seq = batch.nextSeq;
        const body = this.ingressBody(p.schema, p.value, seq, p.idempotency);
        batch.push("event", body as unknown as CborValue);
        await this.processor.processEvent(seq, body, batch);
        out[i] = {
          seq,
          entries: batch.entries.length - before.n,
          steps: this.processor.stats.steps - before.steps,
          failures: this.processor.stats.failures - before.failures,
        };
      }
      await this.flush(batch);
      return out;
    });
    if (this.opts.dispatchAfterWrite !== false) await this.runUntilIdle();
    return results;
  }

  /** Appends a batch in one transaction and advances the seq counter. */
  private async flush(batch: Batch): Promise<Appended[]> {
    if (batch.entries.length === 0) return [];
    const appended = await this.store.appendMany(batch.entries);
    if (appended[0]!.seq !== batch.baseSeq)
      throw new KernelError(
        "kernel.journal_moved",
        `journal moved under the kernel: expected seq ${batch.baseSeq}, got ${appended[0]!.seq}`,
        { expected: String(batch.baseSeq), actual: String(appended[0]!.seq) },
      );
    // An auto checkpoint may follow the batch in the same transaction.
    this.nextSeq = this.store.countSync();
    return appended;
  }

  /** Serializes writers: steps, receipt deliveries and governance records never interleave. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Dispatches every pending, allowed intent (re-dispatch after a restart uses the same key) until none is left. */
  async runUntilIdle(): Promise<{ dispatched: number; waiting: number }> {
    let dispatched = 0;
    for (;;) {
      // Held intents past their deadline are settled too (with an expired receipt), so nothing waits forever.
      const ready = [...this.state.pending.values()].filter(
        (p) =>
          !this.inflight.has(p.intentId) &&
          ((p.waiting === "dispatch" && this.isDue(p)) || (p.waiting === "approval" && this.isExpired(p))),
      );
      if (ready.length === 0) break;
      dispatched += ready.length;
      await Promise.all(ready.map((p) => this.dispatch(p.intentId)));
    }
    const waiting = [...this.state.pending.values()].length;
    return { dispatched, waiting };
  }

  private isExpired(p: PendingIntent): boolean {
    return p.validUntilNs !== undefined && this.now() > BigInt(p.validUntilNs);
  }

  private isDue(p: { kind: string; params: CborValue }): boolean {
    if (p.kind !== "timer.set") return true;
    const at = BigInt((p.params as CborObject).deliver_at_ns as number | bigint);
    return at <= this.now() + BigInt(this.opts.timerWaitMs ?? 0) * 1_000_000n;
  }

  private async dispatch(intentId: string): Promise<void> {
    const p = this.state.pending.get(intentId)!;
    this.inflight.add(intentId);
    try {
      const perform = () => this.perform(p);
      const body = this.isExpired(p) ? this.expiredReceipt(p) : await (this.opts.limit?.(perform) ?? perform());
      await this.exclusive(async () => {
        if (!this.state.pending.has(intentId)) return; // settled meanwhile (e.g. denied)
        const batch = new Batch(this.nextSeq);
        const seq = batch.push("effect_receipt", body as unknown as CborValue);
        await this.processor.processReceipt(seq, body as unknown as CborObject, batch);
        await this.flush(batch);
      });
    } finally {
      this.inflight.delete(intentId);
    }
  }

  /** Performs an intent through its adapter and wraps the outcome in a receipt signed by the adapter key. */
  private async perform(p: PendingIntent): Promise<EntryBodies["effect_receipt"]> {
    const intentId = p.intentId;
    const adapter = this.opts.adapters?.get(p.kind) ?? this.internalAdapters.get(p.kind);
    const started = this.now();
    let outcome: EffectOutcome;
    let adapterId = { id: adapter?.id ?? "kernel.none", version: adapter?.version ?? "1" };
    if (!adapter) {
      outcome = {
        status: "error",
        payload: { code: "no_adapter", message: `no adapter serves ${p.kind} in this kernel` },
        cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
        startedNs: started,
        finishedNs: started,
      };
    } else {
      const grant = this.catalog.grants.get(p.grant);
      outcome = await adapter.perform({
        intentId,
        idempotencyKey: intentId,
        kind: p.kind,
        params: p.params,
        grant: { name: p.grant, capType: p.capType, params: grant?.params ?? null },
        blobs: { put: (b) => this.store.putBlobSync(b), get: (h) => this.store.getBlobSync(h) },
        signal: AbortSignal.timeout(120_000),
        nowNs: () => this.now(),
      });
      adapterId = { id: adapter.id, version: adapter.version };
    }
    return buildEffectReceiptBody(
      {
        worldId: this.id,
        intentId,
        effectKind: p.kind,
        params: p.params,
        idempotencyKey: intentId,
        status: outcome.status,
        payload: outcome.payload,
        adapter: adapterId,
        startedNs: outcome.startedNs,
        finishedNs: outcome.finishedNs,
        cost: outcome.cost,
      },
      this.adapterKey,
      this.adapterKey.publicKey,
    ) as unknown as EntryBodies["effect_receipt"];
  }

  /**
   * validity-v1: an intent past its `valid_until_ns` (held too long for approval, or found
   * after a crash) is never performed; the kernel signs an `expired` receipt with the world key.
   */
  private expiredReceipt(p: PendingIntent): EntryBodies["effect_receipt"] {
    const now = this.now();
    return buildEffectReceiptBody(
      {
        worldId: this.id,
        intentId: p.intentId,
        effectKind: p.kind,
        params: p.params,
        idempotencyKey: p.intentId,
        status: "expired",
        payload: {
          code: "intent.expired",
          message: `the intent was valid until ${String(p.validUntilNs)} ns; it is now ${now} ns`,
          valid_until_ns: BigInt(p.validUntilNs!),
        },
        adapter: EXPIRY_ADAPTER,
        startedNs: now,
        finishedNs: now,
        cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
      },
      this.worldKey,
      this.worldKey.publicKey,
    ) as unknown as EntryBodies["effect_receipt"];
  }

  /** Records a person's approval or refusal of a held intent (signed with their key). */
  async decideHeldIntent(intentId: string, approver: Signer, decision: "allow" | "deny"): Promise<number> {
    const seq = await this.exclusive(async () => {
      const p = this.state.pending.get(intentId);
      if (!p) throw new KernelError("kernel.unknown_intent", `no pending intent ${intentId}`, { intent_id: intentId });
      if (p.waiting !== "approval")
        throw new KernelError("kernel.not_pending", `intent ${intentId} is not waiting for approval`, {
          intent_id: intentId,
        });
      const policyName = this.catalog.manifest.defaults?.policy;
      const approvers = policyName ? this.catalog.policies.get(policyName)?.def.approvers : undefined;
      // No approvers named means no one may decide a held intent, not that anyone may.
      if (!approvers?.some((a) => a.public_key === approver.publicKeyHex)) {
        const why = approvers?.length
          ? `is not an approver of ${policyName}`
          : `cannot decide it: ${policyName ?? "the world's policy"} names no approvers`;
        throw new KernelError("kernel.bad_approval", `key ${approver.publicKeyHex.slice(0, 16)}… ${why}`, {
          intent_id: intentId,
        });
      }
      const batch = new Batch(this.nextSeq);
      const body = approvalEntry(intentId, decision, approver, this.id);
      const seq = batch.push("policy_decision", body);
      await this.processor.processApproval(seq, body, batch);
      await this.flush(batch);
      return seq;
    });
    if (this.opts.dispatchAfterWrite !== false) await this.runUntilIdle();
    return seq;
  }

  /** Appends one record that steps nothing (governance), keeping the seq counter in step. */
  async appendRecord(kind: "proposal" | "shadow_report" | "approval" | "apply", body: CborObject): Promise<number> {
    const a = await this.store.append(kind, body);
    this.nextSeq = this.store.countSync();
    return a.seq;
  }

  /** Writes a snapshot entry (state blobs in the CAS) and returns its seq. */
  async snapshot(): Promise<number> {
    const { cellsRef, stateRoot } = writeSnapshotBlob(this.state, {
      put: (b) => this.store.putBlobSync(b),
      get: (h) => this.store.getBlobSync(h),
    });
    const a = await this.store.append("snapshot", {
      state_root: stateRoot,
      cells_ref: cellsRef,
      height: this.nextSeq,
      manifest_hash: this.catalog.manifestHash,
    });
    this.nextSeq = this.store.countSync();
    return a.seq;
  }

  /**
   * Rotates the adapter key: a fresh key pair replaces keys/adapter.key (0600; the old file
   * is kept as adapter.key.<seq>.old) and a `keys` entry signed by the world key declares it
   * from this seq on. Receipts signed by the old key after this seq fail verification.
   */
  async rotateAdapterKey(): Promise<{ seq: number; publicKey: string }> {
    return this.exclusive(async () => {
      const next = generateKeyPair();
      const seq = this.nextSeq;
      const paths = worldPaths(this.dir);
      const a = await this.store.append(
        "keys",
        signKeysEntry(this.id, seq, [{ id: ADAPTER_KEY_ID, public_key: next.publicKey }], this.worldKey),
      );
      renameSync(paths.adapterKey, `${paths.adapterKey}.${a.seq}.old`);
      saveKeyPair(paths.adapterKey, next);
      this.adapterKey = next;
      this.nextSeq = this.store.countSync();
      return { seq: a.seq, publicKey: next.publicKeyHex };
    });
  }

  /** Erases a blob's bytes (refused for blobs the kernel needs) and journals the erasure. */
  async erase(hash: HashText, reason: string): Promise<number> {
    return (await this.eraseReport(hash, reason)).seq;
  }

  /**
   * Erases a blob and, under erasure-v1, what derives from it: the cells that read it are
   * told (`sys/BlobErased@1`) so their modules can redact; then blobs derived from it and the
   * older states of those cells kept by snapshots are erased too (states still live stay).
   * Reports what it did and which cells may still hold derived data (their module did not
   * change their state when told).
   */
  async eraseReport(hash: HashText, reason: string): Promise<EraseReport> {
    return this.exclusive(async () => {
      checkErasable(this.store, hash);
      const reach = this.state.behaviour.erasure
        ? erasureReach(this.store, hash)
        : { cells: [], derived: [], snapshotStates: [] };
      const notify = reach.cells
        .filter((c) => this.state.cells.get(c.module, c.key) !== undefined)
        .map((c) => [c.module, c.key] as [string, CellKey]);
      const before = new Map(notify.map(([m, k]) => [cellId(m, k), this.state.cells.get(m, k)!.hash]));
      const a = await this.store.erase(hash, reason, notify.length > 0 ? { notify } : {});
      this.nextSeq = this.store.countSync();
      if (notify.length > 0) {
        const batch = new Batch(this.nextSeq);
        await this.processor.processErasure(a.seq, { blob_hash: hash, reason, notify } as unknown as CborObject, batch);
        await this.flush(batch);
      }
      const structural = structuralBlobs(this.store);
      const live = new Set(this.state.cells.list().map((c) => c.hash as string));
      const erased: HashText[] = [];
      const eraseDerived = async (h: HashText, skip: (h: string) => boolean) => {
        if (skip(h) || !this.store.hasBlobSync(h)) return;
        await this.store.erase(h, `derived from ${hash}: ${reason}`, { derived_from: hash });
        erased.push(h);
      };
      for (const d of reach.derived) await eraseDerived(d, (h) => structural.has(h));
      for (const s of reach.snapshotStates) await eraseDerived(s, (h) => live.has(h));
      this.nextSeq = this.store.countSync();
      const stillHolding = notify
        .filter(([m, k]) => this.state.cells.get(m, k)?.hash === before.get(cellId(m, k)))
        .map(([module, key]) => ({ module, key }));
      return {
        seq: a.seq,
        notified: notify.map(([module, key]) => ({ module, key })),
        derived_erased: erased,
        still_holding: stillHolding,
      };
    });
  }

  /** Signs a checkpoint now over the current state root. */
  async checkpoint(): Promise<number> {
    const a = await this.store.checkpoint(this.worldKey, () => this.stateRefs());
    this.nextSeq = this.store.countSync();
    return a.seq;
  }

  /** The current state root and manifest hash (what checkpoints sign). */
  stateRefs(): { state_root: HashText; manifest_hash: HashText } {
    return { state_root: this.state.cells.stateRoot(), manifest_hash: this.catalog.manifestHash };
  }

  /** A cell's state as a CBOR value, or undefined. */
  cellState(module: string, key: CellKey): CborValue | undefined {
    const c = this.state.cells.get(module, key);
    return c ? decodeStored(c.bytes) : undefined;
  }

  /**
   * Closes the world: snapshots when there is unsnapshotted history, then seals the head
   * with a signed checkpoint, so cutting entries off the end is caught from the world's own
   * files (`wk verify` reports entries after the last checkpoint as `uncovered_tail`).
   */
  async close(opts: { snapshot?: boolean } = {}): Promise<void> {
    await this.chain;
    if (!this.store.readonly) {
      if (opts.snapshot !== false) {
        const last = this.store.latestOfKind("snapshot");
        const lastStep = this.store.latestOfKind("step");
        if (lastStep && (!last || last.seq < lastStep.seq)) await this.snapshot();
      }
      const head = this.store.headSync();
      if (head !== null && this.store.getSync(head.seq)!.kind !== "checkpoint") await this.checkpoint();
    }
    await this.modules.close();
    await this.store.close();
  }

  /**
   * Closes the world without writing (no snapshot, no checkpoint): what a node does with a
   * world whose lease it lost, or whose last append failed and left the kernel ahead of its journal.
   */
  async abandon(): Promise<void> {
    await this.chain.catch(() => undefined);
    await this.modules.close();
    await this.store.close();
  }
}

export { readConfig, EXPIRY_ADAPTER };

/**
 * The state a `wk checkpoint` may sign without running the kernel: the latest snapshot's,
 * which a cleanly closed world keeps at its head. If steps follow the snapshot (a crash
 * before close), refuse rather than sign a stale state root.
 */
export function snapshotStateRefs(store: WorldJournal): { state_root: HashText; manifest_hash: HashText } {
  const snap = store.latestOfKind("snapshot");
  const step = store.latestOfKind("step");
  if (step && (!snap || snap.seq < step.seq)) {
    throw new KernelError(
      "kernel.not_closed_cleanly",
      "steps follow the latest snapshot (the world was not closed cleanly): run `wk run` first, then checkpoint",
    );
  }
  if (!snap) {
    const g = decodeStored(store.getSync(0)!.body) as EntryBodies["genesis"];
    return { state_root: new CellStore().stateRoot(), manifest_hash: g.manifest_hash as HashText };
  }
  const s = decodeStored(snap.body) as EntryBodies["snapshot"];
  return { state_root: s.state_root as HashText, manifest_hash: s.manifest_hash as HashText };
}
