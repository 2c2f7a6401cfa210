/**
 * @module Every intent of a world with its gate decision and receipt, read from the journal:
 * what `wk receipt list` prints and `GET /v1/worlds/:id/receipts` answers.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import type { CborObject } from "../../air/cbor/value.js";
import type { JournalEntry } from "../journal/index.js";

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
  for await (const e of entries) {
    if (e.kind !== "effect_intent" && e.kind !== "policy_decision" && e.kind !== "effect_receipt") continue;
    const b = decodeStored(e.body) as CborObject;
    const id = b.intent_id as string;
    if (e.kind === "effect_intent")
      rows.set(id, {
        intent_id: id,
        kind: b.kind as string,
        module: b.module as string,
        seq: e.seq,
        decision: null,
        reason: null,
        receipt: null,
      });
    const row = rows.get(id);
    if (!row) continue;
    if (e.kind === "policy_decision")
      [row.decision, row.reason] = [
        b.decision as string,
        (b.reason as string | undefined) ??
          (b.stage === "approval" ? `approval by ${String(b.approver).slice(0, 16)}…` : null),
      ];
    if (e.kind === "effect_receipt") {
      const r = b.receipt as CborObject;
      row.receipt = { seq: e.seq, status: r.status as string, adapter: r.adapter_id as string };
    }
  }
  return [...rows.values()];
}
