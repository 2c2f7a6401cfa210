/**
 * @module How `wk trace` shows a causal tree: each entry as one line saying what it is — the
 * event and where it came from, the step and how it ended (with its recorded reasoning), the
 * intent, the gate's decision with the policy rule that decided, an approver's decision, the
 * receipt — as an indented tree for a terminal or as JSON (`TraceView`) for tools and the console.
 */
import { z } from "zod";
import type { CausalNode } from "./causal.js";

const short = (id: string, n = 12) => (id.startsWith("sha256:") ? id.slice(7, 7 + n) : id.slice(0, n));

/** At most `n` characters of a value as JSON. */
function brief(v: unknown, n = 80): string {
  const s = JSON.stringify(v) ?? "null";
  return s.length <= n ? s : `${s.slice(0, n - 1)}…`;
}

const keyText = (k: unknown) => (k === null || k === undefined ? "" : ` [${String(k)}]`);

const Event = z.looseObject({
  schema: z.string(),
  value: z.unknown(),
  key: z.unknown(),
  origin: z.looseObject({ kind: z.string(), module: z.string().optional(), idempotency_key: z.string().optional() }),
});
const Step = z.looseObject({
  module: z.string(),
  key: z.unknown(),
  ok: z.boolean(),
  fuel: z.unknown(),
  events: z.unknown(),
  intents: z.array(z.string()),
  error: z.union([z.null(), z.looseObject({ code: z.string(), message: z.string() })]),
  ann: z.unknown().optional(),
  ann_ref: z.string().optional(),
  ann_dropped: z.unknown().optional(),
});
const Intent = z.looseObject({
  intent_id: z.string(),
  kind: z.string(),
  cap_slot: z.string(),
  grant: z.union([z.null(), z.string()]),
});
const Decision = z.looseObject({
  decision: z.string(),
  stage: z.string(),
  code: z.string().optional(),
  reason: z.string().optional(),
  policy: z.union([z.null(), z.string()]).optional(),
  rule_index: z.union([z.null(), z.number()]).optional(),
  approver: z.string().optional(),
});
const Receipt = z.looseObject({
  receipt: z.looseObject({ status: z.string(), effect_kind: z.string(), adapter_id: z.string() }),
});

/** The step's recorded reasoning as the journal keeps it (ann-v1), if any. */
export function reasoningOf(body: unknown): { ann?: unknown; ann_ref?: string; ann_dropped?: number } | undefined {
  const s = Step.safeParse(body);
  if (!s.success) return undefined;
  if (s.data.ann !== undefined) return { ann: s.data.ann };
  if (s.data.ann_ref !== undefined) return { ann_ref: s.data.ann_ref };
  if (s.data.ann_dropped !== undefined) return { ann_dropped: Number(s.data.ann_dropped) };
  return undefined;
}

/** One line saying what an entry of a causal tree is. */
export function describeEntry(kind: string, body: unknown): string {
  switch (kind) {
    case "event": {
      const e = Event.safeParse(body);
      if (!e.success) return "event";
      const { schema, origin } = e.data;
      const from =
        origin.kind === "ingress"
          ? `ingress${origin.idempotency_key === undefined ? "" : `, idempotency key ${JSON.stringify(origin.idempotency_key)}`}`
          : origin.kind === "module"
            ? `emitted by ${origin.module}`
            : origin.kind === "receipt"
              ? `delivered to ${origin.module}`
              : origin.kind;
      // A delivered receipt's value is mostly its payload's bytes: its status says what matters.
      const status = (e.data.value as { status?: unknown } | null)?.status;
      const shownValue = origin.kind === "receipt" ? `status ${String(status)}` : brief(e.data.value);
      return `event ${schema}${keyText(e.data.key)} (${from}) ${shownValue}`;
    }
    case "step": {
      const s = Step.safeParse(body);
      if (!s.success) return "step";
      const d = s.data;
      const head = `step ${d.module}${keyText(d.key)}`;
      if (!d.ok) return `${head} FAILED ${d.error?.code ?? ""}: ${d.error?.message ?? ""} (fuel ${String(d.fuel)})`;
      const r = reasoningOf(body);
      const why =
        r === undefined
          ? ""
          : r.ann !== undefined
            ? ` — reasoning ${brief(r.ann)}`
            : r.ann_ref !== undefined
              ? ` — reasoning in blob ${short(r.ann_ref)}`
              : ` — reasoning of ${r.ann_dropped} bytes not kept`;
      return `${head} ok, ${String(d.events)} event(s), ${d.intents.length} intent(s), fuel ${String(d.fuel)}${why}`;
    }
    case "effect_intent": {
      const i = Intent.safeParse(body);
      return i.success
        ? `intent ${i.data.kind} ${short(i.data.intent_id)} (slot ${i.data.cap_slot}, grant ${i.data.grant ?? "none"})`
        : "intent";
    }
    case "policy_decision": {
      const d = Decision.safeParse(body);
      if (!d.success) return "decision";
      const x = d.data;
      if (x.stage === "approval") return `approver ${short(x.approver ?? "", 16)} decided: ${x.decision}`;
      const rule =
        x.policy === null || x.policy === undefined || (x.reason ?? "").includes(x.policy)
          ? ""
          : ` — policy ${x.policy}${x.rule_index === null || x.rule_index === undefined ? "" : ` rule #${x.rule_index}`}`;
      return `gate: ${x.decision} at ${x.stage}${x.code ? ` (${x.code})` : ""}${x.reason ? `: ${x.reason}` : ""}${rule}`;
    }
    case "effect_receipt": {
      const r = Receipt.safeParse(body);
      return r.success
        ? `receipt ${r.data.receipt.status} for ${r.data.receipt.effect_kind} from ${r.data.receipt.adapter_id}`
        : "receipt";
    }
    default:
      return kind;
  }
}

/** A causal tree as JSON: each entry's seq, kind, one-line description and body. */
export interface TraceView {
  seq: number;
  kind: string;
  what: string;
  /** The entry `wk trace` was asked about. */
  selected?: true;
  body: unknown;
  children: TraceView[];
  /** Entries under this one a capped view left out (trace-cap.ts); absent when none were. */
  omitted?: number;
}

/** The JSON view of a tree, marking `selected` (and, for a capped tree, what each entry lost). */
export function traceView(
  node: CausalNode,
  selected: number,
  omitted: ReadonlyMap<number, number> = new Map(),
): TraceView {
  const lost = omitted.get(node.line.seq);
  return {
    seq: node.line.seq,
    kind: node.line.kind,
    what: describeEntry(node.line.kind, node.line.body),
    ...(node.line.seq === selected ? { selected: true as const } : {}),
    body: node.line.body,
    children: node.children.map((c) => traceView(c, selected, omitted)),
    ...(lost === undefined ? {} : { omitted: lost }),
  };
}

/** The tree as indented text lines (`▶` marks the entry asked about). */
export function traceLines(view: TraceView, depth = 0, out: string[] = []): string[] {
  const mark = view.selected ? "▶ " : "  ";
  out.push(`${String(view.seq).padStart(7)} ${mark}${"  ".repeat(depth)}${view.what}`);
  for (const c of view.children) traceLines(c, depth + 1, out);
  if (view.omitted !== undefined) out.push(`${" ".repeat(9)}${"  ".repeat(depth + 1)}… ${view.omitted} more`);
  return out;
}
