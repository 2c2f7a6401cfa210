/**
 * @module Every intent of a world with its gate decision and receipt, read from the journal:
 * what `wk receipt list` prints and `GET /v1/worlds/:id/receipts` answers.
 */
import { decodeEntry, isHeldDecision, type JournalEntry } from "../journal/index.js";

/** One intent: where it was issued, how the gate decided, and its receipt once it has one. */
export interface IntentRow {
  intent_id: string;
  kind: string;
  module: string;
  seq: number;
  decision: string | null;
  reason: string | null;
  receipt: { seq: number; status: string; adapter: string } | null;
}

/** Folds journal entries (in seq order) into one row per intent, in the order they were issued. */
export async function intentRows(entries: AsyncIterable<JournalEntry> | Iterable<JournalEntry>): Promise<IntentRow[]> {
  const rows = new Map<string, IntentRow>();
  for await (const raw of entries) {
    if (raw.kind !== "effect_intent" && raw.kind !== "policy_decision" && raw.kind !== "effect_receipt") continue;
    const e = decodeEntry(raw);
    switch (e.kind) {
      case "effect_intent":
        rows.set(e.body.intent_id, {
          intent_id: e.body.intent_id,
          kind: e.body.kind,
          module: e.body.module,
          seq: e.seq,
          decision: null,
          reason: null,
          receipt: null,
        });
        break;
      case "policy_decision": {
        const d = e.body;
        const row = rows.get(d.intent_id);
        if (row)
          [row.decision, row.reason] = [
            d.decision,
            isHeldDecision(d) ? `approval by ${d.approver.slice(0, 16)}…` : d.reason,
          ];
        break;
      }
      case "effect_receipt": {
        const row = rows.get(e.body.intent_id);
        const r = e.body.receipt;
        if (row) row.receipt = { seq: e.seq, status: r.status, adapter: r.adapter_id };
        break;
      }
      default:
        break;
    }
  }
  return [...rows.values()];
}
