/**
 * @module Gate decisions/s (catalog → slot → params → allowlists → budget → policy, plus
 * the intent id) for an http.request intent, against a same-run baseline of node:crypto
 * sha256 over the same canonical params (the floor for computing any intent id); and the cost
 * of a CEL policy condition per decision (issue 23): the same payment intent decided under a
 * policy whose first rule carries a condition, beside today's gate with no condition.
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { encodeCanonical } from "../../air/index.js";
import { BudgetLedger } from "../../kernel/core/budget.js";
import { decide } from "../../kernel/core/gate.js";
import { sourceFromAirDir } from "../../kernel/world/index.js";
import { worldGateHooks } from "../../kernel/world/gate-rules.js";
import { KERNEL_FLAGS, behaviourOf } from "../../kernel/transition/flags.js";
import { buildCatalogOrThrow } from "../../air/index.js";
import { paymentDefs } from "../../test/world/fixtures/payments.js";
import { compare, measure, type Bench } from "./harness.js";

export const benchmarks: Bench[] = [
  {
    name: "gate: decisions/s for http.request",
    async run() {
      const { catalog } = sourceFromAirDir(
        fileURLToPath(new URL("../../test/fixtures/worlds/fetcher", import.meta.url)),
      );
      const params = { method: "GET", url: "http://127.0.0.1:8080/page/1", headers: {}, body_ref: null };
      const hooks = worldGateHooks(behaviourOf(KERNEL_FLAGS));
      const budgets = new BudgetLedger();
      const input = {
        catalog,
        worldId: "bench-world",
        module: "demo/Fetcher@1",
        key: "cell-1",
        causeEventHash: `sha256:${"1".repeat(64)}` as const,
        index: 0,
        effect: { kind: "http.request", params, cap_slot: "net" },
        nowNs: 1_795_435_200_000_000_000n,
        budgets,
        hooks,
      };
      const d = decide(input);
      if (d.decision !== "allow") throw new Error(`bench intent not allowed: ${d.reason}`);
      const bytes = encodeCanonical(params);
      const baseline = await measure(
        "node:crypto sha256 of the canonical params",
        () => createHash("sha256").update(bytes).digest(),
        { minMs: 1000 },
      );
      const figure = await measure("gate decide (allow, full path)", () => decide(input), { minMs: 1500 });
      return { name: "gate: decisions/s for http.request", figure, baseline };
    },
  },
  {
    name: "gate: policy evaluation per decision, CEL condition vs none",
    async run() {
      const hooks = worldGateHooks(behaviourOf(KERNEL_FLAGS));
      const allow = { when: { effect_kind: "pay.send" }, decision: "allow" };
      const held = {
        when: { effect_kind: "pay.send", condition: "params.amount > 1000 && origin.kind == 'workflow'" },
        decision: "require_approval",
      };
      const inputOf = (rules: unknown[]) => ({
        catalog: buildCatalogOrThrow([{ file: "pay.air.json", value: paymentDefs(rules) }]),
        worldId: "bench-world",
        module: "t/Agent@1",
        key: "cell-1",
        causeEventHash: `sha256:${"1".repeat(64)}` as const,
        index: 0,
        // Under the threshold: the condition is evaluated (false) and the next rule allows.
        effect: { kind: "pay.send", params: { to: "bob", amount: 500, parts: 1, memo: null }, cap_slot: "ok" },
        nowNs: 1_795_435_200_000_000_000n,
        budgets: new BudgetLedger(),
        hooks,
      });
      const withCondition = inputOf([held, allow]);
      const without = inputOf([allow]);
      for (const i of [withCondition, without]) {
        const d = decide(i);
        if (d.decision !== "allow") throw new Error(`bench intent not allowed: ${d.reason}`);
      }
      const [figure, baseline] = compare(
        { label: "gate decide, policy with a CEL condition", fn: () => decide(withCondition) },
        { label: "gate decide, policy without one (today's gate)", fn: () => decide(without) },
      );
      const us = (r: { opsPerSec: number }) => 1e6 / r.opsPerSec;
      return {
        name: "gate: policy evaluation per decision, CEL condition vs none",
        figure,
        baseline,
        extra: { "µs added per decision by the condition": Number((us(figure) - us(baseline)).toFixed(2)) },
      };
    },
  },
];
