/**
 * @module `wk explain <intent-id>`: why the agent did this. One pass over the journal gathers,
 * for one intent, the ingress event its cascade started from, the event its step ran on, the
 * state the cell was in (its hash) before that step, the step's recorded reasoning (ann-v1), the
 * gate's decision and the rule that made it, approvers' decisions, the receipt, and the steps the
 * result caused. Pure over journal lines; `at` reads one entry by seq (the trigger, the root).
 */
import { z } from "zod";
import { CausalIndex } from "./causal.js";
import { AnalysisError } from "./errors.js";
import type { JournalLine } from "./line.js";
import { describeEntry, reasoningOf } from "./trace-view.js";

const key = z.unknown();
const StepFields = z.looseObject({
  module: z.string(),
  key,
  cause_seq: z.number(),
  ok: z.boolean(),
  state_hash: z.union([z.null(), z.string()]),
  intents: z.array(z.string()),
});
const ByIntent = z.looseObject({ intent_id: z.string() });
const Delivery = z.looseObject({ origin: z.looseObject({ kind: z.string(), receipt_seq: z.number().optional() }) });
const CauseOf = z.looseObject({ cause_seq: z.number(), module: z.string(), key, ok: z.boolean() });

/** An entry as the explanation shows it: its seq, what it is, and its body. */
export interface Shown {
  seq: number;
  what: string;
  body: unknown;
}

/** Why an intent exists and what came of it. */
export interface Explanation {
  intent_id: string;
  /** The ingress event (or other record) its cascade started from. */
  root: Shown;
  /** The event the step that asked for the intent ran on. */
  trigger: Shown;
  /** That step, and the hash of its cell's state before it (null: a new cell). */
  step: Shown & { module: string; state_before: string | null; state_after: string | null };
  /** The module's recorded reasoning (ann-v1): the value, its blob, or its size when too large; null when none. */
  reasoning: { ann?: unknown; ann_ref?: string; ann_dropped?: number } | null;
  intent: Shown;
  /** The gate's decision, then any approver's. */
  decisions: Shown[];
  /** The receipt, or null while the intent is pending. */
  result: Shown | null;
  /** Steps the result caused (its delivery to the cell). */
  follow_up: Shown[];
}

const shown = (l: JournalLine): Shown => ({ seq: l.seq, what: describeEntry(l.kind, l.body), body: l.body });
const cellOf = (module: string, k: unknown) => `${module}\u0000${JSON.stringify(k)}`;

/** Explains `intentId` from every line of a journal, in seq order; `analysis.not_found` when no such intent. */
export function explainIntent(
  lines: Iterable<JournalLine>,
  intentId: string,
  at: (seq: number) => JournalLine | undefined,
): Explanation {
  const index = new CausalIndex();
  const cellState = new Map<string, string | null>();
  let step:
    { line: JournalLine; module: string; before: string | null; after: string | null; cause: number } | undefined;
  let intent: JournalLine | undefined;
  const decisions: JournalLine[] = [];
  let result: JournalLine | undefined;
  let delivery: number | undefined;
  const follow: JournalLine[] = [];
  for (const l of lines) {
    index.observe(l);
    if (l.kind === "step") {
      const s = StepFields.safeParse(l.body);
      if (!s.success) continue;
      const cell = cellOf(s.data.module, s.data.key);
      if (step === undefined && s.data.intents.includes(intentId))
        step = {
          line: l,
          module: s.data.module,
          before: cellState.get(cell) ?? null,
          after: s.data.state_hash,
          cause: s.data.cause_seq,
        };
      if (s.data.ok) cellState.set(cell, s.data.state_hash);
      const c = CauseOf.safeParse(l.body);
      if (delivery !== undefined && c.success && c.data.cause_seq === delivery) follow.push(l);
    } else if (l.kind === "effect_intent" || l.kind === "policy_decision" || l.kind === "effect_receipt") {
      const b = ByIntent.safeParse(l.body);
      if (!b.success || b.data.intent_id !== intentId) continue;
      if (l.kind === "effect_intent") intent ??= l;
      else if (l.kind === "policy_decision") decisions.push(l);
      else result ??= l;
    } else if (l.kind === "event" && result !== undefined && delivery === undefined) {
      const d = Delivery.safeParse(l.body);
      if (d.success && d.data.origin.kind === "receipt" && d.data.origin.receipt_seq === result.seq) delivery = l.seq;
    }
  }
  if (intent === undefined || step === undefined)
    throw new AnalysisError("analysis.not_found", `no intent ${intentId} in this journal`);
  const rootSeq = index.root(intent.seq) ?? intent.seq;
  const root = at(rootSeq);
  const trigger = at(step.cause);
  if (root === undefined || trigger === undefined)
    throw new AnalysisError("analysis.not_found", `the entries before intent ${intentId} are not in this journal`);
  return {
    intent_id: intentId,
    root: shown(root),
    trigger: shown(trigger),
    step: { ...shown(step.line), module: step.module, state_before: step.before, state_after: step.after },
    reasoning: reasoningOf(step.line.body) ?? null,
    intent: shown(intent),
    decisions: decisions.map(shown),
    result: result === undefined ? null : shown(result),
    follow_up: follow.map(shown),
  };
}

/** The explanation as text lines for a terminal. */
export function explanationLines(x: Explanation): string[] {
  const at = (s: Shown) => `seq ${s.seq}: ${s.what}`;
  const why =
    x.reasoning === null
      ? "none recorded (the module's ann was null)"
      : x.reasoning.ann !== undefined
        ? JSON.stringify(x.reasoning.ann)
        : x.reasoning.ann_ref !== undefined
          ? `in blob ${x.reasoning.ann_ref} (wk blob get)`
          : `${x.reasoning.ann_dropped} bytes, over the limit, not kept`;
  return [
    `intent ${x.intent_id}`,
    `  started by   ${at(x.root)}`,
    `  trigger      ${at(x.trigger)}`,
    `  state seen   ${x.step.state_before ?? "none (a new cell)"}`,
    `  step         ${at(x.step)}`,
    `  reasoning    ${why}`,
    `  intent       ${at(x.intent)}`,
    ...x.decisions.map((d, i) => `  ${i === 0 ? "decision    " : "            "} ${at(d)}`),
    `  result       ${x.result === null ? "pending: no receipt yet" : at(x.result)}`,
    ...x.follow_up.map((f, i) => `  ${i === 0 ? "then        " : "            "} ${at(f)}`),
  ];
}
