/**
 * @module What the detectors read of an entry: a `Fact`, the few fields of its JSON body they
 * use, checked with zod and typed (seqs as numbers, times as bigint ns). Kinds no detector reads
 * (genesis, checkpoints, snapshots, …) give null. A body that does not have the fields its kind
 * promises is `analysis.bad_line`: a world's verified journal never has one, an edited export may.
 */
import { z } from "zod";
import type { JournalLine } from "./line.js";
import { AnalysisError } from "./errors.js";

const intLike = z.union([z.number().int(), z.string().regex(/^-?\d+$/)]);
const seq = z.number().int().nonnegative();
/** A cell key as JSON: null, text, or bytes as hex (the analysis only shows and compares it). */
const key = z.union([z.null(), z.string()]);

const EventSchema = z.looseObject({
  schema: z.string(),
  value: z.unknown(),
  key,
  ctx: z.looseObject({ now_ns: intLike.optional() }),
  origin: z.looseObject({
    kind: z.string(),
    module: z.string().optional(),
    key: key.optional(),
    cause_seq: seq.optional(),
    intent_id: z.string().optional(),
  }),
});
const StepSchema = z.looseObject({
  module: z.string(),
  key,
  cause_seq: seq,
  ok: z.boolean(),
  events: intLike,
  intents: z.array(z.string()),
  error: z.union([z.null(), z.looseObject({ code: z.string() })]),
  fuel: intLike,
  ann: z.unknown().optional(),
  ann_ref: z.string().optional(),
  ann_dropped: intLike.optional(),
});
const IntentSchema = z.looseObject({
  intent_id: z.string(),
  kind: z.string(),
  params_hash: z.string(),
  grant: z.union([z.null(), z.string()]),
  module: z.string(),
  key,
  cause_seq: seq,
  valid_until_ns: intLike.optional(),
});
const DecisionSchema = z.looseObject({
  intent_id: z.string(),
  decision: z.enum(["allow", "deny", "require_approval"]),
  stage: z.string(),
  code: z.string().optional(),
  grant: z.union([z.null(), z.string()]).optional(),
});
const ReceiptSchema = z.looseObject({
  intent_id: z.string(),
  receipt: z.looseObject({
    effect_kind: z.string(),
    status: z.enum(["ok", "error", "timeout", "denied", "expired"]),
    finished_ns: intLike,
    cost: z.looseObject({ tokens_in: intLike, tokens_out: intLike, cents: intLike }),
  }),
});
const ProposalSchema = z.looseObject({ proposal_id: z.string() });
const ApprovalSchema = z.looseObject({ proposal_id: z.string(), decision: z.literal("deny").optional() });

/** Where an event came from: outside, a module's step, a receipt's delivery, or the kernel (erasure notices). */
export type EventOrigin =
  | { kind: "ingress" }
  | { kind: "module"; module: string; key: string | null; causeSeq: number }
  | { kind: "receipt"; module: string; key: string | null; intentId: string }
  | { kind: "other" };

/** An entry as the detectors read it. */
export type Fact =
  | {
      kind: "event";
      seq: number;
      schema: string;
      value: unknown;
      key: string | null;
      nowNs: bigint | null;
      origin: EventOrigin;
    }
  | {
      kind: "step";
      seq: number;
      module: string;
      key: string | null;
      causeSeq: number;
      ok: boolean;
      events: number;
      intents: string[];
      error: string | null;
      fuel: number;
      /** The step recorded its reasoning (ann-v1: inline, as a blob, or too large to keep). */
      reasoning: boolean;
    }
  | {
      kind: "intent";
      seq: number;
      intentId: string;
      effect: string;
      paramsHash: string;
      grant: string | null;
      module: string;
      key: string | null;
      causeSeq: number;
      validUntilNs: bigint | null;
    }
  | {
      kind: "decision";
      seq: number;
      intentId: string;
      decision: "allow" | "deny" | "require_approval";
      stage: string;
      code: string | null;
      grant: string | null;
    }
  | {
      kind: "receipt";
      seq: number;
      intentId: string;
      effect: string;
      status: "ok" | "error" | "timeout" | "denied" | "expired";
      tokens: number;
      cents: number;
      finishedNs: bigint;
    }
  | { kind: "proposal" | "apply"; seq: number; proposalId: string }
  | { kind: "approval"; seq: number; proposalId: string; deny: boolean };

