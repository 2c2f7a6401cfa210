/**
 * @module The step loop shared by live execution and replay. Given one input (an event
 * already in the journal, a receipt, an approval) it routes, steps modules, gates their
 * effects and pushes every resulting entry into a Batch — in a fixed order, so replay can
 * compare the batch with the journal byte for byte. It performs no outside effect: allowed
 * intents are left in `pending` for the shell to dispatch after the batch is durable.
 */
import { encodeCanonical } from "../../air/cbor/encode.js";
import { hashValue, type HashText } from "../../air/hash.js";
import { isCborObject, type CborObject, type CborValue } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import { deriveEntropy, type CellKey } from "../core/cells.js";
import { parseStepOutput, stepInput, type StepContext } from "../core/envelope.js";
import { decide, type GateDecision, type GateHooks } from "../core/gate.js";
import { routeEvent } from "../core/routing.js";
import type { Batch } from "./batch.js";
import type { KeyPair } from "../crypto/keys.js";
import { buildEffectReceiptBody, buildReceiptEnvelope } from "../crypto/receipt.js";
import type { ModuleHost } from "./modules.js";
import { DEFAULT_INTENT_TTL_NS, ERASURE_EVENT_SCHEMA } from "./flags.js";
import { worldGateHooks } from "./gate-rules.js";
import type { EventBody, KernelState, PendingIntent } from "./kernel-state.js";
import type { EntryBodies } from "../journal/index.js";

export type { EventBody, KernelState, PendingIntent } from "./kernel-state.js";

/** Schema of the event that carries a receipt back to the module that asked. */
export const RECEIPT_EVENT_SCHEMA = "sys/EffectReceiptEnvelope@1";
/** Adapter id on receipts the gate itself issues for denied intents. */
export const GATE_ADAPTER = { id: "kernel.gate", version: "1" } as const;
/** Adapter id of the receipts the kernel issues for expired intents (signed by the world key). */
export const EXPIRY_ADAPTER = { id: "kernel.expiry", version: "1" } as const;

/** What one input may still cause (cascade-v1). */
interface CascadeBudget {
  steps: number;
  events: number;
  exhausted: boolean;
}

/** Signs a denied receipt (the gate's own receipts are signed with the world key). */
export type DenySigner = (d: GateDecision, p: { kind: string; nowNs: bigint }) => CborValue;

/**
 * The replaying gate's "signer" when only the world's public key is known: the same body
 * with an all-zero signature. Replay then checks the recorded signature against the world
 * key instead of reproducing it (see replay.ts), so replay needs no secret.
 */
export function unsignedDenySigner(worldId: string, worldPublicKey: Uint8Array): DenySigner {
  return (d, p) => {
    const input = {
      worldId,
      intentId: d.intentId,
      effectKind: p.kind,
      params: d.params,
      idempotencyKey: d.intentId,
      status: "denied" as const,
      payload: { code: d.code, reason: d.reason, stage: d.stage } as CborValue,
      adapter: GATE_ADAPTER,
      startedNs: p.nowNs,
      finishedNs: p.nowNs,
      cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
    };
    return {
      intent_id: d.intentId,
      receipt: buildReceiptEnvelope(input),
      signature: new Uint8Array(64),
      adapter_public_key: worldPublicKey,
      payload: input.payload,
    } as unknown as CborValue;
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
    ) as unknown as CborValue;
}

/** Counters a run reports. */
export interface StepStats {
  steps: number;
  failures: number;
  fuel: number;
}

/**
 * What replay knows that live execution does not: the journal's recorded entries and the
 * CAS. A step whose input was erased (a blob it read, or a cell state known only by hash)
 * cannot be re-run; replay adopts the step's recorded outputs instead, and reports it.
 */
export interface ReplayOracle {
  entry(seq: number): { kind: string; body: CborObject } | null;
  blob(hash: HashText): Uint8Array | null;
}

/** A step replay took from the journal instead of re-running, and why. */
export interface AdoptedStep {
  seq: number;
  module: string;
  key: CellKey;
  reason: "input_erased" | "state_erased";
}

