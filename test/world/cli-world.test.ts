/**
 * @module The world commands as scripts use them (DESIGN §9): create, send, state, log,
 * replay, fork, verify, checkpoint — real processes, JSON output, exit codes 0 / 1 / 2.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, json, wk } from "./cli-harness.js";

const COUNTER = join(ROOT, "worlds/counter");

describe("wk world commands", () => {
  it("create → send → state → log → replay → fork → verify → checkpoint", () => {
    const base = mkdtempSync(join(tmpdir(), "wk-cli-world-"));
    const w = join(base, "w");
    const created = json(wk("create", COUNTER, "--world", w, "--json"));
    expect(created).toMatchObject({ modules: ["demo/Counter@1"] });

    for (const by of [60, 50])
      expect(
        json(wk("send", "demo/CounterEvent@1", JSON.stringify({ key: "alice", by }), "--world", w, "--json")),
      ).toMatchObject({ steps: 1, failures: [] });
    expect(json(wk("send", "demo/CounterEvent@1", '{"key":"bob","by":1}', "--world", w, "--json"))).toMatchObject({
      steps: 1,
    });

    expect(json(wk("state", "demo/Counter@1", "alice", "--world", w))).toEqual({ count: 110, events: 2 });
    const all = json(wk("state", "--world", w)) as { state_root: string; cells: { key: string }[] };
    // Cells come in canonical order: keys sorted by their CBOR bytes, so shorter text first.
    expect(all.cells.map((c) => c.key)).toEqual(["bob", "alice"]);

    const log = JSON.parse(wk("log", "--world", w, "--kind", "event", "--json").stdout) as {
      body: { schema: string };
    }[];
    expect(log.map((e) => e.body.schema)).toEqual([
      "demo/CounterEvent@1",
      "demo/CounterEvent@1",
      "demo/CounterMilestone@1",
      "demo/CounterEvent@1",
    ]);

    const replay = json(wk("replay", "--world", w, "--json"));
    expect(replay).toMatchObject({ ok: true, state_root: all.state_root });

    // Fork right after the first event's batch (its step), before the second event.
    const steps = JSON.parse(wk("log", "--world", w, "--kind", "step", "--json").stdout) as { seq: number }[];
    const at = steps[0]!.seq;
    const fork = json(wk("fork", "--world", w, "--at", String(at), "--to", join(base, "f"), "--json"));
    expect(fork).toMatchObject({ at });
    json(wk("send", "demo/CounterEvent@1", '{"key":"alice","by":5}', "--world", join(base, "f"), "--json"));
    expect(json(wk("state", "demo/Counter@1", "alice", "--world", join(base, "f")))).toEqual({ count: 65, events: 2 });
    expect(json(wk("state", "demo/Counter@1", "alice", "--world", w))).toEqual({ count: 110, events: 2 });

    expect(json(wk("verify", "--world", w, "--json"))).toMatchObject({ ok: true });
    expect(json(wk("verify", "--world", join(base, "f"), "--json"))).toMatchObject({ ok: true });
    // Every command that appends seals the head with a checkpoint; wk checkpoint adds one more.
    const before = json(wk("verify", "--world", w, "--json")) as { checkpoints: number };
    expect(wk("checkpoint", "--world", w).status).toBe(0);
    expect(json(wk("verify", "--world", w, "--json"))).toMatchObject({ ok: true, checkpoints: before.checkpoints + 1 });
    expect(json(wk("replay", "--world", w, "--json"))).toMatchObject({ ok: true, state_root: all.state_root });
  }, 120_000);

  it("bad input exits 1 with a coded message; usage errors exit 2", () => {
    const w = join(mkdtempSync(join(tmpdir(), "wk-cli-world-")), "w");
    expect(wk("create", COUNTER, "--world", w).status).toBe(0);
    const bad = wk("send", "demo/CounterEvent@1", '{"key":"a","by":-1}', "--world", w);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("kernel.bad_event");
    expect(bad.stderr).toContain("$.by");
    // A literal that is not exactly an integer is refused, never rounded through a double
    // (1e-400 is not the nat 0, 1e400 not Infinity), and nothing is appended.
    const height = () => (JSON.parse(wk("log", "--world", w, "--json").stdout) as unknown[]).length;
    const before = height();
    for (const by of ["1e-400", "1e400"]) {
      const r = wk("send", "demo/CounterEvent@1", `{"key":"a","by":${by}}`, "--world", w);
      expect(r.status, by).toBe(1);
      expect(r.stderr, by).toContain("kernel.bad_event");
      expect(r.stderr, by).toContain("$.by");
      expect(r.stderr, by).toContain(by);
    }
    expect(height()).toBe(before);
    const unknown = wk("send", "demo/Nope@1", "{}", "--world", w);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("kernel.unknown_schema");
    expect(wk("state", "--world", join(w, "missing")).status).toBe(1);
    expect(wk("fork", "--world", w).status).toBe(2);
    expect(wk("replay", "--world", w, "--to", "x").status).toBe(2);
    expect(wk("create", COUNTER, "--world", w).stderr).toContain("kernel.world_exists");
  }, 120_000);
});
