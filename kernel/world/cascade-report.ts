/**
 * @module What an input caused, read back from the journal: every step of its cascade
 * (including steps driven by the receipts of its effects, dispatched before the command
 * returned), the failures with module, key, code and message, and each intent with its
 * gate decision and receipt status. `wk send` prints it; nothing fails silently.
 */
import type { WorldJournal } from "../journal/world-journal.js";
import { decodeStored } from "../../air/cbor/decode.js";
import type { CborObject } from "../../air/cbor/value.js";
import type {} from "../journal/index.js";
import { cellKeyText, type CellKey } from "../core/cells.js";

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
  for (const e of store.iterateSync(fromSeq, toSeq)) {
    r.entries++;
    r.to = e.seq;
    if (e.kind !== "step" && e.kind !== "effect_intent" && e.kind !== "policy_decision" && e.kind !== "effect_receipt")
      continue;
    const b = decodeStored(e.body) as CborObject;
    if (e.kind === "step") {
      r.steps++;
      const err = b.error as { code: string; message: string } | null;
      if (b.ok === false && err)
        r.failures.push({
          seq: e.seq,
          module: b.module as string,
          key: cellKeyText(b.key as CellKey | undefined),
          cause_seq: Number(b.cause_seq),
          code: err.code,
          message: err.message,
        });
    } else if (e.kind === "effect_intent") {
      intents.set(b.intent_id as string, {
        intent_id: b.intent_id as string,
        kind: b.kind as string,
        module: b.module as string,
        decision: null,
        receipt: null,
      });
    } else {
      const i = intents.get(b.intent_id as string);
      if (!i) continue;
      if (e.kind === "policy_decision") i.decision = b.decision as string;
      else i.receipt = (b.receipt as CborObject).status as string;
    }
  }
  r.intents = [...intents.values()];
  return r;
}