/** The step loop over one input. */
export class Processor {
  readonly stats: StepStats = { steps: 0, failures: 0, fuel: 0 };
  /** Replay only: the journal to adopt steps from whose input was erased. */
  oracle: ReplayOracle | undefined;
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

  /** Processes an event entry at `seq` and everything it causes, pushing results to `batch`. */
  async processEvent(
    seq: number,
    body: EventBody,
    batch: Batch,
    budget: CascadeBudget = this.newBudget(),
  ): Promise<void> {
    const queue: { seq: number; body: EventBody }[] = [{ seq, body }];
    while (queue.length > 0 && !budget.exhausted) {
      const e = queue.shift()!;
      const origin = e.body.origin as CborObject;
      const targets =
        origin.kind === "receipt" || origin.kind === "erasure"
          ? [{ module: origin.module as string, key: origin.key as CellKey }]
          : routeEvent(this.state.catalog, e.body.schema, e.body.value);
      for (const t of targets) {
        if (budget.exhausted) break;
        await this.step(t.module, t.key, e.seq, e.body, batch, queue, budget);
      }
    }
  }

  private newBudget(): CascadeBudget {
    const c = this.state.behaviour.cascade;
    return { steps: c?.steps ?? Infinity, events: c?.events ?? Infinity, exhausted: false };
  }

