/**
 * @module Runaway bounds (cascade-v1): a module that answers every event with an event it
 * consumes itself would step forever. One input may cause at most MAX_STEPS_PER_INPUT
 * steps; the step that would exceed it fails with `kernel.cascade_limit` (journaled), the
 * rest of the cascade is dropped, the world keeps serving, and replay reproduces it exactly.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeCanonical } from "../../air/index.js";
import {
  createWorld,
  MAX_STEPS_PER_INPUT,
  replayWorld,
  sourceFromAirDir,
  verifyWorld,
} from "../../kernel/world/index.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { constOutputWasm } from "./wat-modules.js";
import { wkAsync } from "./cli-harness.js";

/** A plugin whose every step outputs the same bytes: an h/Ping@1 event for the same key. */
function echoForever(): Uint8Array {
  return constOutputWasm(
    encodeCanonical({
      state: { n: 1 },
      events: [{ schema: "h/Ping@1", value: { key: "loop" }, key: "loop" }],
      effects: [],
      ann: null,
    }),
  );
}

function loopAir(dir: string): void {
  writeFileSync(join(dir, "loop.wasm"), echoForever());
  writeFileSync(
    join(dir, "world.air.json"),
    JSON.stringify([
      { $kind: "defschema", name: "h/Ping@1", type: { record: { key: { text: {} } } } },
      { $kind: "defschema", name: "h/S@1", type: { record: { n: { nat: {} } } } },
      {
        $kind: "defmodule",
        name: "h/Loop@1",
        module_kind: "workflow",
        wasm: "./loop.wasm",
        abi: { workflow: { state: "h/S@1", event: "h/Ping@1" } },
      },
      {
        $kind: "manifest",
        air_version: "1",
        schemas: [{ name: "h/Ping@1" }, { name: "h/S@1" }],
        modules: [{ name: "h/Loop@1" }],
        effects: [],
        caps: [],
        policies: [],
        routing: { subscriptions: [{ event: "h/Ping@1", module: "h/Loop@1", key_field: "key" }] },
      },
    ]),
  );
}

describe("a runaway cascade ends as a journaled failure", () => {
  it("stops at the step bound, keeps serving, and replays exactly", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-cascade-"));
    loopAir(base);
    const dir = join(base, "w");
    const w = await createWorld(dir, sourceFromAirDir(base), { synchronous: "NORMAL" });
    const r = await w.send("h/Ping@1", { key: "loop" });
    expect(r.steps).toBe(MAX_STEPS_PER_INPUT + 1);
    expect(r.failures).toBe(1);
    const last = w.store.latestOfKind("step")!;
    expect(new TextDecoder().decode(last.body)).toContain("kernel.cascade_limit");
    // The world keeps serving: the next input gets a fresh bound.
    const again = await w.send("h/Ping@1", { key: "loop" });
    expect(again).toMatchObject({ steps: MAX_STEPS_PER_INPUT + 1, failures: 1 });
    const root = w.stateRefs().state_root;
    await w.close();
    expect(await verifyWorld(worldPaths(dir).journal)).toMatchObject({ ok: true });
    const replay = await replayWorld(dir);
    expect(replay).toMatchObject({ ok: true, state_root: root, steps: 2 * (MAX_STEPS_PER_INPUT + 1) });
    // As a user meets it: wk send names the failure and exits 1; the world keeps serving.
    const cli = await wkAsync("send", "h/Ping@1", '{"key":"loop"}', "--world", dir);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toContain("kernel.cascade_limit");
  }, 240_000);
});
