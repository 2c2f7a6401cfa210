/**
 * @module timer.set: a timer not yet due stays pending across a restart (journaled intent,
 * no receipt); `wk run` at its time fires it — one receipt, delivered to the cell — and
 * replay reproduces the state. The clock is injected (`clock` for the library, `--now-ns`
 * for `wk run`), so nothing waits on the wall clock and a loaded machine cannot miss a window.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored, type CborObject } from "../../air/index.js";
import { SqliteJournalStore, worldPaths } from "../../kernel/journal/index.js";
import { World, createWorld, replayWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { json, wkAsync } from "./cli-harness.js";

const ALARM = new URL("../fixtures/worlds/alarm", import.meta.url).pathname;
// Long past on any wall clock: a `wk run` that read the wall clock instead of --now-ns would fire it at once.
const DUE = 1_600_000_000_000_000_000n;
const SECOND = 1_000_000_000n;

const opts = () => ({ adapters: defaultAdapters() });
const run = async (dir: string, now: bigint) =>
  json<{ dispatched: number; waiting: number }>(
    await wkAsync("run", "--world", dir, "--json", "--now-ns", now.toString()),
  );

/** The envelopes and payloads of every effect receipt in the journal. */
function receipts(dir: string): { receipt: CborObject; payload: CborObject }[] {
  const store = SqliteJournalStore.open(worldPaths(dir).journal, { readonly: true });
  try {
    const out: { receipt: CborObject; payload: CborObject }[] = [];
    for (let seq = 0; seq < store.countSync(); seq++) {
      const e = store.getSync(seq)!;
      if (e.kind !== "effect_receipt") continue;
      const b = decodeStored(e.body) as CborObject;
      out.push({ receipt: b.receipt as CborObject, payload: b.payload as CborObject });
    }
    return out;
  } finally {
    store.closeSync();
  }
}

async function alarmWorld(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-timer-")), "w");
  const w = await createWorld(dir, sourceFromAirDir(ALARM), { ...opts(), clock: () => DUE - 60n * SECOND });
  await w.send("demo/SetAlarm@1", { key: "wake", at_ns: DUE.toString() });
  expect(w.state.pending.size).toBe(1);
  expect(w.cellState("demo/Alarm@1", "wake")).toEqual({ set: 1, fired: 0 });
  await w.close();
  return dir;
}

describe("timers", () => {
  it("a pending timer survives restarts, does not fire before its time, and fires exactly at it on wk run", async () => {
    const dir = await alarmWorld();

    // Before its time (down to the last nanosecond): a restart keeps it pending and fires nothing.
    expect(await run(dir, DUE - 1n)).toEqual({ dispatched: 0, waiting: 1 });
    const early = await World.open(dir, { ...opts(), clock: () => DUE - SECOND });
    expect(await early.runUntilIdle()).toEqual({ dispatched: 0, waiting: 1 });
    expect(early.cellState("demo/Alarm@1", "wake")).toEqual({ set: 1, fired: 0 });
    await early.close();
    expect(receipts(dir)).toEqual([]);

    // At its time: one receipt, stamped with the injected time, delivered to the cell.
    expect(await run(dir, DUE)).toEqual({ dispatched: 1, waiting: 0 });
    const [r, ...more] = receipts(dir);
    expect(more).toEqual([]);
    expect(r!.receipt).toMatchObject({ effect_kind: "timer.set", status: "ok" });
    expect(
      [r!.receipt.started_ns, r!.receipt.finished_ns, r!.payload.delivered_at_ns].map((v) =>
        BigInt(v as number | bigint),
      ),
    ).toEqual([DUE, DUE, DUE]);

    // Later runs fire nothing again.
    expect(await run(dir, DUE + 3600n * SECOND)).toEqual({ dispatched: 0, waiting: 0 });
    expect(receipts(dir)).toHaveLength(1);

    const after = await World.open(dir, opts());
    expect(after.cellState("demo/Alarm@1", "wake")).toEqual({ set: 1, fired: 1 });
    const root = after.stateRefs().state_root;
    await after.close();
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
  });

  it("wk run --now-ns takes only a non-negative integer below 2^64, and not with --wait (usage error, exit 2)", async () => {
    const dir = await alarmWorld();
    const bad = ["-1", "1.5", "1e18", "0x10", "soon", "", "18446744073709551616"];
    const runs = await Promise.all([
      ...bad.map((v) => wkAsync("run", "--world", dir, `--now-ns=${v}`)),
      wkAsync("run", "--world", dir, "--now-ns", DUE.toString(), "--wait", "5"),
    ]);
    for (const [i, r] of runs.entries()) {
      const what = i < bad.length ? `--now-ns=${JSON.stringify(bad[i])}` : "--now-ns with --wait";
      expect(r.status, `${what}: ${r.stderr}${r.stdout}`).toBe(2);
      expect(r.stderr, what).toMatch(
        i < bad.length ? /--now-ns must be a non-negative integer/ : /--wait cannot be combined with --now-ns/,
      );
    }
    // Nothing ran: the timer is still pending, and the largest allowed time fires it.
    expect(receipts(dir)).toEqual([]);
    expect(await run(dir, 2n ** 64n - 1n)).toEqual({ dispatched: 1, waiting: 0 });
  });
});
