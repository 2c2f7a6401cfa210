/**
 * @module The one transition: `transition(state, input, env)` takes the kernel's state and one
 * journaled input (an ingress event, a receipt, an approver's decision, an erasure, an apply) and
 * produces every entry that input causes, in a fixed order, updating the state. Live execution,
 * replay, the cold-start tail, shadow, counterfactual runs, migration and audit all drive it.
 *
 * It is deterministic and performs no effect: it is a generator that *yields* what only the
 * shell can do — run a module's WASM (`call`) and sign a gate denial with the world key
 * (`sign_denial`) — and resumes with the answer. So it awaits nothing, reads no clock, key,
 * file or network, and the determinism lint covers it. `drive()` in kernel/world/processor.ts
 * is the shell that answers.
 *
 * Why the state is updated in place rather than copied: the state is transferred, not shared —
 * the caller hands it over and gets it back changed, like `fn(self) -> Self`. A copy per input
 * would cost O(cells) on every event (the cell store is the world); a rebuild that must not
 * touch the live state (shadow, counterfactual) forks it first, once.
 */
import { annFields } from "./ann.js";
import { encodeCanonical, encodeStored } from "../../air/cbor/encode.js";
import { hashValue, type HashText } from "../../air/hash.js";
import type { CborObject, CborValue } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import type { Migration } from "../../air/schemas/patch.js";
import { deriveEntropy, type CellKey } from "../core/cells.js";
import { parseStepOutput, stepInput, type StepContext } from "../core/envelope.js";
import { decide, type GateDecision, type GateHooks } from "../core/gate.js";
import { routeEvent } from "../core/routing.js";
import type {
  EntryBodies,
  EntryKind,
  ErasureBody,
  HeldDecisionBody,
  ReceiptBody,
  TypedBody,
} from "../journal/entries.js";
import type { Batch } from "./batch.js";
import { RECEIPT_EVENT_SCHEMA, decisionBody, eventHash, pendingFromEntries, validUntilOf } from "./bodies.js";
import { ERASURE_EVENT_SCHEMA } from "./flags.js";
import { commitMigrations, migrate, runsBody, type MigrationOutcome } from "./migrate.js";
import type { CallResult, Transition, TransitionRequest } from "./requests.js";
import type { EventBody, KernelState } from "./state.js";

export type { CallResult, Transition, TransitionReply, TransitionRequest } from "./requests.js";

/** One journaled input, as the transition takes it. */
export type TransitionInput =
  | { kind: "event"; seq: number; body: EventBody }
  | { kind: "receipt"; seq: number; body: EntryBodies["effect_receipt"] }
  | { kind: "approval"; seq: number; body: HeldDecisionBody }
  | { kind: "erasure"; seq: number; body: ErasureBody }
  | {
      kind: "apply";
      seq: number;
      body: EntryBodies["apply"];
      /** The catalog the apply puts in force (built by the shell from the bundle blob, which it reads). */
      next: AirCatalog;
      /** Live only: the migrations governance already ran to write `body` (replay runs them again). */
      planned?: MigrationOutcome;
    };

/** Counters a run reports. */
export interface StepStats {
  steps: number;
  failures: number;
  fuel: number;
}

/** A step replay took from the journal instead of re-running, and why. */
export interface AdoptedStep {
  seq: number;
  module: string;
  key: CellKey;
  reason: "input_erased" | "state_erased";
}

/**
 * What replay knows that live execution does not: the journal's recorded entries and the
 * CAS. A step whose input was erased (a blob it read, or a cell state known only by hash)
 * cannot be re-run; replay adopts the step's recorded outputs instead, and reports it.
 */
export interface ReplayOracle {
  entry(seq: number): TypedBody | null;
  blob(hash: HashText): Uint8Array | null;
}

/** What the transition is given besides the state and the input. */
export interface TransitionEnv {
  /** Where the entries go; its next seq is the seq the next entry gets. */
  batch: Batch;
  /** The world's gate rules (from its genesis flags: kernel/world/gate-rules.ts), never a caller's. */
  hooks: GateHooks;
  /** Replay only: the journal, to adopt steps whose input was erased. */
  oracle?: ReplayOracle;
  /** Counters, added to. */
  stats: StepStats;
  /** Steps adopted from the journal (replay only), appended to. */
  adopted: AdoptedStep[];
}