function parse<T>(schema: z.ZodType<T>, l: JournalLine): T {
  const r = schema.safeParse(l.body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new AnalysisError(
    "analysis.bad_line",
    `seq ${l.seq}: ${l.kind} body: ${issue.message} at $.${issue.path.map(String).join(".")}`,
    { seq: l.seq },
  );
}

function origin(o: z.infer<typeof EventSchema>["origin"]): EventOrigin {
  if (o.kind === "ingress") return { kind: "ingress" };
  if (o.kind === "module" && o.module !== undefined && o.cause_seq !== undefined)
    return { kind: "module", module: o.module, key: o.key ?? null, causeSeq: o.cause_seq };
  if (o.kind === "receipt" && o.module !== undefined && o.intent_id !== undefined)
    return { kind: "receipt", module: o.module, key: o.key ?? null, intentId: o.intent_id };
  return { kind: "other" };
}

/** The fact an entry holds for the detectors, or null for a kind none of them reads. */
export function factOf(l: JournalLine): Fact | null {
  const seq = l.seq;
  switch (l.kind) {
    case "event": {
      const b = parse(EventSchema, l);
      const now = b.ctx.now_ns;
      return {
        kind: "event",
        seq,
        schema: b.schema,
        value: b.value,
        key: b.key,
        // Events the kernel makes without a clock (erasure notices, refusals) carry 0: no time.
        nowNs: now === undefined || BigInt(now) === 0n ? null : BigInt(now),
        origin: origin(b.origin),
      };
    }
    case "step": {
      const b = parse(StepSchema, l);
      return {
        kind: "step",
        seq,
        module: b.module,
        key: b.key,
        causeSeq: b.cause_seq,
        ok: b.ok,
        events: Number(b.events),
        intents: b.intents,
        error: b.error?.code ?? null,
        fuel: Number(b.fuel),
        reasoning: b.ann !== undefined || b.ann_ref !== undefined || b.ann_dropped !== undefined,
      };
    }
    case "effect_intent": {
      const b = parse(IntentSchema, l);
      return {
        kind: "intent",
        seq,
        intentId: b.intent_id,
        effect: b.kind,
        paramsHash: b.params_hash,
        grant: b.grant,
        module: b.module,
        key: b.key,
        causeSeq: b.cause_seq,
        validUntilNs: b.valid_until_ns === undefined ? null : BigInt(b.valid_until_ns),
      };
    }
    case "policy_decision": {
      const b = parse(DecisionSchema, l);
      return {
        kind: "decision",
        seq,
        intentId: b.intent_id,
        decision: b.decision,
        stage: b.stage,
        code: b.code ?? null,
        grant: b.grant ?? null,
      };
    }
    case "effect_receipt": {
      const b = parse(ReceiptSchema, l);
      const c = b.receipt.cost;
      return {
        kind: "receipt",
        seq,
        intentId: b.intent_id,
        effect: b.receipt.effect_kind,
        status: b.receipt.status,
        tokens: Number(c.tokens_in) + Number(c.tokens_out),
        cents: Number(c.cents),
        finishedNs: BigInt(b.receipt.finished_ns),
      };
    }
    case "proposal":
    case "apply":
      return { kind: l.kind, seq, proposalId: parse(ProposalSchema, l).proposal_id };
    case "approval": {
      const b = parse(ApprovalSchema, l);
      return { kind: "approval", seq, proposalId: b.proposal_id, deny: b.decision === "deny" };
    }
    default:
      return null;
  }
}

/** A cell's name for messages: `module` or `module [key]`. */
export function cellName(module: string, key: string | null): string {
  return key === null ? module : `${module} [${key}]`;
}
