/**
 * @module The gate's cost estimate (issue 23, item 4): under policy-cel-v1 an LLM call is priced
 * from its grant's declared prices × its token ceilings, so `cost_over_cents` matches and cent
 * budgets bind, on a real world with the deterministic local provider. Without the flag (a
 * journal written before it) the gate decides exactly as it did: 0 cents, and a rule with a
 * condition denies rather than being evaluated by an evaluator the journal never pinned.
 */
import { describe, expect, it } from "vitest";
import { buildCatalogOrThrow, decodeStored, encodeStored, hashBytes, type CborObject } from "../../air/index.js";
import { BudgetLedger } from "../../kernel/core/budget.js";
import { decide } from "../../kernel/core/gate.js";
import { KERNEL_FLAGS, behaviourOf } from "../../kernel/transition/flags.js";
import { replayWorld } from "../../kernel/world/index.js";
import { pricedEstimate, worldGateHooks } from "../../kernel/world/gate-rules.js";
import { emitEvent, emitterWorld, type EmitterSpec } from "./fixtures/emitter.js";
import { gateDecisions, paymentDefs } from "./fixtures/payments.js";

const PRICES = { input_cents_per_1k_tokens: 1, output_cents_per_1k_tokens: 3, max_input_tokens: 2000 };

const LLM: EmitterSpec = {
  kind: "llm.generate",
  effect: "sys/llm.generate@1",
  cap: "sys/llm.basic@1",
  capType: "llm.basic",
  rules: [
    { when: { effect_kind: "llm.generate", cost_over_cents: 10 }, decision: "deny" },
    { when: { effect_kind: "llm.generate", condition: "estimate.cents > 4" }, decision: "require_approval" },
    { when: { effect_kind: "llm.generate" }, decision: "allow" },
  ],
  grant: { prices: PRICES, budget: { cents: 100 } },
};