/** Why an input could not be taken as recorded (only an apply's migrations can disagree). */
export interface TransitionFault {
  code: "transition.migration_diverged";
  message: string;
  seq: number;
  expected: CborValue;
  got: CborValue;
}

/** What one cascade may still cause (cascade-v1). */
interface CascadeBudget {
  steps: number;
  events: number;
  exhausted: boolean;
}

type Queue = { seq: number; body: EventBody }[];

/** Runs one input to completion: every entry it causes is in `env.batch`, the state is the next one. */
export function* transition(
  state: KernelState,
  input: TransitionInput,
  env: TransitionEnv,
): Transition<TransitionFault | undefined> {
  switch (input.kind) {
    case "event": {
      const origin = input.body.origin as CborObject;
      // An ingress event carries the logical clock it was stamped with.
      if (origin.kind === "ingress") state.logicalNow = Number((input.body.ctx as CborObject).logical_now);
      yield* cascade(state, env, [{ seq: input.seq, body: input.body }], newBudget(state));
      return undefined;
    }
    case "receipt":
      yield* receipt(state, env, input.seq, input.body);
      return undefined;
    case "approval":
      yield* approval(state, env, input.seq, input.body);
      return undefined;
    case "erasure":
      yield* erasure(state, env, input.seq, input.body);
      return undefined;
    case "apply":
      return yield* apply(state, input);
  }
}

function newBudget(state: KernelState): CascadeBudget {
  const c = state.behaviour.cascade;
  return { steps: c?.steps ?? Infinity, events: c?.events ?? Infinity, exhausted: false };
}

/** Routes and steps every event of the queue, and every event those steps emit, within one budget. */
function* cascade(state: KernelState, env: TransitionEnv, queue: Queue, budget: CascadeBudget): Transition<void> {
  while (queue.length > 0 && !budget.exhausted) {
    const e = queue.shift()!;
    const origin = e.body.origin as CborObject;
    const targets =
      origin.kind === "receipt" || origin.kind === "erasure"
        ? [{ module: origin.module as string, key: origin.key as CellKey }]
        : routeEvent(state.catalog, e.body.schema, e.body.value);
    for (const t of targets) {
      if (budget.exhausted) break;
      yield* step(state, env, t.module, t.key, e.seq, e.body, queue, budget);
    }
  }
}

/** Asks the shell to run a module. */
function* call(request: Extract<TransitionRequest, { kind: "call" }>): Transition<CallResult> {
  // The shell answers a call with a CallResult (drive() in kernel/world/processor.ts).
  return (yield request) as CallResult;
}

