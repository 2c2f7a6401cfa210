/**
 * @module Replay's one pass takes a step the replayer reproduced byte for byte without decoding
 * or schema-checking it again (verify.ts `EntryChecker.reproduced`): a forged step must still be
 * refused as before — a schema-valid one as a divergence at its seq, an invalid one as bad_body.
 * Each case runs with verification's hashing on this thread and on a chain lane's worker
 * (kernel/journal/chain-lane.ts), whose fault must win over a later divergence.
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { CborObject } from "../../air/index.js";
import { replayWorld } from "../../kernel/world/index.js";
import {
  appendForged,
  copyWorld,
  counterWorld,
  dropFrom,
  flipBodyByte,
  ownMachinePerTest,
  rows,
} from "./attack-helpers.js";

describe.each(["inline", "worker"] as const)("replay in one pass: reproduced steps (hashing %s)", (lane) => {
  let counter: string;
  const replay = (dir: string) => replayWorld(dir, { lane });
  ownMachinePerTest();
  beforeAll(() => {
    counter = counterWorld(); // … 6 event, 7 step, 8 snapshot, 9 checkpoint
  }, 120_000);

  /** The counter world cut after seq 5, then its last event and a step built from the real one re-appended. */
  const withStep = (edit: (step: CborObject) => CborObject): string => {
    const w = copyWorld(counter);
    const all = rows(w);
    expect(all[6]!.kind).toBe("event");
    expect(all[7]!.kind).toBe("step");
    dropFrom(w, 6);
    appendForged(w, [
      { kind: "event", body: all[6]!.body },
      { kind: "step", body: edit(all[7]!.body as CborObject) },
    ]);
    return w;
  };

  it("the same step re-appended replays (the reproduced path)", async () => {
    const r = await replay(withStep((s) => s));
    expect(r, JSON.stringify(r.divergence)).toMatchObject({ ok: true, entries: 8 });
  });

  it("a schema-valid step with other bytes is a divergence at its seq, not a verify fault", async () => {
    const r = await replay(withStep((s) => ({ ...s, fuel: Number(s.fuel) + 1 })));
    expect(r.ok).toBe(false);
    expect(r.verify_fault).toBeUndefined();
    expect(r.divergence?.seq).toBe(7);
  });

  it("a step that breaks its schema is still bad_body at its seq", async () => {
    const r = await replay(withStep((s) => ({ ...s, fuel: -1 })));
    expect(r).toMatchObject({ ok: false, verify_fault: "bad_body", divergence: { seq: 7 } });
  });

  it("a tampered entry before a divergence is the verify fault, found first", async () => {
    const w = withStep((s) => ({ ...s, fuel: Number(s.fuel) + 1 }));
    flipBodyByte(w, 3);
    const r = await replay(w);
    expect(r).toMatchObject({ ok: false, verify_fault: "hash_mismatch", divergence: { seq: 3 } });
  });
});
