/**
 * @module Replay: a fresh kernel over an existing journal re-runs every step, feeding
 * recorded inputs (ingress events, receipts, approvals) and calling no adapter. After each
 * input, what the kernel produces must equal, byte for byte, the entries the journal holds
 * next; the first difference stops replay with a divergence report (seq, expected, got).
 * Snapshots and checkpoints are caches of the derived state: each must match it in every
 * field (cells, pending intents, ledger, clock, manifest and bundle). It streams the journal.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { encodeStored } from "../../air/cbor/encode.js";
import type { CborObject, CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import { catalogFromBundle } from "../../air/bundle.js";
import { verifyReceipt, type ReceiptEnvelope } from "../crypto/receipt.js";
import type { JournalEntry, JournalStore, SnapshotBody } from "../journal/index.js";
import { Batch } from "./batch.js";
import {
  GATE_ADAPTER,
  type AdoptedStep,
  type EventBody,
  type KernelState,
  type Processor,
  type ReplayOracle,
} from "./processor.js";
import { jsonView } from "./json-view.js";
import { readSnapshotBlob } from "./derived-book.js";
import { snapshotMismatch } from "./snapshot.js";
import type { AirCatalog } from "../../air/loader.js";
import { commitMigrations, runMigrations, runsBody, type MigrationRun } from "./migration.js";

/** Where and how replay diverged. */
export interface Divergence {
  seq: number;
  reason: string;
  expected: unknown;
  got: unknown;
  /** The verify fault this divergence is, when a recorded cache (snapshot, checkpoint) disagrees with the derived state. */
  fault?: "snapshot_mismatch" | "checkpoint_mismatch";
}

/** Outcome of a replay. */
export interface ReplayResult {
  ok: boolean;
  entries: number;
  state_root: string;
  steps: number;
  divergence?: Divergence;
  /** Steps replay took from the journal instead of re-running, because their input was erased. */
  adopted_steps?: AdoptedStep[];
  /** Set when replay refused to run because the journal fails verification. */
  verify_fault?: string;
  /** Entries replay compared or re-ran (from its start to where it stopped); `steps` counts the steps re-executed. */
  entries_checked?: number;
  /** The first seq replay processed (1 from genesis, or the seq after its snapshot). */
  start_seq?: number;
  /** The snapshot it started from, if any. */
  snapshot_seq?: number;
  /** Where it stopped when asked to (`--to`), and the requested seq when that was inside a batch. */
  to?: number;
  moved_from?: number;
  batch?: { first: number; last: number };
}

/** Observers of a replay. */
export interface ReplayHooks {
  onProgress?(seq: number): void;
}

function isGateDenial(body: CborValue): boolean {
  const env = (body as CborObject).receipt as CborObject | undefined;
  return env?.adapter_id === GATE_ADAPTER.id && env.status === "denied";
}

/** True when two receipt bodies differ at most in their signature. */
function sameExceptSignature(a: CborObject, b: CborObject): boolean {
  const strip = (x: CborObject) => encodeStored({ ...x, signature: new Uint8Array(0) });
  return Buffer.compare(strip(a), strip(b)) === 0;
}

/** The recorded gate denial is signed by this world's key over its envelope. */
function gateSignatureHolds(recorded: CborObject, worldPublicKey: Uint8Array): boolean {
  if (Buffer.compare(recorded.adapter_public_key as Uint8Array, worldPublicKey) !== 0) return false;
  return verifyReceipt(
    recorded.receipt as unknown as ReceiptEnvelope,
    recorded.signature as Uint8Array,
    worldPublicKey,
  );
}

/** An entry as the replayer takes it: the stored row and its decoded body (decoded once, by whoever read it). */
export interface ReplayEntry {
  seq: number;
  kind: string;
  body: Uint8Array;
  value: CborValue;
}

