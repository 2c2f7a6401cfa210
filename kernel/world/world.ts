/**
 * @module The World: a world directory opened for writing, a facade over its parts. Ingress
 * (intake.ts) stamps and steps events; the writer (writer.ts) appends each batch in one
 * transaction; the dispatcher (dispatcher.ts) performs allowed intents and appends their
 * signed receipts. Cold start (cold-start.ts) restores the latest snapshot and re-runs the tail.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import type { HashText } from "../../air/hash.js";
import type { AirCatalog } from "../../air/loader.js";
import type { CborValue } from "../../air/cbor/value.js";
import type { KeyPair } from "../crypto/keys.js";
import type { Signer } from "../crypto/signer.js";
import type { CellKey } from "../core/cells.js";
import type { IngressEvent } from "./ingress.js";
import { ModuleHost } from "./modules.js";
import type { KernelState, Processor, StateView } from "./processor.js";
import { newProcessor } from "./processor-factory.js";
import type { WorldConfig } from "./config.js";
import { governanceAdapter } from "./governance.js";
import { introspectAdapter } from "./introspect-adapter.js";
import { adapterMap } from "../adapters/registry.js";
import { withAnchorLog } from "./anchor-log.js";
import { coldStart, type Booted } from "./cold-start.js";
import type { OpenOptions } from "./open-options.js";
import { Writer, appendApply, type RecordKind } from "./writer.js";
import type { EntryBodies, WorldJournal } from "../journal/index.js";
import type { MigrationOutcome } from "../transition/migrate.js";
import { Dispatcher } from "./dispatcher.js";
import { Intake, type SendResult } from "./intake.js";
import { eraseReport, type EraseReport } from "./erasure.js";
import { rotateAdapterKey } from "./keys.js";
import * as seal from "./seal.js";
import { worldSecretStore } from "./secrets.js";

export type { EraseReport, OpenOptions, SendResult };

/** A world open for writing: one writer at a time (the journal holds a lock). */
export class World {
  readonly processor: Processor;
  /** The world's state, read-only: only the transition changes it (kernel/transition). */
  readonly state: StateView;
  /** What the parts share: state, journal (anchored), processor, writer, world key, clock. */
  private readonly parts: seal.SealParts & { readonly processor: Processor; now(): bigint };
  private readonly dispatcher: Dispatcher;
  private readonly intake: Intake;

  private constructor(
    readonly dir: string,
    readonly store: WorldJournal,
    state: KernelState,
    readonly modules: ModuleHost,
    readonly worldKey: KeyPair,
    /** The adapter key receipts are signed with (replaced by `rotateAdapterKey`). */
    public adapterKey: KeyPair,
    readonly config: WorldConfig,
    private readonly opts: OpenOptions,
  ) {
    this.state = state;
    const processor = (this.processor = newProcessor(state, modules, { signWith: worldKey }));
    // Adapters the kernel itself provides (they act on this world, e.g. governance.propose).
    const internal = adapterMap([governanceAdapter(this), introspectAdapter(this)]);
    // Automatic checkpoints sign the live state root after the batch that crosses the cadence.
    store.setStateProvider(() => this.stateRefs());
    // Holds the journal to its anchor log (rolled_back: refused) and anchors every seal from here on.
    this.store = withAnchorLog(store, opts.anchorLog);
    const writer = new Writer(this.store);
    this.parts = { state, store: this.store, processor, writer, worldKey, now: () => this.nowNs() };
    this.intake = new Intake(this.parts);
    const adapter = (kind: string) => opts.adapters?.get(kind) ?? internal.get(kind);
    const deps = { adapterKey: () => this.adapterKey, adapter, secrets: opts.secrets ?? worldSecretStore(dir) };
    this.dispatcher = new Dispatcher({ ...this.parts, ...deps }, opts);
  }

  /** Opens an existing world: restores the latest snapshot, then re-runs the tail. */
  static async open(dir: string, opts: OpenOptions = {}): Promise<World> {
    return coldStart(dir, opts, (b) => World.attach(dir, b, opts, b.modules));
  }

  /** Internal: constructs a World around an already-open store (open, create and fork). */
  static attach(dir: string, b: Omit<Booted, "modules">, opts: OpenOptions, modules?: ModuleHost): World {
    const m = modules ?? new ModuleHost((h) => b.store.getBlobSync(h));
    return new World(dir, b.store, b.state, m, b.worldKey, b.adapterKey, b.config, opts);
  }

  /** The manifest in force. */
  get catalog(): AirCatalog {
    return this.state.catalog;
  }

  /** The world id (from genesis). */
  get id(): string {
    return this.state.worldId;
  }

