/**
 * @module Hostile modules inside a real world: an infinite loop, a memory bomb, a trap, a
 * huge output, malformed output, an ungranted host call, WASI clock and random imports.
 * Each step fails with a typed error that is journaled; the world keeps serving other
 * events; replay reproduces every failure byte for byte.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wabtInit from "wabt";
import { describe, expect, it } from "vitest";
import { decodeStored } from "../../air/index.js";
import { verifyJournal, worldPaths } from "../../kernel/journal/index.js";
import { createWorld, replayWorld, sourceFromAirDir } from "../../kernel/world/index.js";

const FIXTURES = new URL("../fixtures/wasm/", import.meta.url).pathname;
const wabt = await wabtInit();

/** name → [fixture, expected step error code] */
const HOSTILE: Record<string, [string, string]> = {
  Spin: ["spin", "module.out_of_fuel"],
  MemBomb: ["membomb", "module.out_of_memory"],
  Trap: ["trap", "module.trap"],
  BigOut: ["bigout", "module.output_too_large"],
  Echo: ["echo", "module.bad_output"],
  Blob: ["blob", "module.link_error"],
  Clock: ["clock", "module.link_error"],
  Random: ["random", "module.link_error"],
};

function hostileAir(dir: string): void {
  const defs: unknown[] = [
    { $kind: "defschema", name: "h/Poke@1", type: { record: { key: { text: {} } } } },
    { $kind: "defschema", name: "h/S@1", type: { record: { n: { nat: {} } } } },
  ];
  for (const [name, [fixture]] of Object.entries(HOSTILE)) {
    const wasm = wabt
      .parseWat(`${fixture}.wat`, readFileSync(join(FIXTURES, `${fixture}.wat`), "utf8"))
      .toBinary({}).buffer;
    writeFileSync(join(dir, `${fixture}.wasm`), wasm);
    defs.push({
      $kind: "defmodule",
      name: `h/${name}@1`,
      module_kind: "workflow",
      wasm: `./${fixture}.wasm`,
      abi: { workflow: { state: "h/S@1", event: "h/Poke@1" } },
      limits: { fuel_per_step: 2_000_000, memory_pages: 16, max_output_bytes: 65536 },
    });
  }
  copyFileSync(
    new URL("../../modules/assemblyscript/counter/counter.wasm", import.meta.url),
    join(dir, "counter.wasm"),
  );
  const counter = JSON.parse(
    readFileSync(new URL("../../worlds/counter/schemas.air.json", import.meta.url), "utf8"),
  ) as unknown[];
  defs.push(...counter, {
    $kind: "defmodule",
    name: "demo/Counter@1",
    module_kind: "workflow",
    wasm: "./counter.wasm",
    abi: { workflow: { state: "demo/CounterState@1", event: "demo/CounterEvent@1" } },
  });
  const names = Object.keys(HOSTILE).map((n) => ({ name: `h/${n}@1` }));
  defs.push({
    $kind: "manifest",
    air_version: "1",
    schemas: [
      { name: "h/Poke@1" },
      { name: "h/S@1" },
      { name: "demo/CounterEvent@1" },
      { name: "demo/CounterState@1" },
      { name: "demo/CounterMilestone@1" },
    ],
    modules: [...names, { name: "demo/Counter@1" }],
    effects: [],
    caps: [],
    policies: [],
    routing: {
      subscriptions: [
        ...names.map((m) => ({ event: "h/Poke@1", module: m.name, key_field: "key" })),
        { event: "demo/CounterEvent@1", module: "demo/Counter@1", key_field: "key" },
      ],
    },
  });
  writeFileSync(join(dir, "world.air.json"), JSON.stringify(defs));
}

describe("hostile modules in a world", () => {
  it("each fails its step with a typed, journaled error; the world keeps serving; replay reproduces the failures", async () => {
    const air = mkdtempSync(join(tmpdir(), "wk-hostile-air-"));
    hostileAir(air);
    const dir = join(mkdtempSync(join(tmpdir(), "wk-hostile-")), "w");
    const world = await createWorld(dir, sourceFromAirDir(air));

    const r = await world.send("h/Poke@1", { key: "x" });
    expect(r).toMatchObject({ steps: Object.keys(HOSTILE).length, failures: Object.keys(HOSTILE).length });
    const steps = new Map<string, { ok: boolean; error: { code: string; message: string } | null }>();
    for await (const e of world.store.iterate(r.seq)) {
      if (e.kind !== "step") continue;
      const b = decodeStored(e.body) as {
        module: string;
        ok: boolean;
        error: { code: string; message: string } | null;
      };
      steps.set(b.module, b);
    }
    for (const [name, [, code]] of Object.entries(HOSTILE)) {
      expect(steps.get(`h/${name}@1`), name).toMatchObject({ ok: false, error: { code } });
    }
    expect(steps.get("h/Clock@1")!.error!.message).toMatch(/clock_time_get/);
    expect(steps.get("h/Blob@1")!.error!.message).toMatch(/blob_get.*blob|blob.*blob_get/);

    // The world keeps serving: a counter event still steps, and the hostile modules fail again, identically.
    const ok = await world.send("demo/CounterEvent@1", { key: "alice", by: 3 });
    expect(ok).toMatchObject({ steps: 1, failures: 0 });
    expect(world.cellState("demo/Counter@1", "alice")).toEqual({ count: 3, events: 1 });
    const again = await world.send("h/Poke@1", { key: "y" });
    expect(again.failures).toBe(Object.keys(HOSTILE).length);
    const root = world.stateRefs().state_root;
    await world.close();

    const replay = await replayWorld(dir);
    expect(replay).toMatchObject({ ok: true, state_root: root });
    expect((await verifyJournal(worldPaths(dir).journal)).ok).toBe(true);
  });
});