function* step(
  state: KernelState,
  env: TransitionEnv,
  module: string,
  key: CellKey,
  causeSeq: number,
  ev: EventBody,
  queue: Queue,
  budget: CascadeBudget,
): Transition<void> {
  const { catalog, cells } = state;
  const { batch, stats } = env;
  const ctx = ev.ctx as unknown as StepContext;
  stats.steps++;
  const fail = (code: string, message: string, fuel: number) => {
    stats.failures++;
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
  const limits = state.behaviour.cascade;
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
    if (adopt(state, env, module, key, causeSeq, queue, budget, "state_erased")) return;
    return fail(
      "kernel.state_erased",
      `the state of ${module} ${String(key)} (${cell.hash}) was erased, so this step cannot run`,
      0,
    );
  }
  const res = yield* call({
    kind: "call",
    catalog,
    module,
    input: stepInput(cell?.bytes ?? null, { schema: ev.schema, value: ev.value, key }, ctx, module),
    host: { journalHeight: ctx.journal_height, manifestHash: ctx.manifest_hash },
  });
  if (!res.ok && res.erasedReads > 0 && adopt(state, env, module, key, causeSeq, queue, budget, "input_erased")) return;
  stats.fuel += res.fuelUsed;
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

  const nowNs = BigInt(ctx.now_ns);
  // Decide in order and book each allowance at once, so a second intent of the same step sees
  // the budget the first one spent.
  const decisions: GateDecision[] = out.effects.map((effect, index) => {
    const d = decide({
      catalog,
      worldId: state.worldId,
      module,
      key,
      causeEventHash: ctx.event_hash,
      index,
      effect,
      nowNs,
      budgets: state.ledger,
      hooks: env.hooks,
    });
    if (d.decision === "allow") state.ledger.allow(d.intentId, d.grant!, d.estimate);
    return d;
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
    ...(state.behaviour.erasure && res.reads.length > 0 ? { reads: res.reads } : {}),
    ...(state.behaviour.ann ? annFields(out.ann, batch) : {}),
  });
  cells.set(module, key, out.stateBytes, out.stateHash ?? undefined);

  out.events.forEach((e, i) => {
    const seq = batch.nextSeq;
    const body: EventBody = {
      schema: e.schema,
      value: e.value,
      key: e.key,
      ctx: childCtx(state, ctx, seq, deriveEntropy(ctx.entropy, module, i), e.schema, e.value, e.key, i),
      origin: { kind: "module", module, key, cause_seq: causeSeq, index: i },
    };
    batch.push("event", body);
    queue.push({ seq, body });
  });

  for (let i = 0; i < decisions.length; i++) {
    const d = decisions[i]!;
    const effect = out.effects[i]!;
    const validUntil = state.behaviour.validity ? validUntilOf(catalog, d.grant, nowNs) : undefined;
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
    batch.push("policy_decision", decisionBody(d));
    if (d.decision === "deny") {
      yield* deliverDenied(state, env, d, { kind: effect.kind, capSlot: effect.cap_slot }, module, key, ctx, queue);
      continue;
    }
    state.pending.set(d.intentId, {
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
  }
}

/**
 * Replay only: takes the recorded step at this position, and every entry it produced
 * (events, intents, decisions, denials and their deliveries), as the journal holds them —
 * for a step whose input was erased and so cannot be re-run. The cell's new state comes
 * from the CAS by its recorded hash when present, else stays known by hash alone.
 */
function adopt(
  state: KernelState,
  env: TransitionEnv,
  module: string,
  key: CellKey,
  causeSeq: number,
  queue: Queue,
  budget: CascadeBudget,
  reason: AdoptedStep["reason"],
): boolean {
  const { oracle: o, batch } = env;
  const seq = batch.nextSeq;
  const rec = o?.entry(seq);
  if (
    !o ||
    !rec ||
    rec.kind !== "step" ||
    rec.body.module !== module ||
    rec.body.cause_seq !== causeSeq ||
    Buffer.compare(encodeCanonical(rec.body.key), encodeCanonical(key)) !== 0
  )
    return false;
  batch.push("step", rec.body);
  if (rec.body.ok !== true) {
    // The step failed when it ran: it changed nothing and produced nothing else.
    env.stats.failures++;
    env.adopted.push({ seq, module, key, reason });
    return true;
  }
  const take = <K extends EntryKind>(kind: K): EntryBodies[K] | null => {
    const e = o.entry(batch.nextSeq);
    return e !== null && e.kind === kind ? (e.body as EntryBodies[K]) : null;
  };
  const h = rec.body.state_hash as HashText | null;
  state.cells.set(module, key, h === null ? null : (o.blob(h) ?? new Uint8Array(0)), h ?? undefined);
  const n = Number(rec.body.events);
  budget.events -= n;
  for (let i = 0; i < n; i++) {
    const at = batch.nextSeq;
    const ev = take("event");
    if (ev === null) return true; // the comparison with the journal reports the gap
    batch.push("event", ev);
    queue.push({ seq: at, body: ev });
  }
  for (const id of rec.body.intents) {
    const intent = take("effect_intent");
    if (intent === null || intent.intent_id !== id) return true;
    batch.push("effect_intent", intent);
    const d = take("policy_decision");
    if (d === null) return true;
    batch.push("policy_decision", d);
    if (d.decision === "deny") {
      const receipt = take("effect_receipt");
      if (receipt === null) return true;
      batch.push("effect_receipt", receipt);
      const at = batch.nextSeq;
      const delivery = take("event");
      if (delivery === null) return true;
      batch.push("event", delivery);
      queue.push({ seq: at, body: delivery });
      continue;
    }
    const p = pendingFromEntries(intent, d);
    if (p.waiting === "dispatch") state.ledger.allow(id, p.grant, p.estimate);
    state.pending.set(id, p);
  }
  env.adopted.push({ seq, module, key, reason });
  return true;
}

/** A gate denial becomes a `denied` receipt the shell signs with the world key, plus its delivery event. */
function* deliverDenied(
  state: KernelState,
  env: TransitionEnv,
  d: GateDecision,
  effect: { kind: string; capSlot: string },
  module: string,
  key: CellKey,
  ctx: StepContext,
  queue: Queue,
): Transition<void> {
  // The shell answers sign_denial with the signed receipt body (drive() in kernel/world/processor.ts).
  const receipt = (yield {
    kind: "sign_denial",
    decision: d,
    effectKind: effect.kind,
    nowNs: BigInt(ctx.now_ns),
  }) as EntryBodies["effect_receipt"];
  const receiptSeq = env.batch.push("effect_receipt", receipt);
  pushDelivery(state, env.batch, receiptSeq, receipt, { module, key, capSlot: effect.capSlot }, ctx, queue);
}

/** An approver's decision on a held intent: allow → ready to dispatch; deny → a denied receipt, delivered. */
function* approval(state: KernelState, env: TransitionEnv, seq: number, body: HeldDecisionBody): Transition<void> {
  const intentId = body.intent_id;
  const p = state.pending.get(intentId);
  if (!p || p.waiting !== "approval") return;
  if (body.decision === "allow") {
    state.ledger.allow(intentId, p.grant, p.estimate);
    p.waiting = "dispatch";
    return;
  }
  state.pending.delete(intentId);
  const d: GateDecision = {
    intentId: p.intentId,
    decision: "deny",
    stage: "policy",
    code: "approval.refused",
    reason: `refused by ${body.approver}`,
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
    logical_now: state.logicalNow,
    journal_height: seq,
    entropy: new Uint8Array(32),
    event_hash: eventHash("approval", intentId, null),
    manifest_hash: state.catalog.manifestHash,
  };
  const queue: Queue = [];
  yield* deliverDenied(state, env, d, { kind: p.kind, capSlot: p.capSlot }, p.module, p.key, ctx, queue);
  yield* cascade(state, env, queue, newBudget(state));
}

/**
 * erasure-v1: after the erasure entry at `seq`, each cell it names gets a
 * `sys/BlobErased@1 {blob_hash, reason}` event, so its module can redact its state. A cell
 * that no longer exists is skipped. The events carry no clock: their ctx comes from the seq.
 */
function* erasure(state: KernelState, env: TransitionEnv, seq: number, body: ErasureBody): Transition<void> {
  if (!state.behaviour.erasure || body.notify === undefined) return;
  const value: CborObject = { blob_hash: body.blob_hash, reason: body.reason };
  const budget = newBudget(state);
  for (const [module, key] of body.notify) {
    if (state.cells.get(module, key) === undefined) continue;
    const at = env.batch.nextSeq;
    const ctx = {
      now_ns: 0n,
      logical_now: state.logicalNow,
      journal_height: at,
      entropy: deriveEntropy(new Uint8Array(32), "erasure", seq),
      event_hash: hashValue({ schema: ERASURE_EVENT_SCHEMA, value, key, erasure_seq: seq }),
      manifest_hash: state.catalog.manifestHash,
    };
    const ev: EventBody = {
      schema: ERASURE_EVENT_SCHEMA,
      value,
      key,
      ctx,
      origin: { kind: "erasure", erasure_seq: seq, module, key },
    };
    env.batch.push("event", ev);
    yield* cascade(state, env, [{ seq: at, body: ev }], budget);
  }
}

/** A receipt settles its intent (an adapter's, an expiry's, or a denial after a withheld approval) and is delivered. */
function* receipt(
  state: KernelState,
  env: TransitionEnv,
  seq: number,
  body: EntryBodies["effect_receipt"],
): Transition<void> {
  const r = body;
  const p = state.pending.get(r.intent_id);
  if (!p) return; // a duplicate receipt for a settled intent changes nothing
  state.pending.delete(r.intent_id);
  const cost = r.receipt.cost;
  state.ledger.settle(r.intent_id, {
    tokens: Number(cost.tokens_in) + Number(cost.tokens_out),
    cents: Number(cost.cents),
  });
  const ctx: StepContext = {
    now_ns: BigInt(r.receipt.finished_ns),
    logical_now: ++state.logicalNow,
    journal_height: seq,
    entropy: deriveEntropy(r.signature, "receipt", 0),
    event_hash: "sha256:" as HashText,
    manifest_hash: state.catalog.manifestHash,
  };
  const queue: Queue = [];
  pushDelivery(state, env.batch, seq, r, { module: p.module, key: p.key, capSlot: p.capSlot }, ctx, queue);
  yield* cascade(state, env, queue, newBudget(state));
}

/**
 * Governance swapped the manifest here: the rest of history runs under `next`. The state
 * migrations the apply records are run (or, live, taken as governance just ran them) and must
 * rewrite as many cells, with as much fuel, to the recorded root.
 */
function* apply(
  state: KernelState,
  input: Extract<TransitionInput, { kind: "apply" }>,
): Transition<TransitionFault | undefined> {
  const { body, next, seq } = input;
  if (body.migrations !== undefined) {
    const plans: Migration[] = body.migrations.map((r) => ({ module: r.module, migration: r.migration }));
    const out = input.planned ?? (yield* migrate(state.cells, state.catalog, next, plans, body.proposal_id));
    const got = runsBody(out.runs);
    if (out.failures.length > 0 || Buffer.compare(encodeStored(got), encodeStored(body.migrations)) !== 0)
      return {
        code: "transition.migration_diverged",
        message: `the state migrations of apply ${seq} ran differently`,
        seq,
        expected: body.migrations,
        got: { runs: got, failures: out.failures.map((f) => ({ ...f })) },
      };
    commitMigrations(state.cells, out);
    const root = state.cells.stateRoot();
    if (root !== body.state_root)
      return {
        code: "transition.migration_diverged",
        message: `the state root after the migrations of apply ${seq} differs`,
        seq,
        expected: body.state_root ?? null,
        got: root,
      };
  }
  state.catalog = next;
  state.airRef = body.bundle_ref as HashText;
  return undefined;
}

/**
 * Puts a proposal's definitions in force on a rebuilt state the way its apply will, with no apply
 * journaled: the shadow and counterfactual runs. Its migrations run from the state's catalog
 * and every state they computed is set (a cell that fails keeps its state: the caller reports
 * it), then `next` is in force. The bundle reference stays: a trial's bundle is not in the CAS.
 */
export function* trialApply(
  state: KernelState,
  next: AirCatalog,
  migrations: readonly Migration[],
  proposalId: string,
): Transition<MigrationOutcome> {
  const out = yield* migrate(state.cells, state.catalog, next, migrations, proposalId);
  commitMigrations(state.cells, out);
  state.catalog = next;
  return out;
}

function pushDelivery(
  state: KernelState,
  batch: Batch,
  receiptSeq: number,
  r: ReceiptBody,
  to: { module: string; key: CellKey; capSlot: string },
  ctx: StepContext,
  queue: Queue,
): void {
  const env = r.receipt;
  const value: CborObject = {
    intent_id: env.intent_id,
    effect_kind: env.effect_kind,
    cap_slot: to.capSlot,
    status: env.status,
    payload_hash: Uint8Array.from(Buffer.from(env.payload_hash.slice(7), "hex")),
    // Modules decode the payload (canonical CBOR) against the effect's receipt schema.
    payload: encodeCanonical(r.payload ?? null),
  };
  const seq = batch.nextSeq;
  const body: EventBody = {
    schema: RECEIPT_EVENT_SCHEMA,
    value,
    key: to.key,
    ctx: childCtx(
      state,
      ctx,
      seq,
      deriveEntropy(ctx.entropy, "delivery", receiptSeq),
      RECEIPT_EVENT_SCHEMA,
      value,
      to.key,
    ),
    origin: {
      kind: "receipt",
      intent_id: env.intent_id,
      module: to.module,
      key: to.key,
      receipt_seq: receiptSeq,
    },
  };
  batch.push("event", body);
  queue.push({ seq, body });
}

function childCtx(
  state: KernelState,
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
    index !== undefined && state.behaviour.identityV2
      ? hashValue({ schema, value, key, cause: parent.event_hash, index })
      : eventHash(schema, value, key);
  return {
    now_ns: parent.now_ns,
    logical_now: parent.logical_now,
    journal_height: seq,
    entropy,
    event_hash: hash,
    manifest_hash: state.catalog.manifestHash,
  };
}