  /** The world's clock in ns: the injected one, else the wall clock (the shell stamps it at ingress). */
  nowNs(): bigint {
    return this.opts.clock ? this.opts.clock() : BigInt(Date.now()) * 1_000_000n;
  }

  /**
   * Appends one event and runs until idle (steps done, allowed effects dispatched). A retry under
   * its idempotency key returns the first result; another request under it: `kernel.idempotency_conflict`.
   */
  async send(schema: string, json: unknown, opts: { idempotencyKey?: string } = {}): Promise<SendResult> {
    return (await this.sendMany([{ schema, json, ...opts }]))[0]!;
  }

  /**
   * Appends several events with one commit for all their steps (group commit), then runs until idle. A refused
   * batch appends nothing: an `AdmissionError` with the first refusal's code and message, every issue by index.
   */
  async sendMany(events: readonly IngressEvent[]): Promise<SendResult[]> {
    const results = await this.exclusive(() => this.intake.sendMany(events));
    if (this.opts.dispatchAfterWrite !== false) await this.runUntilIdle();
    return results;
  }

  /** Serializes writers: steps, receipt deliveries and governance records never interleave. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.parts.writer.exclusive(fn);
  }

  /** Dispatches every pending, allowed intent (re-dispatch after a restart uses the same key) until none is left. */
  async runUntilIdle(): Promise<{ dispatched: number; waiting: number }> {
    return this.dispatcher.runUntilIdle();
  }

  /** When `runUntilIdle` next has work: the earliest timer due or held intent expiring (ns), or undefined. */
  nextWakeNs(): bigint | undefined {
    return this.dispatcher.nextWakeNs();
  }

  /** Records a person's approval or refusal of a held intent (signed with their key). */
  async decideHeldIntent(intentId: string, approver: Signer, decision: "allow" | "deny"): Promise<number> {
    const seq = await this.exclusive(() => this.dispatcher.decide(intentId, approver, decision));
    if (this.opts.dispatchAfterWrite !== false) await this.runUntilIdle();
    return seq;
  }

  /** Appends one record that steps nothing (governance), keeping the seq counter in step. */
  appendRecord<K extends RecordKind>(kind: K, body: EntryBodies[K]): Promise<number> {
    return this.parts.writer.appendRecord(kind, body);
  }

  /** Journals an apply and runs it through the transition (writer.ts `appendApply`). */
  applyRecord(body: EntryBodies["apply"], next: AirCatalog, planned?: MigrationOutcome): Promise<number> {
    return appendApply(this.parts, body, next, planned);
  }

  /** Writes a snapshot entry (state blobs in the CAS) and returns its seq. */
  async snapshot(): Promise<number> {
    return seal.appendSnapshot(this.parts);
  }

  /** Rotates the adapter key (keys.ts): receipts signed by the old key after the returned seq fail verification. */
  async rotateAdapterKey(): Promise<{ seq: number; publicKey: string }> {
    return this.exclusive(() => rotateAdapterKey(this.dir, this.parts, (key) => (this.adapterKey = key)));
  }

  /** Erases a blob's bytes (refused for blobs the kernel needs) and journals the erasure. */
  async erase(hash: HashText, reason: string): Promise<number> {
    return (await this.eraseReport(hash, reason)).seq;
  }

  /** Erases a blob and, under erasure-v1, what derives from it (erasure.ts); reports cells that may still hold it. */
  async eraseReport(hash: HashText, reason: string): Promise<EraseReport> {
    return this.exclusive(() => eraseReport(this.parts, hash, reason));
  }

  /** Signs a checkpoint now over the current state root. */
  async checkpoint(): Promise<number> {
    return seal.appendCheckpoint(this.parts);
  }

  /** The current state root and manifest hash (what checkpoints sign). */
  stateRefs(): { state_root: HashText; manifest_hash: HashText } {
    return seal.stateRefsOf(this.state);
  }

  /** A cell's state as a CBOR value, or undefined. */
  cellState(module: string, key: CellKey): CborValue | undefined {
    const c = this.state.cells.get(module, key);
    return c ? decodeStored(c.bytes) : undefined;
  }

  /** Closes the world: snapshots unsnapshotted history, then seals the head with a signed checkpoint (seal.ts). */
  async close(opts: { snapshot?: boolean } = {}): Promise<void> {
    await this.parts.writer.idle;
    await seal.sealOnClose(this.parts, opts);
    await this.modules.close();
    await this.store.close();
  }

  /** Closes without writing: a world whose lease was lost, or whose last append failed (kernel ahead of journal). */
  async abandon(): Promise<void> {
    await this.parts.writer.idle.catch(() => undefined);
    await this.modules.close();
    await this.store.close();
  }
}
