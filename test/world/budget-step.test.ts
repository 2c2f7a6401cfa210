/**
 * @module Budgets hold within one step: a module that emits two intents on a grant with a
 * budget of one call gets the first allowed and the second denied at the budget stage —
 * the first intent's spend is booked before the second is decided.
 */
import { createServer } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildCatalogOrThrow, decodeStored, hashBytes, type CborObject } from "../../air/index.js";
import { buildModule } from "../../kernel/adapters/compile/build.js";
import { createWorld, replayWorld } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";

const TWICE = `
import { Cbor, Ctx, Effect, Event, StepResult, runStep } from "../sdk/index";

// Asks for the same GET twice in one step; counts the receipts that come back.
function twice(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const n: u64 = state === null ? 0 : state.get("receipts")!.asU64();
  if (event.schema == "sys/EffectReceiptEnvelope@1") return new StepResult(Cbor.map().set("receipts", Cbor.uint(n + 1)));
  const get = Cbor.map().set("method", Cbor.text("GET")).set("url", event.value.get("url")!).set("headers", Cbor.map()).set("body_ref", Cbor.nil());
  return new StepResult(Cbor.map().set("receipts", Cbor.uint(n))).effect(new Effect("http.request", get, "net")).effect(new Effect("http.request", get, "net"));
}

export function step(): i32 {
  return runStep(twice);
}
`;

describe("budgets within one step", () => {
  it("the second intent of a step is denied once the first spent the grant's only call", async () => {
    let hits = 0;
    const server = createServer((_req, res) => {
      hits++;
      res.end("ok");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/once`;
    try {
      const built = await buildModule({ language: "assemblyscript", source: new TextEncoder().encode(TWICE) });
      if (!built.ok) throw new Error(built.diagnostics.join("\n"));
      const h = hashBytes(built.wasm);
      const catalog = buildCatalogOrThrow([
        {
          file: "twice.air.json",
          value: [
            { $kind: "defschema", name: "t/Go@1", type: { record: { key: { text: {} }, url: { text: {} } } } },
            { $kind: "defschema", name: "t/S@1", type: { record: { receipts: { nat: {} } } } },
            {
              $kind: "defmodule",
              name: "t/Twice@1",
              module_kind: "workflow",
              wasm_hash: h,
              abi: {
                workflow: {
                  state: "t/S@1",
                  event: "t/Go@1",
                  effects_emitted: ["http.request"],
                  cap_slots: { net: "http.out" },
                },
              },
            },
            {
              $kind: "defpolicy",
              name: "t/p@1",
              rules: [{ when: { effect_kind: "http.request" }, decision: "allow" }],
            },
            {
              $kind: "manifest",
              air_version: "1",
              schemas: [{ name: "t/Go@1" }, { name: "t/S@1" }],
              modules: [{ name: "t/Twice@1" }],
              effects: [{ name: "sys/http.request@1" }],
              caps: [{ name: "sys/http.out@1" }],
              policies: [{ name: "t/p@1" }],
              defaults: {
                policy: "t/p@1",
                cap_grants: [
                  {
                    name: "one",
                    cap: "sys/http.out@1",
                    params: { hosts: ["127.0.0.1"], allow_private: ["127.0.0.1"] },
                    budget: { count: 1 },
                  },
                ],
              },
              module_bindings: { "t/Twice@1": { slots: { net: "one" } } },
              routing: { subscriptions: [{ event: "t/Go@1", module: "t/Twice@1", key_field: "key" }] },
            },
          ],
        },
      ]);
      const dir = join(mkdtempSync(join(tmpdir(), "wk-budget-")), "w");
      const w = await createWorld(dir, { catalog, wasm: new Map([[h, built.wasm]]) }, { adapters: defaultAdapters() });
      await w.send("t/Go@1", { key: "k", url });
      const decisions: CborObject[] = [];
      for await (const e of w.store.iterate(0))
        if (e.kind === "policy_decision") decisions.push(decodeStored(e.body) as CborObject);
      expect(decisions.map((d) => [d.decision, d.stage])).toEqual([
        ["allow", "policy"],
        ["deny", "budget"],
      ]);
      expect(hits).toBe(1);
      expect(w.cellState("t/Twice@1", "k")).toEqual({ receipts: 2 });
      const root = w.stateRefs().state_root;
      await w.close();
      expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
    } finally {
      server.close();
    }
  });
});