/**
 * Replay, one entry at a time: an input (ingress event, receipt, approval, erasure, apply) is
 * re-run, and the entries it produces must be the ones the journal holds next, byte for byte.
 * Push-based, so the same pass that verifies the journal can drive it (one read, one decode
 * per entry: `replayWorld`), and a plain scan can too (`replayRange`). Gate denials are
 * compared field by field and their recorded signature checked against the world key, so a
 * replayer needs no secret key.
 */
export class Replayer {
  private readonly state: KernelState;
  /** The batch the last input produced, and how much of it the journal has matched so far. */
  private expected: { batch: Batch; at: number } | null = null;
  private last: number;
  private divergence: Divergence | undefined;
  /** The seq `reproduces` last found equal to what the kernel produced (`match` need not compare it again). */
  private vouched = -1;

  constructor(
    private readonly processor: Processor,
    private readonly genesis: { worldPublicKey: Uint8Array; airRef: HashText },
    private readonly getBlob: (hash: HashText) => Uint8Array | Promise<Uint8Array>,
    fromSeq: number,
  ) {
    this.state = processor.state;
    this.last = fromSeq - 1;
  }

  /**
   * Takes the next entry; returns the divergence it reveals (then replay is over), else undefined.
   * An entry compared with what the kernel produced is answered synchronously (no promise per entry).
   */
  feed(e: ReplayEntry): Divergence | undefined | Promise<Divergence | undefined> {
    if (this.divergence) return this.divergence;
    this.last = e.seq;
    if (this.expected) return (this.divergence = this.match(e));
    return this.input(e).then((d) => (this.divergence = d));
  }

  /** Ends the replay: a batch the journal stopped short of is a divergence. */
  end(): Divergence | undefined {
    if (this.divergence === undefined && this.expected !== null) {
      const { batch, at } = this.expected;
      const got = batch.entries[at]!;
      this.divergence = {
        seq: batch.baseSeq + at,
        reason: "the journal ends where the kernel produced more entries",
        expected: null,
        got: { kind: got.kind, body: jsonView(got.body) },
      };
    }
    return this.divergence;
  }

  /** The outcome so far. */
  result(): ReplayResult {
    const p = this.processor;
    return {
      ok: this.divergence === undefined,
      entries: this.last + 1,
      state_root: this.state.cells.stateRoot(),
      steps: p.stats.steps - p.adopted.length,
      ...(p.adopted.length > 0 ? { adopted_steps: [...p.adopted] } : {}),
      ...(this.divergence ? { divergence: this.divergence } : {}),
    };
  }

  /**
   * The kernel's own value for the step entry it expects at `e.seq`, when `e.body` is byte for
   * byte its encoding; else undefined. Verify takes it in place of decoding and schema-checking
   * the stored body (verify.ts, `EntryChecker.reproduced`). Only steps: their readers (the
   * journal rules) read plain fields whose JavaScript types are the same decoded or produced.
   */
  reproduces(e: { seq: number; kind: string; body: Uint8Array }): CborValue | undefined {
    const x = this.expected;
    if (x === null || this.divergence !== undefined || e.kind !== "step" || x.batch.baseSeq + x.at !== e.seq)
      return undefined;
    const got = x.batch.entries[x.at]!;
    if (got.kind !== "step" || Buffer.compare(e.body, x.batch.bytesAt(x.at)) !== 0) return undefined;
    this.vouched = e.seq;
    return got.body;
  }

  /** Compares a recorded entry with the next one the kernel produced. */
  private match(rec: ReplayEntry): Divergence | undefined {
    const x = this.expected!;
    const i = x.at++;
    if (x.at === x.batch.entries.length) this.expected = null;
    if (rec.seq === this.vouched) return undefined; // compared byte for byte by `reproduces`
    const got = x.batch.entries[i]!;
    if (rec.kind === "effect_receipt" && got.kind === "effect_receipt" && isGateDenial(got.body)) {
      const recorded = rec.value as CborObject;
      if (
        sameExceptSignature(recorded, got.body as CborObject) &&
        gateSignatureHolds(recorded, this.genesis.worldPublicKey)
      )
        return undefined;
    }
    if (rec.kind !== got.kind || Buffer.compare(rec.body, x.batch.bytesAt(i)) !== 0)
      return {
        seq: rec.seq,
        reason: `entry ${rec.seq} differs from what the kernel produced`,
        expected: { kind: rec.kind, body: jsonView(rec.value) },
        got: { kind: got.kind, body: jsonView(got.body) },
      };
    return undefined;
  }

