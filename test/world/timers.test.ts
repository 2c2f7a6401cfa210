/**
 * @module timer.set: a timer not yet due stays pending across a restart (journaled intent,
 * no receipt); `wk run` after its time fires it — one receipt, delivered to the cell —
 * and replay reproduces the state without waiting for any clock.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { World, createWorld, replayWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { defaultAdapters, defaultGateHooks } from "../../kernel/world/wiring.js";

const ALARM = new URL("../fixtures/worlds/alarm", import.meta.url).pathname;
const CLI = new URL("../../tools/cli/main.ts", import.meta.url).pathname;

describe("timers", () => {
  it("a pending timer survives a restart and fires on wk run", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "wk-timer-")), "w");
    const opts = { adapters: defaultAdapters(), hooks: defaultGateHooks() };
    const w = await createWorld(dir, sourceFromAirDir(ALARM), opts);
    const due = BigInt(Date.now() + 4000) * 1_000_000n;
    await w.send("demo/SetAlarm@1", { key: "wake", at_ns: due.toString() });
    expect(w.state.pending.size).toBe(1);
    expect(w.cellState("demo/Alarm@1", "wake")).toEqual({ set: 1, fired: 0 });
    await w.close();

    // Before its time: a restart keeps it pending and `wk run` fires nothing.
    const early = spawnSync(process.execPath, ["--import", "tsx", CLI, "run", "--world", dir, "--json"], { encoding: "utf8" });
    expect(early.status, early.stderr).toBe(0);
    expect(JSON.parse(early.stdout)).toMatchObject({ dispatched: 0, waiting: 1 });

    await new Promise((r) => setTimeout(r, Math.max(0, Number(due / 1_000_000n) - Date.now() + 100)));
    const late = spawnSync(process.execPath, ["--import", "tsx", CLI, "run", "--world", dir, "--json"], { encoding: "utf8" });
    expect(late.status, late.stderr).toBe(0);
    expect(JSON.parse(late.stdout)).toMatchObject({ dispatched: 1, waiting: 0 });

    const after = await World.open(dir, opts);
    expect(after.cellState("demo/Alarm@1", "wake")).toEqual({ set: 1, fired: 1 });
    const root = after.stateRefs().state_root;
    await after.close();
    expect(await replayWorld(dir, { hooks: defaultGateHooks() })).toMatchObject({ ok: true, state_root: root });
  });
});
