/**
 * @module Ingress identity and idempotency keys, through the CLI as a user meets them: the
 * same summarizer request sent twice is two independent requests (distinct intents, both
 * complete, `wk run` idle, replay and verify pass); a retry under an idempotency key returns
 * the first result and appends nothing; another body under the same key is a typed conflict.
 * Failures are loud: a failing step is printed with module, key, code and message, exit 1.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT, okAsync, wkAsync } from "./cli-harness.js";
import { startPageServer, type PageServer } from "./page-server.js";

const wk = wkAsync;
const ok = okAsync;
const count = async (w: string) => (JSON.parse((await wk("log", "--world", w, "--json")).stdout) as unknown[]).length;

describe("ingress identity", () => {
  let server: PageServer;
  let url = "";
  beforeAll(async () => {
    server = await startPageServer("A short page about journals.\n");
    url = `${server.url}/page`;
  });
  afterAll(() => server.close());

  it("the same request twice: two independent requests that both complete; replay and verify pass", async () => {
    const w = join(mkdtempSync(join(tmpdir(), "wk-twice-")), "w");
    await ok("create", join(ROOT, "worlds/summarizer"), "--world", w, "--json");
    const req = JSON.stringify({ key: "same", url, source: "export function one(): i32 { return 1; }\n" });
    const a = (await ok("send", "demo/SummarizeRequest@1", req, "--world", w, "--json")) as {
      intents: { intent_id: string; receipt: string | null }[];
    };
    const b = (await ok("send", "demo/SummarizeRequest@1", req, "--world", w, "--json")) as {
      intents: { intent_id: string; receipt: string | null }[];
    };
    const ids = (x: typeof a) => new Set(x.intents.map((i) => i.intent_id));
    expect(a.intents.length).toBeGreaterThan(0);
    for (const id of ids(b)) expect(ids(a).has(id)).toBe(false);
    expect(b.intents.every((i) => i.receipt !== null)).toBe(true);
    expect(await ok("run", "--world", w, "--json")).toMatchObject({ waiting: 0 });
    expect(await ok("replay", "--world", w, "--json")).toMatchObject({ ok: true });
    expect(await ok("verify", "--world", w, "--json")).toMatchObject({ ok: true });
  }, 120_000);

  it("an idempotency key returns the first result and appends nothing; another body under it is a conflict", async () => {
    const w = join(mkdtempSync(join(tmpdir(), "wk-idem-")), "w");
    await ok("create", join(ROOT, "worlds/counter"), "--world", w, "--json");
    const first = await ok(
      "send",
      "demo/CounterEvent@1",
      '{"key":"alice","by":5}',
      "--idempotency-key",
      "order-1",
      "--world",
      w,
      "--json",
    );
    const n = await count(w);
    const retry = await ok(
      "send",
      "demo/CounterEvent@1",
      '{"key":"alice","by":5}',
      "--idempotency-key",
      "order-1",
      "--world",
      w,
      "--json",
    );
    expect(retry).toMatchObject({ seq: first.seq, duplicate: true, steps: 1 });
    expect(await count(w)).toBe(n);
    const conflict = await wk(
      "send",
      "demo/CounterEvent@1",
      '{"key":"alice","by":6}',
      "--idempotency-key",
      "order-1",
      "--world",
      w,
    );
    expect(conflict.status).toBe(1);
    expect(conflict.stderr).toContain("kernel.idempotency_conflict");
    expect(await count(w)).toBe(n);
    expect(JSON.parse((await wk("state", "demo/Counter@1", "alice", "--world", w)).stdout)).toEqual({
      count: 5,
      events: 1,
    });
    expect(await ok("replay", "--world", w, "--json")).toMatchObject({ ok: true });
    expect(await ok("verify", "--world", w, "--json")).toMatchObject({ ok: true });
  }, 120_000);

  it("a failing step is printed with module, key, code and message, and exits 1; --json lists the failures", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-loud-"));
    const wabt = await (await import("wabt")).default();
    const trap = wabt
      .parseWat("trap.wat", readFileSync(join(ROOT, "test/fixtures/wasm/trap.wat"), "utf8"))
      .toBinary({}).buffer;
    writeFileSync(join(base, "trap.wasm"), trap);
    writeFileSync(
      join(base, "world.air.json"),
      JSON.stringify([
        { $kind: "defschema", name: "h/Poke@1", type: { record: { key: { text: {} } } } },
        { $kind: "defschema", name: "h/S@1", type: { record: { n: { nat: {} } } } },
        {
          $kind: "defmodule",
          name: "h/Trap@1",
          module_kind: "workflow",
          wasm: "./trap.wasm",
          abi: { workflow: { state: "h/S@1", event: "h/Poke@1" } },
        },
        {
          $kind: "manifest",
          air_version: "1",
          schemas: [{ name: "h/Poke@1" }, { name: "h/S@1" }],
          modules: [{ name: "h/Trap@1" }],
          effects: [],
          caps: [],
          policies: [],
          routing: { subscriptions: [{ event: "h/Poke@1", module: "h/Trap@1", key_field: "key" }] },
        },
      ]),
    );
    const w = join(base, "w");
    await ok("create", base, "--world", w, "--json");
    const r = await wk("send", "h/Poke@1", '{"key":"k1"}', "--world", w);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAILED step at seq \d+: h\/Trap@1 \[k1\]: module\.trap: /);
    const j = await wk("send", "h/Poke@1", '{"key":"k2"}', "--world", w, "--json");
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({
      steps: 1,
      failures: [{ module: "h/Trap@1", key: "k2", code: "module.trap" }],
    });
    expect(await ok("replay", "--world", w, "--json")).toMatchObject({ ok: true });
  }, 120_000);
});