  /** Re-runs an input entry; what it produces is expected next. */
  private async input(e: ReplayEntry): Promise<Divergence | undefined> {
    const { state, processor } = this;
    const body = e.value as CborObject;
    const outside = (what: string): Divergence => ({
      seq: e.seq,
      reason: `${what} appears outside the step that should have produced it`,
      expected: null,
      got: jsonView(body),
    });
    let batch: Batch | undefined;
    switch (e.kind) {
      case "event": {
        const origin = body.origin as CborObject;
        if (origin.kind !== "ingress") return outside(`event from ${String(origin.kind)}`);
        state.logicalNow = Number((body.ctx as CborObject).logical_now);
        batch = new Batch(e.seq + 1);
        await processor.processEvent(e.seq, body as unknown as EventBody, batch);
        break;
      }
      case "effect_receipt": {
        const env = body.receipt as CborObject;
        if (env.adapter_id === GATE_ADAPTER.id && env.status === "denied") return outside("a gate denial");
        batch = new Batch(e.seq + 1);
        await processor.processReceipt(e.seq, body, batch);
        break;
      }
      case "policy_decision":
        if (body.stage !== "approval") return outside("a gate decision");
        batch = new Batch(e.seq + 1);
        await processor.processApproval(e.seq, body, batch);
        break;
      case "erasure":
        // erasure-v1: the cells it names were told, in the entries that follow it.
        if (Array.isArray(body.notify)) {
          batch = new Batch(e.seq + 1);
          await processor.processErasure(e.seq, body, batch);
        }
        break;
      case "snapshot":
        return this.snapshot(e.seq, body);
      case "checkpoint":
        return this.checkpoint(e.seq, body);
      case "apply": {
        // Governance swapped the manifest here: the rest of history runs under the new catalog.
        const bundle = await this.getBlob(body.bundle_ref as HashText);
        const from = state.catalog;
        state.catalog = catalogFromBundle(bundle, body.new_manifest_hash as string);
        state.airRef = body.bundle_ref as HashText;
        if (body.migrations !== undefined) return replayMigrations(processor, from, body, e.seq);
        break;
      }
      case "step":
      case "effect_intent":
        return {
          seq: e.seq,
          reason: `${e.kind} appears outside the batch that should have produced it`,
          expected: null,
          got: jsonView(body),
        };
      default:
        break; // genesis and governance records carry no step
    }
    if (batch && batch.entries.length > 0) this.expected = { batch, at: 0 };
    return undefined;
  }

  /** Derive before trust: a snapshot is a cache of the state replay has just derived; every field must agree. */
  private async snapshot(seq: number, body: CborObject): Promise<Divergence | undefined> {
    const { state } = this;
    const blob = readSnapshotBlob(await this.getBlob(body.cells_ref as HashText));
    const why = snapshotMismatch(body as unknown as SnapshotBody, blob, {
      cells: state.cells.list().map((c) => [c.module, c.key, c.hash] as const),
      ledger: state.ledger,
      pending: state.pending.values(),
      logicalNow: state.logicalNow,
      airRef: state.airRef,
      manifestHash: state.catalog.manifestHash,
      genesisAirRef: this.genesis.airRef,
    });
    if (why === null) return undefined;
    return {
      seq,
      reason: `the snapshot is not the state replay derived: ${why}`,
      expected: jsonView(body),
      got: { state_root: state.cells.stateRoot(), manifest_hash: state.catalog.manifestHash },
      fault: "snapshot_mismatch",
    };
  }