  private async step(
    module: string,
    key: CellKey,
    causeSeq: number,
    ev: EventBody,
    batch: Batch,
    queue: { seq: number; body: EventBody }[],
    budget: CascadeBudget,
  ): Promise<void> {
    const { catalog, cells } = this.state;
    const ctx = ev.ctx as unknown as StepContext;
    this.stats.steps++;
    const fail = (code: string, message: string, fuel: number) => {
      this.stats.failures++;
      batch.push("step", {
        module,
        key,
        cause_seq: causeSeq,
        ok: false,
        state_hash: cells.get(module, key)?.hash ?? null,
        events: 0,
        intents: [],
        error: { code, message },
        fuel,
      });
    };
    // cascade-v1: a runaway (two modules feeding each other) ends here, journaled, identically in replay.
    const limits = this.state.behaviour.cascade;
    if (budget.steps <= 0) {
      budget.exhausted = true;
      return fail(
        "kernel.cascade_limit",
        `the input at seq ${causeSeq}'s cascade reached ${limits!.steps} steps; the rest of it is dropped`,
        0,
      );
    }
    budget.steps--;
    const cell = cells.get(module, key);
    if (cell !== undefined && cell.bytes.length === 0) {
      // The cell's state is known by its hash only: its bytes were erased.
      if (this.adopt(module, key, causeSeq, batch, queue, budget, "state_erased")) return;
      return fail(
        "kernel.state_erased",
        `the state of ${module} ${String(key)} (${cell.hash}) was erased, so this step cannot run`,
        0,
      );
    }
    let mod;
    try {
      mod = await this.modules.get(catalog, module);
    } catch (e) {
      const err = e as { code?: string; message: string };
      return fail(err.code ?? "module.load_failed", err.message, 0);
    }
    this.modules.current = { journalHeight: ctx.journal_height, manifestHash: ctx.manifest_hash };
    const res = await mod.call(
      stepInput(cell?.bytes ?? null, { schema: ev.schema, value: ev.value, key }, ctx, module),
    );
    const erased = this.modules.takeErasedReads();
    const reads = this.modules.takeReads();
    if (!res.ok && erased.length > 0 && this.adopt(module, key, causeSeq, batch, queue, budget, "input_erased")) return;
    this.stats.fuel += res.fuelUsed;
    if (!res.ok) return fail(res.error.code, res.error.message, res.fuelUsed);
    const parsed = parseStepOutput(res.output, catalog, module);
    if (!parsed.ok) return fail(parsed.code, parsed.message, res.fuelUsed);
    const out = parsed.output;
    if (out.events.length > budget.events) {
      budget.exhausted = true;
      return fail(
        "kernel.cascade_limit",
        `this step would emit ${out.events.length} event(s); the cascade may emit only ${budget.events} more (of ${limits!.events}); the rest of it is dropped`,
        res.fuelUsed,
      );
    }
    budget.events -= out.events.length;

    const causeHash = ctx.event_hash;
    const nowNs = BigInt(ctx.now_ns);
    // Decide in order and book each allowance at once, so a second intent of the same step sees
    // the budget the first one spent.
    const decisions: GateDecision[] = [];
    out.effects.forEach((effect, index) => {
      const d = decide({
        catalog,
        worldId: this.state.worldId,
        module,
        key,
        causeEventHash: causeHash,
        index,
        effect,
        nowNs,
        budgets: this.state.ledger,
        hooks: this.hooks,
      });
      if (d.decision === "allow") this.state.ledger.allow(d.intentId, d.grant!, d.estimate);
      decisions.push(d);
    });
    batch.push("step", {
      module,
      key,
      cause_seq: causeSeq,
      ok: true,
      state_hash: out.stateHash,
      events: out.events.length,
      intents: decisions.map((d) => d.intentId),
      error: null,
      fuel: res.fuelUsed,
      // erasure-v1: which blobs this state and these outputs may derive from.
      ...(this.state.behaviour.erasure && reads.length > 0 ? { reads } : {}),
    });
    cells.set(module, key, out.stateBytes, out.stateHash ?? undefined);

    out.events.forEach((e, i) => {
      const seq = batch.nextSeq;
      const entropy = deriveEntropy(ctx.entropy, module, i);
      const body: EventBody = {
        schema: e.schema,
        value: e.value,
        key: e.key,
        ctx: this.childCtx(ctx, seq, entropy, e.schema, e.value, e.key, i),
        origin: { kind: "module", module, key, cause_seq: causeSeq, index: i },
      };
      batch.push("event", body);
      queue.push({ seq, body });
    });

    decisions.forEach((d, i) => {
      const effect = out.effects[i]!;
      const validUntil = this.state.behaviour.validity ? validUntilOf(catalog, d.grant, nowNs) : undefined;
      batch.push("effect_intent", {
        intent_id: d.intentId,
        idempotency_key: d.intentId,
        kind: effect.kind,
        params: d.params,
        params_hash: d.paramsHash,
        cap_slot: effect.cap_slot,
        grant: d.grant,
        module,
        key,
        cause_seq: causeSeq,
        index: i,
        ...(validUntil === undefined ? {} : { valid_until_ns: validUntil }),
      });
      batch.push("policy_decision", decisionBody(d) as unknown as EntryBodies["policy_decision"]);
      if (d.decision === "deny") {
        this.deliverDenied(d, { kind: effect.kind, capSlot: effect.cap_slot }, module, key, ctx, batch, queue);
        return;
      }
      this.state.pending.set(d.intentId, {
        intentId: d.intentId,
        kind: effect.kind,
        params: d.params,
        paramsHash: d.paramsHash,
        capSlot: effect.cap_slot,
        grant: d.grant!,
        capType: d.capType!,
        module,
        key,
        causeSeq,
        estimate: d.estimate,
        waiting: d.decision === "allow" ? "dispatch" : "approval",
        ...(validUntil === undefined ? {} : { validUntilNs: validUntil }),
      });
    });
  }

