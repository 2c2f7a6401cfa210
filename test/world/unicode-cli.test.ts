/**
 * @module Text is valid Unicode or refused, end to end (issue 11, item 7). A lone surrogate
 * in an event key used to make cell ids and their encoding disagree (TextEncoder wrote
 * U+FFFD), after which every command failed with `kernel.state_root_mismatch`; a leading
 * U+FEFF was dropped on decode with the same effect. Now `wk send` refuses the event with
 * `air.invalid_unicode` at `$.key` and writes nothing, and a module that emits invalid
 * UTF-8 fails its step with a typed error while the world keeps serving.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { constOutputWasm } from "./wat-modules.js";
import { describe, expect, it } from "vitest";
import { ROOT, json, wk } from "./cli-harness.js";
import { CborRaw, decodeStored, encodeCanonical, fromHex, type CborValue } from "../../air/index.js";
import { verifyJournal, worldPaths } from "../../kernel/journal/index.js";
import { createWorld, replayWorld, sourceFromAirDir } from "../../kernel/world/index.js";

const COUNTER = join(ROOT, "worlds/counter");
const entries = (w: string) => (JSON.parse(wk("log", "--world", w, "--json").stdout) as unknown[]).length;

describe("wk send refuses text that is not Unicode", () => {
  it("a lone surrogate in an event key: exit 1, air.invalid_unicode at $.key, nothing written; the world keeps working", () => {
    const w = join(mkdtempSync(join(tmpdir(), "wk-unicode-cli-")), "w");
    expect(wk("create", COUNTER, "--world", w).status).toBe(0);
    const before = entries(w);
    // The JSON text as a shell user types it: a literal backslash escape, not a raw surrogate.
    const bad = '{"key":"\\udc00","by":1}';
    for (let i = 0; i < 2; i++) {
      const r = wk("send", "demo/CounterEvent@1", bad, "--world", w);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain("air.invalid_unicode");
      expect(r.stderr).toContain("kernel.bad_event");
      expect(r.stderr).toContain("$.key");
      expect(r.stderr).toContain("U+DC00");
      expect(entries(w)).toBe(before);
    }
    // Other lone surrogates, and one hidden in a key the schema does not have.
    for (const text of [
      '{"key":"a\\ud800","by":1}',
      '{"key":"\\udc00\\ud800","by":1}',
      '{"key":"a","by":1,"x\\udc00":1}',
    ]) {
      const r = wk("send", "demo/CounterEvent@1", text, "--world", w);
      expect(r.status, text).toBe(1);
      expect(r.stderr).toContain("air.invalid_unicode");
    }
    expect(entries(w)).toBe(before);

    expect(json(wk("send", "demo/CounterEvent@1", '{"key":"alice","by":2}', "--world", w, "--json"))).toMatchObject({
      steps: 1,
    });
    expect(json(wk("state", "demo/Counter@1", "alice", "--world", w))).toEqual({ count: 2, events: 1 });
    const state = json(wk("state", "--world", w)) as { state_root: string };
    expect(json(wk("replay", "--world", w, "--json"))).toMatchObject({ ok: true, state_root: state.state_root });
    expect(json(wk("verify", "--world", w, "--json"))).toMatchObject({ ok: true });
  }, 120_000);

  it("well-formed non-ASCII keys (a surrogate pair, a leading U+FEFF) round-trip through the journal, twice", () => {
    const w = join(mkdtempSync(join(tmpdir(), "wk-unicode-cli-")), "w");
    expect(wk("create", COUNTER, "--world", w).status).toBe(0);
    for (let i = 0; i < 2; i++) {
      for (const key of ["\\ud83d\\ude00", "\\ufeffa", "é"]) {
        expect(
          json(wk("send", "demo/CounterEvent@1", `{"key":"${key}","by":1}`, "--world", w, "--json")),
        ).toMatchObject({ steps: 1 });
      }
    }
    for (const key of ["\uFEFFa", "é", "😀"])
      expect(json(wk("state", "demo/Counter@1", key, "--world", w))).toEqual({ count: 2, events: 2 });
    const state = json(wk("state", "--world", w)) as { state_root: string; cells: { key: string }[] };
    expect(state.cells.map((c) => c.key).sort()).toEqual(["\uFEFFa", "é", "😀"].sort());
    expect(json(wk("replay", "--world", w, "--json"))).toMatchObject({ ok: true, state_root: state.state_root });
    expect(json(wk("verify", "--world", w, "--json"))).toMatchObject({ ok: true });
  }, 120_000);
});

const raw = (hex: string) => new CborRaw(fromHex(hex));
const output = (o: { state?: CborValue; events?: CborValue[]; effects?: CborValue[] }) =>
  encodeCanonical({ state: o.state ?? { note: "ok" }, events: o.events ?? [], effects: o.effects ?? [], ann: null });

/** module → [output bytes, expected step error code or null for success] */
const MODULES: Record<string, [Uint8Array, string | null]> = {
  BadState: [output({ state: { note: raw("63eda080") } }), "module.bad_output"], // an encoded surrogate
  BadEvent: [
    output({ events: [{ schema: "u/Poke@1", value: { key: raw("62c080") }, key: null }] }),
    "module.bad_output",
  ], // overlong
  BadKey: [output({ events: [{ schema: "u/Poke@1", value: { key: "a" }, key: raw("62ff61") }] }), "module.bad_output"], // 0xFF
  BadEffect: [output({ effects: [{ kind: raw("62e282"), params: null, cap_slot: "x" }] }), "module.bad_output"], // truncated
  Bom: [output({ state: { note: "\uFEFFnote" } }), null],
};