  /** A checkpoint attests the manifest in force and the derived state root. */
  private checkpoint(seq: number, body: CborObject): Divergence | undefined {
    const { state } = this;
    if (body.manifest_hash !== state.catalog.manifestHash)
      return {
        seq,
        reason: "checkpoint manifest differs from the manifest in force",
        expected: body.manifest_hash,
        got: state.catalog.manifestHash,
        fault: "checkpoint_mismatch",
      };
    const recorded = body.state_root as string;
    if (recorded === ZERO_ROOT) return undefined;
    const root = state.cells.stateRoot();
    if (recorded !== root)
      return {
        seq,
        reason: "checkpoint state root differs",
        expected: recorded,
        got: root,
        fault: "checkpoint_mismatch",
      };
    return undefined;
  }
}

/** What a replayer needs from genesis: the world key (gate denials) and the genesis AIR bundle. */
export function replayGenesis(genesisBody: CborValue): { worldPublicKey: Uint8Array; airRef: HashText } {
  const g = genesisBody as CborObject;
  return { worldPublicKey: g.world_public_key as Uint8Array, airRef: g.air_ref as HashText };
}

/**
 * Replays entries `fromSeq..toSeq` onto `processor.state`, which must hold the state before
 * `fromSeq`, scanning the store (cold start's tail, a fork's source, shadow's rebuild).
 */
export async function replayRange(
  store: JournalStore,
  processor: Processor,
  fromSeq: number,
  toSeq: number | undefined,
  hooks: ReplayHooks = {},
): Promise<ReplayResult> {
  const g0 = await store.get(0);
  processor.oracle ??= oracleOf(store);
  const r = new Replayer(processor, replayGenesis(decodeStored(g0!.body)), (h) => store.getBlob(h), fromSeq);
  for await (const e of store.iterate(fromSeq, toSeq)) {
    hooks.onProgress?.(e.seq);
    // Entries the kernel reproduces are compared as bytes: decode only when the replayer asks.
    let value: CborValue | undefined;
    const entry = {
      seq: e.seq,
      kind: e.kind,
      body: e.body,
      get value(): CborValue {
        return (value ??= decodeStored(e.body));
      },
    };
    if (await r.feed(entry)) return r.result();
  }
  r.end();
  return r.result();
}

const ZERO_ROOT = "sha256:" + "0".repeat(64);

/** Re-runs the state migrations an apply recorded; they must rewrite as many cells, with as much fuel, to the recorded root. */
async function replayMigrations(
  processor: Processor,
  from: AirCatalog,
  body: CborObject,
  seq: number,
): Promise<Divergence | undefined> {
  const state = processor.state;
  const recorded = body.migrations as unknown as MigrationRun[];
  const plans = recorded.map((r) => ({ module: r.module, migration: r.migration }));
  const out = await runMigrations(state.cells, processor.modules, from, state.catalog, plans, String(body.proposal_id));
  const got = runsBody(out.runs);
  if (out.failures.length > 0 || Buffer.compare(encodeStored(got), encodeStored(body.migrations!)) !== 0)
    return {
      seq,
      reason: `the state migrations of apply ${seq} ran differently`,
      expected: jsonView(body.migrations!),
      got: { runs: jsonView(got), failures: out.failures },
    };
  commitMigrations(state.cells, out);
  const root = state.cells.stateRoot();
  if (root !== body.state_root)
    return {
      seq,
      reason: `the state root after the migrations of apply ${seq} differs`,
      expected: body.state_root,
      got: root,
    };
  return undefined;
}

/** The journal as the processor's oracle, when the store can answer synchronously (SQLite). */
export function oracleOf(store: JournalStore): ReplayOracle | undefined {
  const s = store as Partial<{ getSync(seq: number): JournalEntry | null; getBlobSync(h: HashText): Uint8Array }>;
  if (typeof s.getSync !== "function" || typeof s.getBlobSync !== "function") return undefined;
  return {
    entry: (seq) => {
      const e = s.getSync!(seq);
      return e === null ? null : { kind: e.kind, body: decodeStored(e.body) as CborObject };
    },
    blob: (h) => {
      try {
        return s.getBlobSync!(h);
      } catch {
        return null; // erased or absent: the cell stays known by its hash
      }
    },
  };
}
