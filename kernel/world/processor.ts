/**
 * @module The shell around the one transition (kernel/transition/transition.ts): a `Processor`
 * owns a kernel state and the module host, feeds the transition one input at a time and answers
 * what it asks — running a module's WASM, signing a gate denial — then hands the entries back in
 * the caller's batch. Live execution, replay, cold start, shadow and counterfactual runs all
 * step through it (built by processor-factory.ts), so they all run the same transition.
 */
import type { CborValue } from "../../air/cbor/value.js";
import type { GateDecision, GateHooks } from "../core/gate.js";
import type { KeyPair } from "../crypto/keys.js";
import { buildEffectReceiptBody, buildReceiptEnvelope } from "../crypto/receipt.js";
import type { EntryBodies } from "../journal/index.js";
import type { Batch } from "../transition/batch.js";
import { GATE_ADAPTER } from "../transition/bodies.js";
import {
  transition,
  type AdoptedStep,
  type CallResult,
  type ReplayOracle,
  type StepStats,
  type Transition,
  type TransitionFault,
  type TransitionInput,
  type TransitionReply,
  type TransitionRequest,
} from "../transition/transition.js";
import type { MigrationOutcome } from "../transition/migrate.js";
import type { ModuleHost } from "./modules.js";
import { worldGateHooks } from "./gate-rules.js";
import type { EventBody, KernelState } from "../transition/state.js";

export type { EventBody, KernelState, PendingIntent, StateView } from "../transition/state.js";
export type { AdoptedStep, ReplayOracle, StepStats } from "../transition/transition.js";
export {
  RECEIPT_EVENT_SCHEMA,
  GATE_ADAPTER,
  EXPIRY_ADAPTER,
  validUntilOf,
  pendingFromEntries,
  ingressEventHash,
  eventHash,
  decisionBody,
  isInputEvent,
} from "../transition/bodies.js";

/** Signs a denied receipt (the gate's own receipts are signed with the world key). */
export type DenySigner = (d: GateDecision, p: { kind: string; nowNs: bigint }) => EntryBodies["effect_receipt"];

/**
 * The replaying gate's "signer" when only the world's public key is known: the same body
 * with an all-zero signature. Replay then checks the recorded signature against the world
 * key instead of reproducing it (see replay.ts), so replay needs no secret.
 */
export function unsignedDenySigner(worldId: string, worldPublicKey: Uint8Array): DenySigner {
  const adapterPublicKey = new Uint8Array(worldPublicKey);
  return (d, p) => {
    const payload: CborValue = { code: d.code, reason: d.reason, stage: d.stage };
    const input = {
      worldId,
      intentId: d.intentId,
      effectKind: p.kind,
      params: d.params,
      idempotencyKey: d.intentId,
      status: "denied" as const,
      payload,
      adapter: GATE_ADAPTER,
      startedNs: p.nowNs,
      finishedNs: p.nowNs,
      cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
    };
    return {
      intent_id: d.intentId,
      receipt: buildReceiptEnvelope(input),
      signature: new Uint8Array(64),
      adapter_public_key: adapterPublicKey,
      payload,
    };
  };
}

/** The gate's signer: a `denied` receipt signed by the world key (ed25519 is deterministic, so replay reproduces it). */
export function gateDenySigner(worldId: string, worldKey: KeyPair): DenySigner {
  return (d, p) =>
    buildEffectReceiptBody(
      {
        worldId,
        intentId: d.intentId,
        effectKind: p.kind,
        params: d.params,
        idempotencyKey: d.intentId,
        status: "denied",
        payload: { code: d.code, reason: d.reason, stage: d.stage },
        adapter: GATE_ADAPTER,
        startedNs: p.nowNs,
        finishedNs: p.nowNs,
        cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
      },
      worldKey,
      worldKey.publicKey,
    );
}

/**
 * The step loop's shell over one state: it runs the transition for each input and answers its
 * requests. State is changed only by the transition; `state` is public for readers.
 */