function unicodeAir(dir: string): void {
  const defs: unknown[] = [
    { $kind: "defschema", name: "u/Poke@1", type: { record: { key: { text: {} } } } },
    { $kind: "defschema", name: "u/S@1", type: { record: { note: { text: {} } } } },
  ];
  for (const [name, [bytes]] of Object.entries(MODULES)) {
    writeFileSync(join(dir, `${name}.wasm`), constOutputWasm(bytes));
    defs.push({
      $kind: "defmodule",
      name: `u/${name}@1`,
      module_kind: "workflow",
      wasm: `./${name}.wasm`,
      abi: { workflow: { state: "u/S@1", event: "u/Poke@1" } },
      limits: { fuel_per_step: 2_000_000, memory_pages: 16, max_output_bytes: 65536 },
    });
  }
  copyFileSync(
    new URL("../../modules/assemblyscript/counter/counter.wasm", import.meta.url),
    join(dir, "counter.wasm"),
  );
  defs.push(
    { $kind: "defschema", name: "demo/CounterEvent@1", type: { record: { key: { text: {} }, by: { nat: {} } } } },
    { $kind: "defschema", name: "demo/CounterState@1", type: { record: { count: { nat: {} }, events: { nat: {} } } } },
    {
      $kind: "defschema",
      name: "demo/CounterMilestone@1",
      type: { record: { key: { text: {} }, count: { nat: {} } } },
    },
    {
      $kind: "defmodule",
      name: "demo/Counter@1",
      module_kind: "workflow",
      wasm: "./counter.wasm",
      abi: { workflow: { state: "demo/CounterState@1", event: "demo/CounterEvent@1" } },
    },
  );
  const names = Object.keys(MODULES).map((n) => ({ name: `u/${n}@1` }));
  defs.push({
    $kind: "manifest",
    air_version: "1",
    schemas: [
      { name: "u/Poke@1" },
      { name: "u/S@1" },
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
        ...names.map((m) => ({ event: "u/Poke@1", module: m.name, key_field: "key" })),
        { event: "demo/CounterEvent@1", module: "demo/Counter@1", key_field: "key" },
      ],
    },
  });
  writeFileSync(join(dir, "world.air.json"), JSON.stringify(defs));
}

describe("module output that is not valid UTF-8", () => {
  it("fails the step with module.bad_output (journaled); the world keeps serving; replay and verify agree", async () => {
    const air = mkdtempSync(join(tmpdir(), "wk-unicode-air-"));
    unicodeAir(air);
    const dir = join(mkdtempSync(join(tmpdir(), "wk-unicode-")), "w");
    const world = await createWorld(dir, sourceFromAirDir(air));
    const failing = Object.values(MODULES).filter(([, code]) => code !== null).length;

    const r = await world.send("u/Poke@1", { key: "x" });
    expect(r).toMatchObject({ steps: Object.keys(MODULES).length });
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
    for (const [name, [, code]] of Object.entries(MODULES)) {
      if (code === null) expect(steps.get(`u/${name}@1`), name).toMatchObject({ ok: true });
      else {
        expect(steps.get(`u/${name}@1`), name).toMatchObject({ ok: false, error: { code } });
        expect(steps.get(`u/${name}@1`)!.error!.message, name).toMatch(/invalid UTF-8/);
      }
    }
    expect(world.cellState("u/Bom@1", "x")).toEqual({ note: "\uFEFFnote" });

    const ok = await world.send("demo/CounterEvent@1", { key: "\uFEFFalice", by: 3 });
    expect(ok).toMatchObject({ steps: 1 });
    expect(world.cellState("demo/Counter@1", "\uFEFFalice")).toEqual({ count: 3, events: 1 });
    await expect(world.send("demo/CounterEvent@1", { key: "\udc00", by: 1 })).rejects.toMatchObject({
      code: "kernel.bad_event",
    });
    const again = await world.send("u/Poke@1", { key: "y" });
    let failedAgain = 0;
    for await (const e of world.store.iterate(again.seq))
      if (e.kind === "step" && !(decodeStored(e.body) as { ok: boolean }).ok) failedAgain++;
    expect(failedAgain).toBe(failing);
    const root = world.stateRefs().state_root;
    await world.close();

    const replay = await replayWorld(dir);
    expect(replay).toMatchObject({ ok: true, state_root: root });
    expect((await verifyJournal(worldPaths(dir).journal)).ok).toBe(true);
  });
});
