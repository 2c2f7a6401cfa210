/**
 * @module Batch boundaries. An input (an ingress event, an adapter's receipt, an approver's
 * decision on a held intent) and every entry it causes are appended as one batch; records
 * that cause nothing (snapshots, checkpoints, governance, erasures, key rotations) stand
 * alone. Replay and fork can stop only where a batch ends: stopping inside one would cut a
 * step from the events and intents it produced. `boundaryAtOrBefore` finds where to stop.
 */
import type { WorldJournal } from "../journal/world-journal.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { isHeldDecision, typedBody, type JournalEntry } from "../journal/index.js";
import { eventOrigin } from "./event-fields.js";
import { KernelError } from "../core/errors.js";
import { GATE_ADAPTER } from "./processor.js";

const CONTINUATION_KINDS = new Set(["step", "effect_intent"]);

/** True when `e` begins a new unit (an input or a standalone record), so the entry before it ends one. */
export function startsUnit(e: Pick<JournalEntry, "kind" | "body">): boolean {
  if (CONTINUATION_KINDS.has(e.kind)) return false;
  if (e.kind !== "event" && e.kind !== "effect_receipt" && e.kind !== "policy_decision") return true;
  const t = typedBody(e.kind, decodeStored(e.body));
  if (t.kind === "event") return eventOrigin(t.body).kind === "ingress";
  if (t.kind === "policy_decision") return isHeldDecision(t.body);
  // A gate denial is written inside the step that emitted the intent; an adapter's receipt arrives on its own.
  return !(t.kind === "effect_receipt" && t.body.receipt.adapter_id === GATE_ADAPTER.id);
}

/** Where replay or fork may stop at or before `seq`, and the span of the batch around `seq` when it is inside one. */
export interface Boundary {
  seq: number;
  /** The batch `seq` falls inside (first..last), when `seq` is not itself a boundary. */
  inside?: { first: number; last: number };
}

/** The last batch boundary at or before `seq` (the head is always one). */
export function boundaryAtOrBefore(store: WorldJournal, seq: number): Boundary {
  const count = store.countSync();
  if (!Number.isSafeInteger(seq) || seq < 0 || seq >= count)
    throw new KernelError("kernel.seq_out_of_range", `seq ${seq} is outside the journal (0..${count - 1})`);
  const next = (s: number) => (s + 1 >= count ? null : store.getSync(s + 1)!);
  const isEnd = (s: number) => {
    const n = next(s);
    return n === null || startsUnit(n);
  };
  if (isEnd(seq)) return { seq };
  let b = seq - 1;
  while (b > 0 && !isEnd(b)) b--;
  let last = seq + 1;
  while (!isEnd(last)) last++;
  return { seq: b, inside: { first: b + 1, last } };
}

/** Resolves a requested stop point: moved to the boundary before it, or with `exact` refused naming the nearest boundaries. */
export function resolveStop(
  store: WorldJournal,
  seq: number,
  exact: boolean,
  what: "replay --to" | "fork --at" | "shadow --since",
): Boundary {
  const b = boundaryAtOrBefore(store, seq);
  if (b.inside && exact) {
    throw new KernelError(
      "kernel.not_a_boundary",
      `${what} ${seq} is inside the batch at seq ${b.inside.first}..${b.inside.last}; the nearest batch boundaries are ${b.seq} and ${b.inside.last}`,
      {
        seq,
        before: b.seq,
        after: b.inside.last,
      },
    );
  }
  return b;
}