describe("a working cost estimate", () => {
  it("prices an LLM call from the grant: cost_over_cents and conditions on the estimate match", async () => {
    const { w, dir } = await emitterWorld(LLM);
    try {
      const messages = encodeStored([{ role: "user", content: "Summarize this. It is short." }]);
      const ref = hashBytes(messages);
      w.store.putBlobSync(messages);
      const call = (max_tokens: number) =>
        emitEvent("llm.generate", "ok", {
          provider: "local",
          model: "m",
          messages_ref: Buffer.from(ref.slice("sha256:".length), "hex"),
          max_tokens,
          temperature: null,
        });
      await w.send("t/Emit@1", call(100)); // (2000×1 + 100×3)/1000 = 2.3 → 3 cents
      await w.send("t/Emit@1", call(1000)); // (2000 + 3000)/1000 = 5 cents
      await w.send("t/Emit@1", call(3000)); // (2000 + 9000)/1000 = 11 cents
      const ds = await gateDecisions(w);
      expect(ds.map((d) => [d.decision, d.rule_index, d.estimate])).toEqual([
        ["allow", 2, { tokens: 2100, cents: 3 }],
        ["require_approval", 1, { tokens: 3000, cents: 5 }],
        ["deny", 0, { tokens: 5000, cents: 11 }],
      ]);
      // The allowed call ran and settled its reservation to what the receipt reports.
      const receipts = (w.cellState("t/Agent@1", "agent") as { receipts: { status: string }[] }).receipts;
      expect(receipts.map((r) => r.status)).toEqual(["ok", "denied"]);
      // 5 prompt words and a few completion words at 1 and 3 cents per 1k tokens: 1 cent, rounded up.
      expect(w.state.ledger.spend("ok")).toMatchObject({ count: 1, cents: 1 });
      const root = w.stateRefs().state_root;
      await w.close();
      expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
    } finally {
      await w.close().catch(() => {});
    }
  }, 120_000);

  it("a prompt longer than the grant's max_input_tokens is refused by the adapter before any call (input_too_large)", async () => {
    const { w } = await emitterWorld({
      ...LLM,
      grant: { prices: { ...PRICES, max_input_tokens: 4 }, budget: { cents: 100 } },
    });
    try {
      const put = (content: string) => {
        const messages = encodeStored([{ role: "user", content }]);
        w.store.putBlobSync(messages);
        return Buffer.from(hashBytes(messages).slice("sha256:".length), "hex");
      };
      const call = (ref: Buffer) =>
        emitEvent("llm.generate", "ok", {
          provider: "local",
          model: "m",
          messages_ref: ref,
          max_tokens: 10,
          temperature: null,
        });
      await w.send("t/Emit@1", call(put("Four words fit here."))); // at the bound: performed
      await w.send("t/Emit@1", call(put("Five words do not fit."))); // one over: refused
      const receipts = (w.cellState("t/Agent@1", "agent") as { receipts: { status: string; payload: Uint8Array }[] })
        .receipts;
      expect(receipts.map((r) => r.status)).toEqual(["ok", "error"]);
      const refused = decodeStored(Uint8Array.from([0xd9, 0xd9, 0xf7, ...receipts[1]!.payload])) as CborObject;
      expect(refused).toMatchObject({ code: "input_too_large" });
      expect(String(refused.message)).toContain("the prompt has 5 tokens");
      expect(String(refused.message)).toContain("max_input_tokens 4");
    } finally {
      await w.close().catch(() => {});
    }
  }, 120_000);

  it("rounds up to a whole cent in integers, and a grant without prices costs nothing up front", () => {
    const grant = (prices?: typeof PRICES) => ({
      grant: { name: "g", cap: "sys/llm.basic@1", params: {}, ...(prices ? { prices } : {}) },
      capType: "llm.basic",
      params: {},
    });
    const p = (max_tokens: number | bigint) => ({ max_tokens });
    expect(pricedEstimate("llm.generate", p(1), grant({ ...PRICES, max_input_tokens: 0 }))).toEqual({
      tokens: 1,
      cents: 1,
    });
    expect(pricedEstimate("llm.generate", p(0), grant({ ...PRICES, max_input_tokens: 0 }))).toEqual({
      tokens: 0,
      cents: 0,
    });
    expect(pricedEstimate("llm.generate", p(1000), grant())).toEqual({ tokens: 1000, cents: 0 });
    expect(pricedEstimate("http.request", p(1000), grant(PRICES))).toEqual({ tokens: 0, cents: 0 });
    // Past 2^53 the estimate is held at the largest safe integer, beyond any budget.
    expect(pricedEstimate("llm.generate", p(2n ** 70n), grant(PRICES)).cents).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("without policy-cel-v1 the gate decides as before: no price, and a condition denies unevaluated", () => {
    const catalog = buildCatalogOrThrow([
      {
        file: "pay.air.json",
        value: paymentDefs([
          { when: { condition: "params.amount > 1000" }, decision: "require_approval" },
          { when: { effect_kind: "pay.send" }, decision: "allow" },
        ]),
      },
    ]);
    const input = (flags: readonly string[]) => ({
      catalog,
      worldId: "w",
      module: "t/Agent@1",
      key: "k",
      causeEventHash: hashBytes(new Uint8Array(1)),
      index: 0,
      effect: { kind: "pay.send", cap_slot: "ok", params: { to: "b", amount: 5000, parts: 1, memo: null } },
      nowNs: 0n,
      budgets: new BudgetLedger(),
      hooks: worldGateHooks(behaviourOf(flags)),
    });
    const old = KERNEL_FLAGS.filter((f) => f !== "policy-cel-v1");
    expect(decide(input(old))).toMatchObject({
      decision: "deny",
      code: "policy.condition_unsupported",
      ruleIndex: 0,
    });
    expect(decide(input(KERNEL_FLAGS))).toMatchObject({
      decision: "require_approval",
      code: "policy.require_approval",
      ruleIndex: 0,
    });
    const oldLlm = worldGateHooks(behaviourOf(old)).estimate("llm.generate", { max_tokens: 7 } as CborObject, {
      grant: { name: "g", cap: "c", params: {}, prices: PRICES },
      capType: "llm.basic",
      params: {},
    });
    expect(oldLlm).toEqual({ tokens: 7, cents: 0 });
  });
});