  /**
   * Replay only: takes the recorded step at this position, and every entry it produced
   * (events, intents, decisions, denials and their deliveries), as the journal holds them —
   * for a step whose input was erased and so cannot be re-run. The cell's new state comes
   * from the CAS by its recorded hash when present, else stays known by hash alone.
   */
  private adopt(
    module: string,
    key: CellKey,
    causeSeq: number,
    batch: Batch,
    queue: { seq: number; body: EventBody }[],
    budget: CascadeBudget,
    reason: AdoptedStep["reason"],
  ): boolean {
    const o = this.oracle;
    const seq = batch.nextSeq;
    const rec = o?.entry(seq);
    if (
      !o ||
      !rec ||
      rec.kind !== "step" ||
      rec.body.module !== module ||
      rec.body.cause_seq !== causeSeq ||
      Buffer.compare(encodeCanonical(rec.body.key as CellKey), encodeCanonical(key)) !== 0
    )
      return false;
    if (rec.body.ok !== true) {
      // The step failed when it ran: it changed nothing and produced nothing else.
      batch.push("step", rec.body as unknown as EntryBodies["step"]);
      this.stats.failures++;
      this.adopted.push({ seq, module, key, reason });
      return true;
    }
    const take = (kind: string): CborObject | null => {
      const e = o.entry(batch.nextSeq);
      return e !== null && e.kind === kind ? e.body : null;
    };
    batch.push("step", rec.body as unknown as EntryBodies["step"]);
    const h = rec.body.state_hash as HashText | null;
    this.state.cells.set(module, key, h === null ? null : (o.blob(h) ?? new Uint8Array(0)), h ?? undefined);
    const n = Number(rec.body.events);
    budget.events -= n;
    for (let i = 0; i < n; i++) {
      const at = batch.nextSeq;
      const ev = take("event");
      if (ev === null) return true; // the comparison with the journal reports the gap
      batch.push("event", ev as unknown as EntryBodies["event"]);
      queue.push({ seq: at, body: ev as unknown as EventBody });
    }
    for (const id of rec.body.intents as string[]) {
      const intent = take("effect_intent");
      if (intent === null || intent.intent_id !== id) return true;
      batch.push("effect_intent", intent as unknown as EntryBodies["effect_intent"]);
      const d = take("policy_decision");
      if (d === null) return true;
      batch.push("policy_decision", d as unknown as EntryBodies["policy_decision"]);
      if (d.decision === "deny") {
        const receipt = take("effect_receipt");
        if (receipt === null) return true;
        batch.push("effect_receipt", receipt as unknown as EntryBodies["effect_receipt"]);
        const at = batch.nextSeq;
        const delivery = take("event");
        if (delivery === null) return true;
        batch.push("event", delivery as unknown as EntryBodies["event"]);
        queue.push({ seq: at, body: delivery as unknown as EventBody });
        continue;
      }
      const p = pendingFromEntries(intent, d);
      if (p.waiting === "dispatch") this.state.ledger.allow(id, p.grant, p.estimate);
      this.state.pending.set(id, p);
    }
    this.adopted.push({ seq, module, key, reason });
    return true;
  }

  /** A gate denial becomes a signed `denied` receipt plus its delivery event, in the same batch. */
  deliverDenied(
    d: GateDecision,
    effect: { kind: string; capSlot: string },
    module: string,
    key: CellKey,
    ctx: StepContext,
    batch: Batch,
    queue: { seq: number; body: EventBody }[],
  ): void {
    const receipt = this.signDenied(d, { kind: effect.kind, nowNs: BigInt(ctx.now_ns) });
    const receiptSeq = batch.push("effect_receipt", receipt as unknown as EntryBodies["effect_receipt"]);
    this.pushDelivery(receiptSeq, receipt, { module, key, capSlot: effect.capSlot }, ctx, batch, queue);
  }

  /** Applies an approver's decision on a held intent: allow → ready to dispatch; deny → denied receipt delivered. */
  async processApproval(seq: number, body: CborObject, batch: Batch): Promise<void> {
    const intentId = body.intent_id as string;
    const p = this.state.pending.get(intentId);
    if (!p || p.waiting !== "approval") return;
    if (body.decision === "allow") {
      this.state.ledger.allow(intentId, p.grant, p.estimate);
      p.waiting = "dispatch";
      return;
    }
    this.state.pending.delete(intentId);
    const d: GateDecision = {
      intentId: p.intentId,
      decision: "deny",
      stage: "policy",
      code: "approval.refused",
      reason: `refused by ${String(body.approver)}`,
      grant: p.grant,
      capType: p.capType,
      policy: null,
      ruleIndex: null,
      params: p.params,
      paramsHash: p.paramsHash,
      estimate: p.estimate,
    };
    // A refusal carries no clock of its own: its receipt is stamped from the journal position alone.
    const ctx: StepContext = {
      now_ns: 0n,
      logical_now: this.state.logicalNow,
      journal_height: seq,
      entropy: new Uint8Array(32),
      event_hash: eventHash("approval", intentId, null),
      manifest_hash: this.state.catalog.manifestHash,
    };
    const queue: { seq: number; body: EventBody }[] = [];
    this.deliverDenied(d, { kind: p.kind, capSlot: p.capSlot }, p.module, p.key, ctx, batch, queue);
    const budget = this.newBudget();
    for (const q of queue) await this.processEvent(q.seq, q.body, batch, budget);
  }

