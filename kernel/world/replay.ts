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

/**
 * Replays entries `fromSeq..toSeq` onto `processor.state`, which must hold the state before
 * `fromSeq`. Gate denials are compared field by field and their recorded signature checked
 * against the world key, so a replayer needs no secret key.
 */
export async function replayRange(
  store: JournalStore,
  processor: Processor,
  fromSeq: number,
  toSeq: number | undefined,
  hooks: ReplayHooks = {},
): Promise<ReplayResult> {
  const g0 = await store.get(0);
  const genesis = decodeStored(g0!.body) as CborObject;
  const worldPublicKey = genesis.world_public_key as Uint8Array;
  const genesisAirRef = genesis.air_ref as HashText;
  const state: KernelState = processor.state;
  const it = store.iterate(fromSeq, toSeq)[Symbol.asyncIterator]();
  let last = fromSeq - 1;
  const next = async (): Promise<JournalEntry | undefined> => {
    const r = await it.next();
    if (r.done) return undefined;
    last = r.value.seq;
    hooks.onProgress?.(last);
    return r.value;
  };
  processor.oracle ??= oracleOf(store);
  const result = (divergence?: Divergence): ReplayResult => ({
    ok: divergence === undefined,
    entries: last + 1,
    state_root: state.cells.stateRoot(),
    steps: processor.stats.steps - processor.adopted.length,
    ...(processor.adopted.length > 0 ? { adopted_steps: [...processor.adopted] } : {}),
    ...(divergence ? { divergence } : {}),
  });

  /** Compares a produced batch with the entries that follow in the journal. */
  const compare = async (batch: Batch): Promise<Divergence | undefined> => {
    for (let i = 0; i < batch.entries.length; i++) {
      const got = batch.entries[i]!;
      const rec = await next();
      const seq = batch.baseSeq + i;
      if (!rec)
        return {
          seq,
          reason: "the journal ends where the kernel produced more entries",
          expected: null,
          got: { kind: got.kind, body: jsonView(got.body) },
        };
      if (rec.kind === "effect_receipt" && got.kind === "effect_receipt" && isGateDenial(got.body)) {
        const recorded = decodeStored(rec.body) as CborObject;
        if (sameExceptSignature(recorded, got.body as CborObject) && gateSignatureHolds(recorded, worldPublicKey))
          continue;
      }
      if (rec.kind !== got.kind || Buffer.compare(rec.body, batch.bytesAt(i)) !== 0) {
        return {
          seq: rec.seq,
          reason: `entry ${rec.seq} differs from what the kernel produced`,
          expected: { kind: rec.kind, body: jsonView(decodeStored(rec.body)) },
          got: { kind: got.kind, body: jsonView(got.body) },
        };
      }
    }
    return undefined;
  };

  for (let e = await next(); e !== undefined; e = await next()) {
    const body = decodeStored(e.body) as CborObject;
    let batch: Batch | undefined;
    switch (e.kind) {
      case "event": {
        const origin = body.origin as CborObject;
        if (origin.kind !== "ingress")
          return result({
            seq: e.seq,
            reason: `event from ${String(origin.kind)} appears outside the step that should have produced it`,
            expected: null,
            got: jsonView(body),
          });
        state.logicalNow = Number((body.ctx as CborObject).logical_now);
        batch = new Batch(e.seq + 1);
        await processor.processEvent(e.seq, body as unknown as EventBody, batch);
        break;
      }
      case "effect_receipt": {
        const env = body.receipt as CborObject;
        if (env.adapter_id === GATE_ADAPTER.id && env.status === "denied") {
          return result({
            seq: e.seq,
            reason: "a gate denial appears outside the step that should have produced it",
            expected: null,
            got: jsonView(body),
          });
        }
        batch = new Batch(e.seq + 1);
        await processor.processReceipt(e.seq, body, batch);
        break;
      }
      case "policy_decision":
        if (body.stage !== "approval")
          return result({
            seq: e.seq,
            reason: "a gate decision appears outside the step that should have produced it",
            expected: null,
            got: jsonView(body),
          });
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
      case "snapshot": {
        // Derive before trust: a snapshot is a cache of the state replay has just derived; every field must agree.
        const blob = readSnapshotBlob(await store.getBlob(body.cells_ref as HashText));
        const why = snapshotMismatch(body as unknown as SnapshotBody, blob, {
          cells: state.cells.list().map((c) => [c.module, c.key, c.hash] as const),
          ledger: state.ledger,
          pending: state.pending.values(),
          logicalNow: state.logicalNow,
          airRef: state.airRef,
          manifestHash: state.catalog.manifestHash,
          genesisAirRef,
        });
        if (why !== null)
          return result({
            seq: e.seq,
            reason: `the snapshot is not the state replay derived: ${why}`,
            expected: jsonView(body),
            got: { state_root: state.cells.stateRoot(), manifest_hash: state.catalog.manifestHash },
            fault: "snapshot_mismatch",
          });
        break;
      }
      case "checkpoint": {
        const root = state.cells.stateRoot();
        const recorded = body.state_root as string;
        if (body.manifest_hash !== state.catalog.manifestHash)
          return result({
            seq: e.seq,
            reason: "checkpoint manifest differs from the manifest in force",
            expected: body.manifest_hash,
            got: state.catalog.manifestHash,
            fault: "checkpoint_mismatch",
          });
        if (recorded === ZERO_ROOT) break;
        if (recorded !== root)
          return result({
            seq: e.seq,
            reason: "checkpoint state root differs",
            expected: recorded,
            got: root,
            fault: "checkpoint_mismatch",
          });
        break;
      }
      case "apply": {
        // Governance swapped the manifest here: the rest of history runs under the new catalog.
        const bundle = await store.getBlob(body.bundle_ref as HashText);
        const from = state.catalog;
        state.catalog = catalogFromBundle(bundle, body.new_manifest_hash as string);
        state.airRef = body.bundle_ref as HashText;
        if (body.migrations !== undefined) {
          const d = await replayMigrations(processor, from, body, e.seq);
          if (d) return result(d);
        }
        break;
      }
      case "step":
      case "effect_intent":
        return result({
          seq: e.seq,
          reason: `${e.kind} appears outside the batch that should have produced it`,
          expected: null,
          got: jsonView(body),
        });
      default:
        break; // genesis, erasure and governance records carry no step
    }
    if (batch) {
      const d = await compare(batch);
      if (d) return result(d);
    }
  }
  return result();
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
function oracleOf(store: JournalStore): ReplayOracle | undefined {
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
