/**
 * @module Causality in a journal: which entry each entry follows from. An ingress event (or an
 * erasure, or a governance record) starts a tree; a step follows the event it ran on; an event a
 * module emitted follows that step; an intent follows the step that asked for it; the gate's
 * decision, an approver's decision and the receipt follow the intent; the receipt's delivery
 * event follows the receipt, and the steps it causes follow that. `CausalIndex` learns these
 * links in one pass in seq order (a cause always precedes its effects), keeping two numbers per
 * entry, so `wk trace` can find the tree of any entry and read only its entries back.
 */
import { z } from "zod";
import type { JournalLine } from "./line.js";

const seq = z.number().int().nonnegative();
const key = z.union([z.null(), z.string()]);
const Origin = z.looseObject({
  kind: z.string(),
  module: z.string().optional(),
  key: key.optional(),
  cause_seq: seq.optional(),
  receipt_seq: seq.optional(),
  erasure_seq: seq.optional(),
  idempotency_key: z.string().optional(),
});
const EventLinks = z.looseObject({ origin: Origin });
const StepLinks = z.looseObject({ module: z.string(), key, cause_seq: seq });
const IntentLinks = z.looseObject({ intent_id: z.string(), module: z.string(), key, cause_seq: seq });
const ByIntent = z.looseObject({ intent_id: z.string() });

/** The cell a step ran in, as one string (module and key). */
const cellOf = (module: string, k: string | null) => `${module}\u0000${k ?? "\u0000null"}`;

/** Where an entry comes from, learned in seq order. */
export class CausalIndex {
  private readonly parent = new Map<number, number>();
  private readonly rootOf = new Map<number, number>();
  /** The step of (cause seq, cell): what an emitted event or an intent follows. */
  private readonly stepAt = new Map<string, number>();
  private readonly intentAt = new Map<string, number>();
  private readonly ingressKeys = new Map<string, number>();

  /** Learns where `l` comes from (lines must come in seq order). */
  observe(l: JournalLine): void {
    const p = this.parentOf(l);
    if (p === undefined) this.rootOf.set(l.seq, l.seq);
    else {
      this.parent.set(l.seq, p);
      this.rootOf.set(l.seq, this.rootOf.get(p) ?? p);
    }
  }

  /** The entry `seq` follows from, if any. */
  parentSeq(seq: number): number | undefined {
    return this.parent.get(seq);
  }

  /** The first entry of `seq`'s tree (itself when it follows from nothing). */
  root(seq: number): number | undefined {
    return this.rootOf.get(seq);
  }

  /** The seq of an intent's `effect_intent` entry. */
  intentSeq(intentId: string): number | undefined {
    return this.intentAt.get(intentId);
  }

  /** The seq of the ingress event sent with this idempotency key. */
  ingressSeq(idempotencyKey: string): number | undefined {
    return this.ingressKeys.get(idempotencyKey);
  }

  private parentOf(l: JournalLine): number | undefined {
    switch (l.kind) {
      case "event": {
        const o = EventLinks.safeParse(l.body);
        if (!o.success) return undefined;
        const origin = o.data.origin;
        if (origin.kind === "ingress") {
          if (origin.idempotency_key !== undefined) this.ingressKeys.set(origin.idempotency_key, l.seq);
          return undefined;
        }
        if (origin.kind === "module" && origin.cause_seq !== undefined && origin.module !== undefined)
          return this.stepAt.get(`${origin.cause_seq}\u0000${cellOf(origin.module, origin.key ?? null)}`);
        if (origin.kind === "receipt") return origin.receipt_seq;
        if (origin.kind === "erasure") return origin.erasure_seq;
        return undefined;
      }
      case "step": {
        const s = StepLinks.safeParse(l.body);
        if (!s.success) return undefined;
        this.stepAt.set(`${s.data.cause_seq}\u0000${cellOf(s.data.module, s.data.key)}`, l.seq);
        return s.data.cause_seq;
      }
      case "effect_intent": {
        const i = IntentLinks.safeParse(l.body);
        if (!i.success) return undefined;
        this.intentAt.set(i.data.intent_id, l.seq);
        return this.stepAt.get(`${i.data.cause_seq}\u0000${cellOf(i.data.module, i.data.key)}`);
      }
      case "policy_decision":
      case "effect_receipt": {
        const b = ByIntent.safeParse(l.body);
        return b.success ? this.intentAt.get(b.data.intent_id) : undefined;
      }
      default:
        return undefined;
    }
  }
}

/** One entry of a causal tree with the entries that follow from it, in seq order. */
export interface CausalNode {
  line: JournalLine;
  children: CausalNode[];
}

/**
 * The tree rooted at `root` from the lines of that tree (others are ignored), in seq order.
 * `index` must have observed every line up to the last one given.
 */
export function causalTree(index: CausalIndex, root: number, lines: Iterable<JournalLine>): CausalNode | undefined {
  const nodes = new Map<number, CausalNode>();
  let top: CausalNode | undefined;
  for (const l of lines) {
    if (index.root(l.seq) !== root) continue;
    const node: CausalNode = { line: l, children: [] };
    nodes.set(l.seq, node);
    if (l.seq === root) top = node;
    else {
      const p = index.parentSeq(l.seq);
      if (p !== undefined) nodes.get(p)?.children.push(node);
    }
  }
  return top;
}
