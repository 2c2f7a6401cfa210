/**
 * @module Fork and replay at any seq, honestly counted: a point inside a batch moves to the
 * boundary before it and the output says so (`--exact` refuses, naming the boundaries);
 * replay of a fork re-executes from the fork's base snapshot, not its latest one;
 * `--from-snapshot` names the snapshot it started from.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, json, wk } from "./cli-harness.js";

describe("fork and replay at any seq", () => {
  it("every seq of a world is a valid stop; points inside a batch move and say so; replay counts are honest", () => {
    const base = mkdtempSync(join(tmpdir(), "wk-points-"));
    const w = join(base, "w");
    json(wk("create", join(ROOT, "worlds/counter"), "--world", w, "--json"));
    for (const by of [5, 60, 7])
      json(wk("send", "demo/CounterEvent@1", JSON.stringify({ key: "alice", by }), "--world", w, "--json"));
    const log = JSON.parse(wk("log", "--world", w, "--json").stdout) as { seq: number; kind: string }[];
    const head = log.length - 1;
    for (let n = 0; n <= head; n++) {
      const r = json(wk("replay", "--world", w, "--to", String(n), "--json")) as {
        ok: boolean;
        to: number;
        moved_from?: number;
      };
      expect(r.ok).toBe(true);
      expect(r.to).toBeLessThanOrEqual(n);
      if (log[n]!.kind === "event" || log[n]!.kind === "step") expect(r.moved_from === n || r.to === n).toBe(true);
    }
    // The first event's batch is event, step: stopping at the event moves to the seq before it.
    const ev = log.find((e) => e.kind === "event")!.seq;
    const moved = wk("replay", "--world", w, "--to", String(ev));
    expect(moved.status).toBe(0);
    expect(moved.stdout).toContain(`seq ${ev} is inside the batch`);
    const exact = wk("replay", "--world", w, "--to", String(ev), "--exact");
    expect(exact.status).toBe(1);
    expect(exact.stderr).toContain("kernel.not_a_boundary");
    expect(wk("fork", "--world", w, "--at", String(ev), "--to", join(base, "x"), "--exact").stderr).toContain(
      "kernel.not_a_boundary",
    );

    // Fork inside the second event's batch, send to the fork twice, replay it.
    const second = log.filter((e) => e.kind === "event")[1]!.seq;
    const f = join(base, "f");
    const fork = json(wk("fork", "--world", w, "--at", String(second), "--to", f, "--json")) as {
      at: number;
      moved_from?: number;
    };
    expect(fork).toMatchObject({ at: second - 1, moved_from: second });
    for (const by of [1, 2])
      json(wk("send", "demo/CounterEvent@1", JSON.stringify({ key: "alice", by }), "--world", f, "--json"));
    const full = json(wk("replay", "--world", f, "--json")) as {
      steps: number;
      snapshot_seq: number;
      entries_checked: number;
    };
    // Re-executed from the fork's base snapshot (seq 1): both sends' steps ran again.
    expect(full).toMatchObject({ ok: true, snapshot_seq: 1, steps: 2 });
    expect(full.entries_checked).toBeGreaterThan(4);
    const latest = json(wk("replay", "--world", f, "--from-snapshot", "--json")) as {
      steps: number;
      snapshot_seq: number;
    };
    expect(latest.snapshot_seq).toBeGreaterThan(1);
    expect(latest.steps).toBe(0);
    expect(wk("replay", "--world", f, "--from-snapshot").stdout).toContain(
      `from the snapshot at seq ${latest.snapshot_seq}`,
    );
  }, 180_000);
});
