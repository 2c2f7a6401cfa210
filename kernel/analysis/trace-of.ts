/**
 * @module A trace and an explanation from any journal source: the one place that turns a target
 * (a seq, an intent id, an ingress idempotency key) into its causal tree, so `wk trace`, `wk
 * explain` and the server's trace routes answer alike. A source hands lines over twice (once to
 * learn the links, once from the tree's root) rather than holding the journal in memory.
 */
import { CausalIndex, causalTree } from "./causal.js";
import { AnalysisError } from "./errors.js";
import { explainIntent, type Explanation } from "./explain.js";
import type { JournalLine } from "./line.js";
import { capTree } from "./trace-cap.js";
import { traceView, type TraceView } from "./trace-view.js";

/** Where a trace reads a journal: every line in seq order from `from`, or one line by seq. */
export interface LineSource {
  all(from?: number): Iterable<JournalLine>;
  at(seq: number): JournalLine | undefined;
}

/** A traced tree: the entry asked about, the tree's size, and whether a cap cut it. */
export interface Trace {
  /** The seq the target named (marked `selected` in the tree). */
  selected: number;
  /** Entries in the whole tree, and in `tree`. */
  nodes: number;
  shown: number;
  /** True when `tree` holds fewer entries than the tree (its entries' `omitted` say where). */
  truncated: boolean;
  tree: TraceView;
}

/** The seq `target` names: a seq, an intent id, or an ingress event's idempotency key. */
export function targetSeq(index: CausalIndex, target: string, count: number): number {
  if (/^\d+$/.test(target)) {
    const seq = Number(target);
    if (seq >= count) throw new AnalysisError("analysis.not_found", `seq ${seq} is past the journal's end (${count})`);
    return seq;
  }
  const seq = index.intentSeq(target) ?? index.ingressSeq(target);
  if (seq === undefined)
    throw new AnalysisError(
      "analysis.not_found",
      `${JSON.stringify(target)} is neither a seq, an intent id nor an idempotency key of this journal`,
    );
  return seq;
}

/** The causal tree `target` belongs to, cut to `maxNodes` entries (default: uncut); `analysis.not_found` when the journal does not hold it. */
export function traceOf(src: LineSource, target: string, opts: { maxNodes?: number } = {}): Trace {
  const index = new CausalIndex();
  let count = 0;
  for (const l of src.all()) {
    index.observe(l);
    count = l.seq + 1;
  }
  const seq = targetSeq(index, target, count);
  const root = index.root(seq) ?? seq;
  const tree = causalTree(index, root, src.all(root));
  if (tree === undefined) throw new AnalysisError("analysis.not_found", `no entry ${root} in this journal`);
  const cut = capTree(tree, seq, opts.maxNodes ?? Infinity);
  return {
    selected: seq,
    nodes: cut.total,
    shown: cut.shown,
    truncated: cut.shown < cut.total,
    tree: traceView(cut.root, seq, cut.omitted),
  };
}

/** Why `intentId` exists and what came of it; `analysis.not_found` when the journal holds no such intent. */
export function explainOf(src: LineSource, intentId: string): Explanation {
  return explainIntent(src.all(), intentId, (s) => src.at(s));
}
