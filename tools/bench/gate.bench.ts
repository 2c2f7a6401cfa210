/**
 * @module Gate decisions/s (catalog → slot → params → allowlists → budget → policy, plus
 * the intent id) for an http.request intent, against a same-run baseline of node:crypto
 * sha256 over the same canonical params (the floor for computing any intent id).
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { encodeCanonical } from "../../air/index.js";
import { BudgetLedger } from "../../kernel/core/budget.js";
import { decide } from "../../kernel/core/gate.js";
import { sourceFromAirDir } from "../../kernel/world/index.js";
import { worldGateHooks } from "../../kernel/world/gate-rules.js";
import { KERNEL_FLAGS, behaviourOf } from "../../kernel/transition/flags.js";
import { measure, type Bench } from "./harness.js";

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
];
