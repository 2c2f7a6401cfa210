/**
 * @module Counterfactual shadow runs: a fix that only changes how *new* cells start shows no
 * difference when replayed over the recent window on top of today's state, and a real one
 * when the world is re-run under it since genesis; since a seq after the cells were created,
 * none again. Nothing is written, no adapter is called, and a seq inside a batch moves to the
 * boundary before it.
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wabtInit from "wabt";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashBytes, hashDef, type AnyDef, type HashText } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { createWorld, propose, shadow, sourceFromAirDir } from "../../kernel/world/index.js";
import { counterfactualRun } from "../../kernel/world/counterfactual.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { wk } from "./cli-harness.js";
import { governed } from "./fixtures/governed-counter.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const wabt = await wabtInit();
const WAT = readFileSync(join(ROOT, "modules/wat/counter.wat"), "utf8");

/** The WAT counter, with new cells starting at `start` instead of 0 (existing cells keep their state). */
function counterStartingAt(start: number): Uint8Array {
  const src =
    start === 0 ? WAT : WAT.replace("(global.set $count (i64.const 0))", `(global.set $count (i64.const ${start}))`);
  expect(start === 0 || src !== WAT).toBe(true);
  return new Uint8Array(wabt.parseWat("counter.wat", src).toBinary({}).buffer);
}

describe("counterfactual shadow runs", () => {
  it("a change to how new cells start: no diff over the window, a real one since genesis", async () => {
    const approver = generateKeyPair();
    const wasm = counterStartingAt(0);
    const { catalog, mod } = governed([approver.publicKeyHex], 1, wasm);
    const dir = join(mkdtempSync(join(tmpdir(), "wk-cf-")), "w");
    const w = await createWorld(dir, { catalog, wasm: new Map<HashText, Uint8Array>([[hashBytes(wasm), wasm]]) }, {});
    // Both cells are created by the first events; the 60 after them only add to existing cells.
    await w.sendMany([
      { schema: "demo/CounterEvent@1", json: { key: "a", by: 1 } },
      { schema: "demo/CounterEvent@1", json: { key: "b", by: 1 } },
    ]);
    const created = w.store.countSync() - 1;
    for (let i = 0; i < 60; i++) await w.send("demo/CounterEvent@1", { key: i % 2 ? "a" : "b", by: 2 });
    const head = w.store.countSync();

    const fix = counterStartingAt(100);
    const doc = {
      base_manifest_hash: w.catalog.manifestHash,
      patches: [
        {
          replace_def: {
            kind: "defmodule",
            name: "demo/Counter@1",
            new_node: { ...mod, wasm_hash: hashBytes(fix) },
            pre_hash: hashDef(mod as AnyDef),
          },
        },
      ],
    };
    const { proposalId } = await propose(w, doc, { proposer: generateKeyPair(), wasm: [fix] });
    const headAfterPropose = w.store.countSync();

    // The windowed shadow replays the last 50 events on today's state: every cell already exists.
    const { report: windowed } = await shadow(w, proposalId, { window: 50 });
    expect(windowed.cells).toEqual([]);

    const next = governed([approver.publicKeyHex], 1, fix).catalog; // the same defs, with the fix's binary

    // Re-run under the fix since genesis: both cells would have started at 100.
    const since0 = await counterfactualRun(w, next, 0);
    expect(since0.since).toBe(0);
    expect(since0.events).toBe(62);
    expect(since0.failures).toEqual([]);
    expect(since0.new_intents).toEqual([]);
    expect(since0.cells.map((c) => c.key)).toEqual(["a", "b"]);
    for (const c of since0.cells) {
      const before = c.before_state as { count: string | number; events: string | number };
      const after = c.after_state as { count: string | number; events: string | number };
      expect(Number(after.count)).toBe(Number(before.count) + 100);
      expect(after.events).toEqual(before.events);
    }
    expect(since0.fuel).toBeGreaterThan(0);

    // Since after both cells exist, the fix changes nothing.
    const later = await counterfactualRun(w, next, created);
    expect(later.since).toBe(created);
    expect(later.events).toBe(60);
    expect(later.cells).toEqual([]);

    // A seq inside a batch moves to the boundary before it.
    const inside = await counterfactualRun(w, next, 1); // the first event: its step follows in the same batch
    expect(inside.moved_from).toBe(1);
    expect(inside.since).toBe(0);

    // Nothing was written by the counterfactual runs (the windowed shadow journaled its report).
    expect(w.store.countSync()).toBe(headAfterPropose + 1);
    expect(head).toBeLessThan(headAfterPropose);

    // As a shadow report: journaled, approvable, and what `wk shadow --since` prints.
    const { report } = await shadow(w, proposalId, { since: 0 });
    expect(report.counterfactual).toMatchObject({ since: 0, inputs_reused: 0, new_intents: [], dropped_intents: [] });
    expect(report.cells.map((c) => c.key)).toEqual(["a", "b"]);
    expect(report.fuel.before).toBeGreaterThan(0);
    await w.close();
    const cli = wk("shadow", proposalId, "--since", String(created), "--world", dir, "--json");
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ cells: [], counterfactual: { since: created } });
    const text = wk("shadow", proposalId, "--since", "0", "--world", dir);
    expect(text.stdout).toContain("re-run under the proposal since seq 0");
    expect(wk("shadow", proposalId, "--since", "-1", "--world", dir).status).toBe(2);
    expect(wk("verify", "--world", dir).status).toBe(0);
  });

  it("effects: identical intents reuse their recorded receipts; a policy that now denies changes decisions and cells, and nothing is performed", async () => {
    const air = (decision: string) => {
      const dir = mkdtempSync(join(tmpdir(), "wk-cf-fetcher-"));
      copyFileSync(join(ROOT, "modules/assemblyscript/fetcher/fetcher.wasm"), join(dir, "fetcher.wasm"));
      const defs = JSON.parse(
        readFileSync(join(ROOT, "test/fixtures/worlds/fetcher/world.air.json"), "utf8"),
      ) as Record<string, unknown>[];
      for (const d of defs) {
        if (d.$kind === "defmodule") d.wasm = "./fetcher.wasm";
        if (d.$kind === "defpolicy") (d.rules as { decision: string }[])[0]!.decision = decision;
      }
      writeFileSync(join(dir, "world.air.json"), JSON.stringify(defs));
      return sourceFromAirDir(dir);
    };
    const dir = join(mkdtempSync(join(tmpdir(), "wk-cf-fx-")), "w");
    const w = await createWorld(dir, air("allow"), { adapters: defaultAdapters() });
    for (const k of ["a", "b", "c"]) await w.send("demo/Fetch@1", { key: k, url: `${url}/${k}` });
    await w.runUntilIdle();
    expect(hits.length).toBe(3);

    const same = await counterfactualRun(w, air("allow").catalog, 0);
    expect(same.inputs_reused).toBe(3);
    expect(same.cells).toEqual([]);
    expect(same.new_intents).toEqual([]);
    expect(same.dropped_intents).toEqual([]);

    const denied = await counterfactualRun(w, air("deny").catalog, 0);
    expect(denied.inputs_reused).toBe(0);
    expect(Object.values(denied.decisions).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(3);
    expect(denied.cells.map((c) => c.key)).toEqual(["a", "b", "c"]);
    for (const c of denied.cells) expect(c.after_state).toMatchObject({ last_status: "denied" });
    expect(hits.length).toBe(3); // no adapter was called
    await w.close();
  });
});

let url = "";
const hits: string[] = [];
const server = createServer((req, res) => {
  hits.push(String(req.url));
  res.end("hello");
});
beforeAll(async () => {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => void server.close());
