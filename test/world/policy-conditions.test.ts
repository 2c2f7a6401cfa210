/**
 * @module Policies on parameters (issue 23, item 4), on real worlds: a CEL condition over an
 * intent's canonical params holds an over-threshold payment for approval and lets the one under
 * it out; a condition that cannot be evaluated denies (it never falls through to a later allow);
 * a bad condition is refused at load with its JSON path; replay decides the same.
 */
import { describe, expect, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { hashDef, buildCatalogOrThrow, type AnyDef, type DefPolicy } from "../../air/index.js";
import { KERNEL_FLAGS, behaviourOf } from "../../kernel/transition/flags.js";
import { conditionsUnsupported } from "../../kernel/world/governance.js";
import { propose, replayWorld, verifyWorld } from "../../kernel/world/index.js";
import { checkPaymentDefs, gateDecisions, payEvent, paymentDefs, paymentsWorld } from "./fixtures/payments.js";

const OVER_1000_NEEDS_APPROVAL = [
  { when: { effect_kind: "pay.send", condition: "params.amount > 1000" }, decision: "require_approval" },
  { when: { effect_kind: "pay.send" }, decision: "allow" },
];

describe("policy conditions on parameters", () => {
  it("params.amount > 1000 holds the large payment for approval and allows the small one", async () => {
    const ops = generateKeyPair();
    const { w, dir, paid } = await paymentsWorld(OVER_1000_NEEDS_APPROVAL, [
      { id: "ops", public_key: ops.publicKeyHex },
    ]);
    try {
      await w.send("t/Emit@1", payEvent("alice", { to: "bob", amount: 500, parts: 1, memo: null }));
      await w.send("t/Emit@1", payEvent("alice", { to: "eve", amount: 1500, parts: 1, memo: null }));
      expect(paid.map((p) => p.amount)).toEqual([500]);
      const held = [...w.state.pending.values()];
      expect(held.map((p) => [p.waiting, (p.params as { amount: number }).amount])).toEqual([["approval", 1500]]);
      // The decision names the rule that decided, for `wk trace`.
      expect((await gateDecisions(w)).map((d) => [d.decision, d.code, d.policy, d.rule_index])).toEqual([
        ["allow", "policy.allow", "t/p@1", 1],
        ["require_approval", "policy.require_approval", "t/p@1", 0],
      ]);
      await w.decideHeldIntent(held[0]!.intentId, ops, "allow");
      expect(paid.map((p) => p.amount)).toEqual([500, 1500]);
      const root = w.stateRefs().state_root;
      await w.close();
      expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
    } finally {
      await w.close().catch(() => {});
    }
  }, 120_000);

  it("a condition that cannot give a bool denies, naming the rule, instead of falling through to allow", async () => {
    const rules = [
      // Per-part amount: parts = 0 divides by zero; a missing memo is null, a present one text.
      { when: { condition: "params.amount / params.parts > 1000" }, decision: "require_approval" },
      { when: { condition: "params.memo == null || params.memo.size() < 10" }, decision: "allow" },
      { when: { effect_kind: "pay.send" }, decision: "allow" },
    ];
    const { w, dir, paid } = await paymentsWorld(rules);
    try {
      await w.send("t/Emit@1", payEvent("a", { to: "bob", amount: 500, parts: 0, memo: null }));
      await w.send("t/Emit@1", payEvent("a", { to: "bob", amount: 900, parts: 3, memo: "rent" }));
      const ds = await gateDecisions(w);
      expect(ds.map((d) => [d.decision, d.stage, d.code, d.rule_index])).toEqual([
        ["deny", "policy", "policy.condition_error", 0],
        ["allow", "policy", "policy.allow", 1],
      ]);
      expect(ds[0]!.reason).toBe(
        "rule 0 of t/p@1: its condition could not be evaluated, so the intent is denied: int divide by zero",
      );
      expect(paid.map((p) => p.amount)).toEqual([900]);
      const root = w.stateRefs().state_root;
      await w.close();
      expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
      expect(await verifyWorld(worldPaths(dir).journal)).toMatchObject({ ok: true });
    } finally {
      await w.close().catch(() => {});
    }
  }, 120_000);

  it("conditions see the cell key and the origin", async () => {
    const rules = [
      {
        when: { condition: "key == 'treasury' && origin.kind == 'workflow' && module == 't/Agent@1'" },
        decision: "allow",
      },
    ];
    const { w, paid } = await paymentsWorld(rules);
    try {
      await w.send("t/Emit@1", payEvent("treasury", { to: "bob", amount: 5, parts: 1, memo: null }));
      await w.send("t/Emit@1", payEvent("intern", { to: "bob", amount: 6, parts: 1, memo: null }));
      expect(paid.map((p) => p.amount)).toEqual([5]);
      expect((await gateDecisions(w)).map((d) => d.code)).toEqual(["policy.allow", "policy.deny"]);
    } finally {
      await w.close();
    }
  }, 120_000);

  it("governance: a patch may add a condition under policy-cel-v1; a world without the flag refuses it", async () => {
    const { w } = await paymentsWorld([{ when: { effect_kind: "pay.send" }, decision: "allow" }]);
    try {
      const policy = w.catalog.policies.get("t/p@1")!.def;
      const next: DefPolicy = {
        ...policy,
        rules: [{ when: { condition: "params.amount > 1000" }, decision: "require_approval" }, ...policy.rules],
      };
      const doc = {
        base_manifest_hash: w.catalog.manifestHash,
        patches: [
          { replace_def: { kind: "defpolicy", name: "t/p@1", new_node: next, pre_hash: hashDef(policy as AnyDef) } },
        ],
      };
      await expect(propose(w, doc, { proposer: generateKeyPair() })).resolves.toMatchObject({
        proposalId: expect.stringMatching(/^sha256:/),
      });
    } finally {
      await w.close();
    }
    const catalog = buildCatalogOrThrow([
      { file: "pay.air.json", value: paymentDefs([{ when: { condition: "params.amount > 1" }, decision: "allow" }]) },
    ]);
    const old = behaviourOf(KERNEL_FLAGS.filter((f) => f !== "policy-cel-v1"));
    expect(conditionsUnsupported(old, catalog)).toMatchObject({ code: "governance.condition_unsupported" });
    expect(conditionsUnsupported(behaviourOf(KERNEL_FLAGS), catalog)).toBeNull();
  }, 120_000);

  it("a bad condition is refused at load (wk air check) with its JSON path", () => {
    const bad = (condition: string) => checkPaymentDefs([{ when: { condition }, decision: "allow" }]);
    const cases: [string, RegExp][] = [
      ["params.amount >", /CEL syntax error/],
      ["parms.amount > 1", /unknown variable "parms"/],
      ["params.amount + 1", /must give a bool.*_\+_/],
      ["'yes'", /must give a bool/],
      ["timestamp('2024-03-10T07:30:00Z').getHours('America/New_York') > 2", /getHours\(\) depends on the host/],
    ];
    for (const [condition, message] of cases) {
      const r = bad(condition);
      expect(r.ok, condition).toBe(false);
      if (r.ok) continue;
      expect(r.issues, condition).toEqual([
        expect.objectContaining({
          code: "air.bad_condition",
          path: "$[7].rules[0].when.condition",
          file: "pay.air.json",
          message: expect.stringMatching(message),
        }),
      ]);
    }
    // Comprehension variables are in scope inside their macro, and `has` tests presence.
    expect(bad("[1, 2].all(x, x > 0) && has(params.memo)")).toEqual({ ok: true });
  });
});