  /**
   * erasure-v1: after the erasure entry at `seq`, each cell it names gets a
   * `sys/BlobErased@1 {blob_hash, reason}` event, so its module can redact its state. A cell
   * that no longer exists is skipped. The events carry no clock: their ctx comes from the seq.
   */
  async processErasure(seq: number, body: CborObject, batch: Batch): Promise<void> {
    if (!this.state.behaviour.erasure || !Array.isArray(body.notify)) return;
    const value: CborObject = { blob_hash: body.blob_hash as string, reason: body.reason as string };
    const budget = this.newBudget();
    for (const [module, key] of body.notify as [string, CellKey][]) {
      if (this.state.cells.get(module, key) === undefined) continue;
      const at = batch.nextSeq;
      const ctx: StepContext = {
        now_ns: 0n,
        logical_now: this.state.logicalNow,
        journal_height: at,
        entropy: deriveEntropy(new Uint8Array(32), "erasure", seq),
        event_hash: hashValue({ schema: ERASURE_EVENT_SCHEMA, value, key, erasure_seq: seq }),
        manifest_hash: this.state.catalog.manifestHash,
      };
      const ev: EventBody = {
        schema: ERASURE_EVENT_SCHEMA,
        value,
        key,
        ctx: ctx as unknown as CborObject,
        origin: { kind: "erasure", erasure_seq: seq, module, key },
      };
      batch.push("event", ev as unknown as EntryBodies["event"]);
      await this.processEvent(at, ev, batch, budget);
    }
  }

  /** Processes a receipt entry at `seq` (an adapter's, or a denial after a withheld approval). */
  async processReceipt(seq: number, receipt: CborObject, batch: Batch): Promise<void> {
    const intentId = receipt.intent_id as string;
    const p = this.state.pending.get(intentId);
    if (!p) return; // a duplicate receipt for a settled intent changes nothing
    this.state.pending.delete(intentId);
    const env = receipt.receipt as CborObject;
    const cost = env.cost as CborObject;
    this.state.ledger.settle(intentId, {
      tokens: Number(cost.tokens_in) + Number(cost.tokens_out),
      cents: Number(cost.cents),
    });
    const ctx: StepContext = {
      now_ns: BigInt(env.finished_ns as number | bigint),
      logical_now: ++this.state.logicalNow,
      journal_height: seq,
      entropy: deriveEntropy(receipt.signature as Uint8Array, "receipt", 0),
      event_hash: "sha256:" as HashText,
      manifest_hash: this.state.catalog.manifestHash,
    };
    const queue: { seq: number; body: EventBody }[] = [];
    this.pushDelivery(seq, receipt, { module: p.module, key: p.key, capSlot: p.capSlot }, ctx, batch, queue);
    const budget = this.newBudget();
    for (const q of queue) await this.processEvent(q.seq, q.body, batch, budget);
  }

  private pushDelivery(
    receiptSeq: number,
    receipt: CborValue,
    to: { module: string; key: CellKey; capSlot: string },
    ctx: StepContext,
    batch: Batch,
    queue: { seq: number; body: EventBody }[],
  ): void {
    const r = receipt as CborObject;
    const env = r.receipt as CborObject;
    const value: CborObject = {
      intent_id: env.intent_id as string,
      effect_kind: env.effect_kind as string,
      cap_slot: to.capSlot,
      status: env.status as string,
      payload_hash: Uint8Array.from(Buffer.from((env.payload_hash as string).slice(7), "hex")),
      // Modules decode the payload (canonical CBOR) against the effect's receipt schema.
      payload: encodeCanonical(r.payload ?? null),
    };
    const seq = batch.nextSeq;
    const body: EventBody = {
      schema: RECEIPT_EVENT_SCHEMA,
      value,
      key: to.key,
      ctx: this.childCtx(
        ctx,
        seq,
        deriveEntropy(ctx.entropy, "delivery", receiptSeq),
        RECEIPT_EVENT_SCHEMA,
        value,
        to.key,
      ),
      origin: {
        kind: "receipt",
        intent_id: env.intent_id as string,
        module: to.module,
        key: to.key,
        receipt_seq: receiptSeq,
      },
    };
    batch.push("event", body as unknown as EntryBodies["event"]);
    queue.push({ seq, body });
  }

