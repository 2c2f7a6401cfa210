/**
 * @module What an input caused, read back from the journal: every step of its cascade
 * (including steps driven by the receipts of its effects, dispatched before the command
 * returned), the failures with module, key, code and message, and each intent with its
 * gate decision and receipt status. `wk send` prints it; nothing fails silently.
 */
import type { WorldJournal } from "../journal/world-journal.js";
import { decodeEntry } from "../journal/index.js";
import { cellKeyText } from "../core/cells.js";

/** One failed step. */
export interface StepFailure {
  seq: number;
  module: string;
  key: string | null;
  cause_seq: number;
  code: string;
  message: string;
}

/** One intent of the cascade and how it ended so far. */
export interface CascadeIntent {
  intent_id: string;
  kind: string;
  module: string;
  decision: string | null;
  receipt: string | null;
}

/** Everything the entries from `fromSeq` on record. */
export interface CascadeReport {
  from: number;
  to: number;
  entries: number;
  steps: number;
  failures: StepFailure[];
  intents: CascadeIntent[];
}

/** The report of the entries `fromSeq`..`toSeq` (default the head: a send's batch and what its receipts caused). */
export function cascadeReport(store: WorldJournal, fromSeq: number, toSeq?: number): CascadeReport {
  const r: CascadeReport = { from: fromSeq, to: fromSeq - 1, entries: 0, steps: 0, failures: [], intents: [] };
  const intents = new Map<string, CascadeIntent>();
  for (const raw of store.iterateSync(fromSeq, toSeq)) {
    r.entries++;
    r.to = raw.seq;
    if (
      raw.kind !== "step" &&
      raw.kind !== "effect_intent" &&
      raw.kind !== "policy_decision" &&
      raw.kind !== "effect_receipt"
    )
      continue;
    const e = decodeEntry(raw);
    if (e.kind === "step") {
      const b = e.body;
      r.steps++;
      const err = b.error;
      if (b.ok === false && err)
        r.failures.push({
          seq: e.seq,
          module: b.module,
          key: cellKeyText(b.key),
          cause_seq: b.cause_seq,
          code: err.code,
          message: err.message,
        });
    } else if (e.kind === "effect_intent") {
      const b = e.body;
      intents.set(b.intent_id, {
        intent_id: b.intent_id,
        kind: b.kind,
        module: b.module,
        decision: null,
        receipt: null,
      });
    } else if (e.kind === "policy_decision" || e.kind === "effect_receipt") {
      const i = intents.get(e.body.intent_id);
      if (!i) continue;
      if (e.kind === "policy_decision") i.decision = e.body.decision;
      else i.receipt = e.body.receipt.status;
    }
  }
  r.intents = [...intents.values()];
  return r;
}
