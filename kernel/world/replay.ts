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
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import { catalogFromBundle } from "../../air/bundle.js";
import { verifyReceipt } from "../crypto/receipt.js";
import {
  isHeldDecision,
  parseEntryBody,
  typedBody,
  type ReceiptBody,
  type CheckpointBody,
  type EntryKind,
  type JournalStore,
  type JournalReader,
  type BlobStore,
  type SnapshotBody,
} from "../journal/index.js";
import { Batch } from "../transition/batch.js";
import type { AdoptedStep, KernelState, Processor, ReplayOracle } from "./processor.js";
import { isGateDenial } from "../transition/bodies.js";
import { eventOrigin } from "./event-fields.js";
import { jsonView } from "./json-view.js";
import { readSnapshotBlob } from "./derived-book.js";
import { snapshotMismatch } from "./snapshot.js";

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

/** True when two receipt bodies differ at most in their signature. */
function sameExceptSignature(a: ReceiptBody, b: ReceiptBody): boolean {
  const strip = (x: ReceiptBody) => encodeStored({ ...x, signature: new Uint8Array(0) });
  return Buffer.compare(strip(a), strip(b)) === 0;
}

/** The recorded gate denial is signed by this world's key over its envelope. */
function gateSignatureHolds(recorded: ReceiptBody, worldPublicKey: Uint8Array): boolean {
  if (Buffer.compare(recorded.adapter_public_key, worldPublicKey) !== 0) return false;
  return verifyReceipt(recorded.receipt, recorded.signature, worldPublicKey);
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
    /** The journal, to adopt steps whose input was erased (absent: such a step fails as it would live). */
    private readonly oracle?: ReplayOracle,
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
    // Only a gate denial is compared field by field (its recorded value is decoded for it alone).
    if (rec.kind === "effect_receipt" && got.kind === "effect_receipt" && isGateDenial(got.body)) {
      const recorded = typedBody("effect_receipt", rec.value);
      const made = typedBody("effect_receipt", got.body);
      if (
        recorded.kind === "effect_receipt" &&
        made.kind === "effect_receipt" &&
        sameExceptSignature(recorded.body, made.body) &&
        gateSignatureHolds(recorded.body, this.genesis.worldPublicKey)
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
    const { processor } = this;
    const rec = typedBody(e.kind as EntryKind, e.value);
    const outside = (what: string): Divergence => ({
      seq: e.seq,
      reason: `${what} appears outside the step that should have produced it`,
      expected: null,
      got: jsonView(e.value),
    });
    const batch = new Batch(e.seq + 1);
    switch (rec.kind) {
      case "event": {
        const origin = eventOrigin(rec.body);
        if (origin.kind !== "ingress") return outside(`event from ${String(origin.kind)}`);
        await processor.run({ kind: "event", seq: e.seq, body: rec.body }, batch, this.oracle);
        break;
      }
      case "effect_receipt":
        if (isGateDenial(rec.body)) return outside("a gate denial");
        await processor.run({ kind: "receipt", seq: e.seq, body: rec.body }, batch, this.oracle);
        break;
      case "policy_decision":
        if (!isHeldDecision(rec.body)) return outside("a gate decision");
        await processor.run({ kind: "approval", seq: e.seq, body: rec.body }, batch, this.oracle);
        break;
      case "erasure":
        // erasure-v1: the cells it names were told, in the entries that follow it.
        await processor.run({ kind: "erasure", seq: e.seq, body: rec.body }, batch, this.oracle);
        break;
      case "snapshot":
        return this.snapshot(e.seq, rec.body);
      case "checkpoint":
        return this.checkpoint(e.seq, rec.body);
      case "apply": {
        // Governance swapped the manifest here: the rest of history runs under the new catalog.
        const next = catalogFromBundle(await this.getBlob(rec.body.bundle_ref as HashText), rec.body.new_manifest_hash);
        const fault = await processor.run({ kind: "apply", seq: e.seq, body: rec.body, next }, batch, this.oracle);
        if (fault)
          return {
            seq: fault.seq,
            reason: fault.message,
            expected: jsonView(fault.expected),
            got: jsonView(fault.got),
          };
        break;
      }
      case "step":
      case "effect_intent":
        return {
          seq: e.seq,
          reason: `${e.kind} appears outside the batch that should have produced it`,
          expected: null,
          got: jsonView(e.value),
        };
      default:
        break; // genesis and governance records carry no step
    }
    if (batch.entries.length > 0) this.expected = { batch, at: 0 };
    return undefined;
  }

  /** Derive before trust: a snapshot is a cache of the state replay has just derived; every field must agree. */
  private async snapshot(seq: number, body: SnapshotBody): Promise<Divergence | undefined> {
    const { state } = this;
    const blob = readSnapshotBlob(await this.getBlob(body.cells_ref as HashText));
    const why = snapshotMismatch(body, blob, {
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
  private checkpoint(seq: number, body: CheckpointBody): Divergence | undefined {
    const { state } = this;
    if (body.manifest_hash !== state.catalog.manifestHash)
      return {
        seq,
        reason: "checkpoint manifest differs from the manifest in force",
        expected: body.manifest_hash,
        got: state.catalog.manifestHash,
        fault: "checkpoint_mismatch",
      };
    const recorded = body.state_root;
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
  // Once per replay: the schema check is what makes the fields typed.
  const g = parseEntryBody("genesis", genesisBody, 0);
  return { worldPublicKey: g.world_public_key, airRef: g.air_ref as HashText };
}

/**
 * Replays entries `fromSeq..toSeq` onto `processor.state`, which must hold the state before
 * `fromSeq`, scanning the store (cold start's tail, a fork's source, shadow's rebuild).
 */
export async function replayRange(
  store: JournalStore & Pick<JournalReader, "getSync"> & Pick<BlobStore, "getBlobSync">,
  processor: Processor,
  fromSeq: number,
  toSeq: number | undefined,
  hooks: ReplayHooks = {},
): Promise<ReplayResult> {
  const g0 = await store.get(0);
  const r = new Replayer(
    processor,
    replayGenesis(decodeStored(g0!.body)),
    (h) => store.getBlob(h),
    fromSeq,
    oracleOf(store),
  );
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

/** The journal as the transition's oracle: its recorded entries and blobs, read synchronously. */
export function oracleOf(store: Pick<JournalReader, "getSync"> & Pick<BlobStore, "getBlobSync">): ReplayOracle {
  return {
    entry: (seq) => {
      const e = store.getSync(seq);
      return e === null ? null : typedBody(e.kind, decodeStored(e.body));
    },
    blob: (h) => {
      try {
        return store.getBlobSync(h);
      } catch {
        return null; // erased or absent: the cell stays known by its hash
      }
    },
  };
}