  private childCtx(
    parent: StepContext,
    seq: number,
    entropy: Uint8Array,
    schema: string,
    value: CborValue,
    key: CellKey,
    index?: number,
  ): CborObject {
    // identity-v2: an emitted event's identity binds its cause and its index, so the same event
    // emitted twice (or by two identical requests) never yields the same intent ids.
    const hash =
      index !== undefined && this.state.behaviour.identityV2
        ? hashValue({ schema, value, key, cause: parent.event_hash, index })
        : eventHash(schema, value, key);
    return {
      now_ns: parent.now_ns,
      logical_now: parent.logical_now,
      journal_height: seq,
      entropy,
      event_hash: hash,
      manifest_hash: this.state.catalog.manifestHash,
    } as CborObject;
  }
}

/** validity-v1: an intent's deadline — its step's time plus the grant's TTL, never past the grant's expiry. */
export function validUntilOf(catalog: AirCatalog, grant: string | null, nowNs: bigint): bigint {
  const g = grant === null ? undefined : catalog.grants.get(grant)?.grant;
  const ttl = g?.intent_ttl_ns === undefined ? DEFAULT_INTENT_TTL_NS : BigInt(g.intent_ttl_ns);
  const until = nowNs + ttl;
  return g?.expiry_ns === undefined ? until : until < BigInt(g.expiry_ns) ? until : BigInt(g.expiry_ns);
}

/**
 * The pending intent an `effect_intent` entry and its (allow or require_approval) gate decision
 * imply: what the processor keeps after the step, rebuilt from the journal (adopted steps,
 * the journal rules' derived book).
 */
export function pendingFromEntries(intent: CborObject, d: CborObject): PendingIntent {
  const estimate = d.estimate as CborObject;
  return {
    intentId: intent.intent_id as HashText,
    kind: intent.kind as string,
    params: intent.params as CborValue,
    paramsHash: intent.params_hash as HashText,
    capSlot: intent.cap_slot as string,
    grant: intent.grant as string,
    capType: d.cap_type as string,
    module: intent.module as string,
    key: intent.key as CellKey,
    causeSeq: Number(intent.cause_seq),
    estimate: { tokens: Number(estimate.tokens), cents: Number(estimate.cents) },
    waiting: d.decision === "allow" ? "dispatch" : "approval",
    ...(intent.valid_until_ns === undefined ? {} : { validUntilNs: BigInt(intent.valid_until_ns as number | bigint) }),
  };
}

/** The identity of an ingress event under identity-v2: its schema, value and the seq it was journaled at. */
export function ingressEventHash(schema: string, value: CborValue, seq: number): HashText {
  return hashValue({ schema, value, key: null, ingress_seq: seq });
}

/** The identity of an event before identity-v2: sha256 of its canonical {schema, value, key}. */
export function eventHash(schema: string, value: CborValue, key: CellKey): HashText {
  return hashValue({ schema, value, key });
}

/** The journaled form of a gate decision. */
export function decisionBody(d: GateDecision): CborObject {
  return {
    intent_id: d.intentId,
    decision: d.decision,
    stage: d.stage,
    code: d.code,
    reason: d.reason,
    grant: d.grant,
    cap_type: d.capType,
    policy: d.policy,
    rule_index: d.ruleIndex,
    estimate: { tokens: d.estimate.tokens, cents: d.estimate.cents },
  };
}

/** True for an event body that entered from outside (and so starts a batch in replay). */
export function isInputEvent(body: CborValue): boolean {
  return isCborObject(body) && isCborObject(body.origin) && body.origin.kind === "ingress";
}