export class Processor {
  readonly stats: StepStats = { steps: 0, failures: 0, fuel: 0 };
  /** Steps adopted from the journal instead of re-run (replay only). */
  readonly adopted: AdoptedStep[] = [];

  /** The world's gate rules (from its genesis flags), never a caller's. */
  private readonly hooks: GateHooks;

  constructor(
    readonly state: KernelState,
    readonly modules: ModuleHost,
    private readonly signDenied: DenySigner,
  ) {
    this.hooks = worldGateHooks(state.behaviour);
  }

  /**
   * Runs one input through the transition, pushing what it causes to `batch`; a fault only from
   * an apply's migrations. Replay passes the journal as `oracle`, to adopt steps whose input was erased.
   */
  run(input: TransitionInput, batch: Batch, oracle?: ReplayOracle): Promise<TransitionFault | undefined> {
    return this.drive(
      transition(this.state, input, {
        batch,
        hooks: this.hooks,
        stats: this.stats,
        adopted: this.adopted,
        ...(oracle ? { oracle } : {}),
      }),
    );
  }

  /** Processes an event entry at `seq` and everything it causes, pushing results to `batch`. */
  async processEvent(seq: number, body: EventBody, batch: Batch): Promise<void> {
    await this.run({ kind: "event", seq, body }, batch);
  }

  /** Applies an approver's decision on a held intent: allow → ready to dispatch; deny → denied receipt delivered. */
  async processApproval(seq: number, body: EntryBodies["policy_decision"], batch: Batch): Promise<void> {
    if (body.stage !== "approval") return;
    await this.run({ kind: "approval", seq, body: body as Extract<typeof body, { stage: "approval" }> }, batch);
  }

  /** erasure-v1: tells each cell an erasure entry names, through `sys/BlobErased@1` events. */
  async processErasure(seq: number, body: EntryBodies["erasure"], batch: Batch): Promise<void> {
    await this.run({ kind: "erasure", seq, body }, batch);
  }

  /** Processes a receipt entry at `seq` (an adapter's, or a denial after a withheld approval). */
  async processReceipt(seq: number, body: EntryBodies["effect_receipt"], batch: Batch): Promise<void> {
    await this.run({ kind: "receipt", seq, body }, batch);
  }

  /** Runs a migration generator (planning an apply, a shadow run) with this processor's modules. */
  migrations(gen: Transition<MigrationOutcome>): Promise<MigrationOutcome> {
    return this.drive(gen);
  }

  /** Answers the transition's requests until it returns. */
  drive<T>(gen: Transition<T>): Promise<T> {
    return drive(gen, (r) =>
      r.kind === "sign_denial"
        ? this.signDenied(r.decision, { kind: r.effectKind, nowNs: r.nowNs })
        : callModule(this.modules, r),
    );
  }
}

/** Runs a transition to its end, answering each request with `answer` (the shell's half of the step). */
export async function drive<T>(
  gen: Transition<T>,
  answer: (r: TransitionRequest) => TransitionReply | Promise<TransitionReply>,
): Promise<T> {
  let next = gen.next();
  while (!next.done) next = gen.next(await answer(next.value));
  return next.value;
}

/** Loads and calls a module for the transition; a module that will not load is a failed call with no fuel. */
export async function callModule(
  modules: ModuleHost,
  r: Extract<TransitionRequest, { kind: "call" }>,
): Promise<CallResult> {
  let mod;
  try {
    mod = await modules.get(r.catalog, r.module);
  } catch (e) {
    const err = e as { code?: string; message: string };
    return {
      ok: false,
      error: { code: err.code ?? "module.load_failed", message: err.message },
      fuelUsed: 0,
      reads: [],
      erasedReads: 0,
    };
  }
  if (r.host) modules.current = r.host;
  const res = await mod.call(r.input);
  const erasedReads = modules.takeErasedReads().length;
  const reads = modules.takeReads();
  return { ...res, reads, erasedReads };
}
