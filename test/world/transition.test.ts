/**
 * @module The one transition (kernel/transition/transition.ts), driven directly: what a live
 * world journals for an input is exactly what `transition` produces for it, and the transition
 * is a function of the state, the input and the shell's answers — run again on a copy of the
 * state with the recorded answers (no WASM at all), it yields the same requests and produces
 * the same bytes and the same state, and the live world's state is untouched.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored } from "../../air/index.js";
import { BudgetLedger } from "../../kernel/core/budget.js";
import { Batch } from "../../kernel/transition/batch.js";
import {
  transition,
  type AdoptedStep,
  type StepStats,
  type TransitionReply,
  type TransitionRequest,
} from "../../kernel/transition/transition.js";
import type { EventBody, KernelState, StateView } from "../../kernel/transition/state.js";
import { createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { callModule } from "../../kernel/world/processor.js";
import { worldGateHooks } from "../../kernel/world/gate-rules.js";
import { COUNTER, COUNTER_EVENT } from "./attack-helpers.js";

/** A copy of `s` that shares nothing mutable with it. */
function fork(s: StateView): KernelState {
  return {
    ...s,
    cells: s.cells.clone(),
    ledger: BudgetLedger.fromCbor(s.ledger.toCbor()),
    pending: new Map([...s.pending].map(([k, p]) => [k, { ...p }])),
  };
}

/** Runs the transition to its end, answering each request with `answer`; returns the entries, requests and counters. */
async function run(
  state: KernelState,
  seq: number,
  body: EventBody,
  answer: (r: TransitionRequest, i: number) => TransitionReply | Promise<TransitionReply>,
): Promise<{ batch: Batch; requests: TransitionRequest[]; replies: TransitionReply[]; stats: StepStats }> {
  const batch = new Batch(seq + 1);
  const stats: StepStats = { steps: 0, failures: 0, fuel: 0 };
  const adopted: AdoptedStep[] = [];
  const gen = transition(
    state,
    { kind: "event", seq, body },
    { batch, hooks: worldGateHooks(state.behaviour), stats, adopted },
  );
  const requests: TransitionRequest[] = [];
  const replies: TransitionReply[] = [];
  let next = gen.next();
  while (!next.done) {
    const entriesBefore = batch.entries.length;
    requests.push(next.value);
    const reply = await answer(next.value, requests.length - 1);
    replies.push(reply);
    // Nothing is produced while a request is outstanding: the transition waits on the shell.
    expect(batch.entries.length).toBe(entriesBefore);
    next = gen.next(reply);
  }
  expect(next.value).toBeUndefined();
  return { batch, requests, replies, stats };
}

describe("the one transition", () => {
  it("produces what the live world journaled, and again from the recorded answers alone", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-transition-"));
    const w = await createWorld(join(base, "w"), sourceFromAirDir(COUNTER), { synchronous: "NORMAL" });
    try {
      await w.send(COUNTER_EVENT, { key: "alice", by: 5 });
      const before = fork(w.state);
      const beforeAgain = fork(w.state);
      const sent = await w.send(COUNTER_EVENT, { key: "alice", by: 7 });
      const liveRoot = w.state.cells.stateRoot();
      const seq = sent.seq;
      const recorded = w.store.getSync(seq)!;
      expect(recorded.kind).toBe("event");
      const body = decodeStored(recorded.body) as EventBody;

      // Driven with real module calls, from the state before the event: the journal's bytes.
      const first = await run(before, seq, body, (r) => {
        if (r.kind !== "call") throw new Error(`unexpected request ${r.kind}`);
        return callModule(w.modules, r);
      });
      expect(first.requests.map((r) => r.kind)).toEqual(["call"]);
      expect(first.stats).toMatchObject({ steps: 1, failures: 0 });
      expect(first.batch.entries.length).toBeGreaterThan(0);
      first.batch.entries.forEach((e, i) => {
        const j = w.store.getSync(seq + 1 + i)!;
        expect(e.kind).toBe(j.kind);
        expect(Buffer.from(first.batch.bytesAt(i)).equals(Buffer.from(j.body))).toBe(true);
      });
      expect(before.cells.stateRoot()).toBe(liveRoot);

      // Driven again on another copy with the recorded answers, no WASM: same requests, bytes and state.
      const second = await run(beforeAgain, seq, body, (_r, i) => first.replies[i]!);
      expect(second.requests).toEqual(first.requests);
      expect(second.batch.entries.map((_, i) => Buffer.from(second.batch.bytesAt(i)).toString("hex"))).toEqual(
        first.batch.entries.map((_, i) => Buffer.from(first.batch.bytesAt(i)).toString("hex")),
      );
      expect(beforeAgain.cells.stateRoot()).toBe(liveRoot);
      expect(beforeAgain.logicalNow).toBe(before.logicalNow);

      // The runs changed their own copies only.
      expect(w.state.cells.stateRoot()).toBe(liveRoot);
    } finally {
      await w.close();
    }
  }, 120_000);

  it("a different answer is a different result: the output depends on the shell's reply, not on anything it read", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-transition-"));
    const w = await createWorld(join(base, "w"), sourceFromAirDir(COUNTER), { synchronous: "NORMAL" });
    try {
      const state = fork(w.state);
      const sent = await w.send(COUNTER_EVENT, { key: "bob", by: 1 });
      const body = decodeStored(w.store.getSync(sent.seq)!.body) as EventBody;
      const failed = await run(state, sent.seq, body, () => ({
        ok: false,
        error: { code: "module.trap", message: "the shell says the module trapped" },
        fuelUsed: 3,
        reads: [],
        erasedReads: 0,
      }));
      expect(failed.stats).toMatchObject({ steps: 1, failures: 1, fuel: 3 });
      expect(failed.batch.entries).toHaveLength(1);
      expect(failed.batch.entries[0]).toMatchObject({
        kind: "step",
        body: { ok: false, error: { code: "module.trap" }, fuel: 3 },
      });
      // A failed step leaves the cell as it was.
      expect(state.cells.get("demo/Counter@1", "bob")).toBeUndefined();
    } finally {
      await w.close();
    }
  }, 120_000);
});
