/**
 * @module The authority diff of a proposal (kernel/world/authority-diff.ts), as a table: each
 * thing a patch can change — grant params, budgets and expiry, caps, effects, modules and their
 * limits, policy rules, approvers and threshold, the default policy, bindings, routing, secrets —
 * added, removed and changed, with whether it widens authority; then the canonical order, the
 * rules aligned as a sequence (a rule inserted does not shift the others into "changed"), and the
 * line `wk shadow` prints.
 */
import { describe, expect, it } from "vitest";
import type { AnyDef, Manifest } from "../../air/index.js";
import {
  authorityChanges,
  authorityLine,
  wideningCount,
  type AuthorityFinding,
  type AuthoritySide,
} from "../../kernel/world/authority-diff.js";

type Defs = Record<string, Record<string, unknown>>;
const KEY_A = "a".repeat(64);
const KEY_B = "b".repeat(64);
const HASH = (c: string) => `sha256:${c.repeat(64)}`;

/** The base world: an HTTP grant and an LLM grant with a budget, a module with limits and a slot, a policy with two rules. */
function base(): { defs: Defs; manifest: Record<string, unknown> } {
  return {
    defs: {
      http: {
        $kind: "defcap",
        name: "sys/http.out@1",
        cap_type: "http.out",
        schema: { ref: "sys/HttpOutCapParams@1" },
      },
      llm: {
        $kind: "defcap",
        name: "sys/llm.basic@1",
        cap_type: "llm.basic",
        schema: { ref: "sys/LlmBasicCapParams@1" },
      },
      cap: { $kind: "defcap", name: "demo/cap@1", cap_type: "demo.cap", schema: { record: {} } },
      effect: {
        $kind: "defeffect",
        name: "demo/effect@1",
        kind: "demo.effect",
        params_schema: "demo/P@1",
        receipt_schema: "demo/R@1",
        cap_type: "demo.cap",
        origin_scope: "workflow",
      },
      module: {
        $kind: "defmodule",
        name: "demo/M@1",
        module_kind: "workflow",
        wasm_hash: HASH("1"),
        abi: {
          workflow: {
            state: "demo/S@1",
            event: "demo/E@1",
            effects_emitted: ["http.request"],
            cap_slots: { net: "http.out" },
          },
        },
        limits: { fuel_per_step: 1000 },
      },
      policy: {
        $kind: "defpolicy",
        name: "demo/p@1",
        rules: [
          { when: { effect_kind: "http.request" }, decision: "allow" },
          { when: { effect_kind: "llm.generate" }, decision: "require_approval" },
        ],
        approvers: [{ id: "ops", public_key: KEY_A }],
        threshold: 2,
      },
      secret: { $kind: "defsecret", name: "demo/s@1", binding_id: "env:KEY", allowed_caps: ["web"] },
    },
    manifest: {
      $kind: "manifest",
      air_version: "1",
      schemas: [],
      modules: [{ name: "demo/M@1" }],
      effects: [{ name: "demo/effect@1" }],
      caps: [{ name: "sys/http.out@1" }, { name: "sys/llm.basic@1" }, { name: "demo/cap@1" }],
      policies: [{ name: "demo/p@1" }],
      defaults: {
        policy: "demo/p@1",
        cap_grants: [
          { name: "web", cap: "sys/http.out@1", params: { hosts: ["a.example"], methods: ["GET"] } },
          {
            name: "model",
            cap: "sys/llm.basic@1",
            params: { providers: ["local"], max_tokens: 256 },
            budget: { tokens: 1000 },
            expiry_ns: 5000,
          },
          { name: "custom", cap: "demo/cap@1", params: { limit: 3 } },
        ],
      },
      module_bindings: { "demo/M@1": { slots: { net: "web" } } },
      routing: {
        subscriptions: [{ event: "demo/E@1", module: "demo/M@1", key_field: "key" }],
        inboxes: [{ source: "mail", workflow: "demo/M@1" }],
      },
    },
  };
}

const side = (w: ReturnType<typeof base>): AuthoritySide => ({
  manifest: w.manifest as unknown as Manifest,
  sources: [...Object.values(w.defs), w.manifest] as unknown as AnyDef[],
});

/** The findings of `edit` applied to a copy of the base world. */
function diff(edit: (w: ReturnType<typeof base>) => void): AuthorityFinding[] {
  const next = base();
  edit(next);
  return authorityChanges(side(base()), side(next));
}

type M = Record<string, unknown> & {
  defaults: { policy?: string; cap_grants: Record<string, unknown>[] };
  module_bindings: Record<string, { slots: Record<string, string> }>;
  routing: { subscriptions: Record<string, unknown>[]; inboxes: Record<string, unknown>[] };
};
const man = (w: ReturnType<typeof base>) => w.manifest as M;
const grant = (w: ReturnType<typeof base>, name: string) =>
  man(w).defaults.cap_grants.find((g) => g.name === name) as Record<string, unknown> & {
    params: Record<string, unknown>;
    budget?: Record<string, unknown>;
  };
const params = (w: ReturnType<typeof base>, name: string) => grant(w, name).params;
const rules = (w: ReturnType<typeof base>) => w.defs.policy!.rules as Record<string, unknown>[];
const find = (
  kind: AuthorityFinding["kind"],
  name: string,
  change: AuthorityFinding["change"],
  path: string,
  before: unknown,
  after: unknown,
  widens: boolean | null,
): AuthorityFinding => ({ kind, name, change, path, before, after, widens });

const NEW_GRANT = { name: "extra", cap: "sys/http.out@1", params: { hosts: ["b.example"] } };
const ALLOW_LLM = { when: { effect_kind: "llm.generate" }, decision: "allow" };
const DENY_ALL = { when: {}, decision: "deny" };

const CASES: [string, (w: ReturnType<typeof base>) => void, AuthorityFinding[]][] = [
  // grants
  [
    "grant added",
    (w) => man(w).defaults.cap_grants.push(NEW_GRANT),
    [find("grant", "extra", "added", "$", null, NEW_GRANT, true)],
  ],
  [
    "grant removed",
    (w) => (man(w).defaults.cap_grants = man(w).defaults.cap_grants.filter((g) => g.name !== "web")),
    [
      find(
        "grant",
        "web",
        "removed",
        "$",
        { name: "web", cap: "sys/http.out@1", params: { hosts: ["a.example"], methods: ["GET"] } },
        null,
        false,
      ),
    ],
  ],
  [
    "grant hosts widened",
    (w) => (params(w, "web").hosts = ["a.example", "b.example"]),
    [find("grant", "web", "changed", "$.params.hosts", ["a.example"], ["a.example", "b.example"], true)],
  ],
  [
    "grant hosts narrowed",
    (w) => (params(w, "web").hosts = []),
    [find("grant", "web", "changed", "$.params.hosts", ["a.example"], [], false)],
  ],
  [
    "grant hosts dropped (any host)",
    (w) => delete params(w, "web").hosts,
    [find("grant", "web", "removed", "$.params.hosts", ["a.example"], null, true)],
  ],
  [
    "grant schemes allowlist added where any scheme was allowed",
    (w) => (params(w, "web").schemes = ["https"]),
    [find("grant", "web", "added", "$.params.schemes", null, ["https"], false)],
  ],
  [
    "grant allow_private added",
    (w) => (params(w, "web").allow_private = ["10.0.0.0/8"]),
    [find("grant", "web", "added", "$.params.allow_private", null, ["10.0.0.0/8"], true)],
  ],
  [
    "grant max_tokens raised",
    (w) => (params(w, "model").max_tokens = 4096),
    [find("grant", "model", "changed", "$.params.max_tokens", 256, 4096, true)],
  ],
  [
    "grant max_tokens lowered",
    (w) => (params(w, "model").max_tokens = 64n),
    [find("grant", "model", "changed", "$.params.max_tokens", 256, 64n, false)],
  ],
  [
    "grant max_tokens ceiling dropped",
    (w) => delete params(w, "model").max_tokens,
    [find("grant", "model", "removed", "$.params.max_tokens", 256, null, true)],
  ],
  [
    "grant prices declared (the estimate rises: budgets and cost ceilings admit less)",
    (w) =>
      (man(w).defaults.cap_grants.find((g) => g.name === "model")!.prices = {
        input_cents_per_1k_tokens: 1,
        output_cents_per_1k_tokens: 3,
        max_input_tokens: 1000,
      }),
    [
      find("grant", "model", "added", "$.prices.input_cents_per_1k_tokens", null, 1, false),
      find("grant", "model", "added", "$.prices.max_input_tokens", null, 1000, false),
      find("grant", "model", "added", "$.prices.output_cents_per_1k_tokens", null, 3, false),
    ],
  ],
  [
    "grant models allowlist added where any model was allowed",
    (w) => (params(w, "model").models = ["big"]),
    [find("grant", "model", "added", "$.params.models", null, ["big"], false)],
  ],
  [
    "grant param of a cap of unknown meaning",
    (w) => (params(w, "custom").limit = 4),
    [find("grant", "custom", "changed", "$.params.limit", 3, 4, null)],
  ],
  [
    "grant moved to another cap",
    (w) => (grant(w, "custom").cap = "sys/llm.basic@1"),
    [find("grant", "custom", "changed", "$.cap", "demo/cap@1", "sys/llm.basic@1", null)],
  ],
  [
    "grant expiry later",
    (w) => (grant(w, "model").expiry_ns = 9000),
    [find("grant", "model", "changed", "$.expiry_ns", 5000, 9000, true)],
  ],
  [
    "grant expiry earlier",
    (w) => (grant(w, "model").expiry_ns = 10),
    [find("grant", "model", "changed", "$.expiry_ns", 5000, 10, false)],
  ],
  [
    "grant expiry removed",
    (w) => delete grant(w, "model").expiry_ns,
    [find("grant", "model", "removed", "$.expiry_ns", 5000, null, true)],
  ],
  [
    "grant expiry added",
    (w) => (grant(w, "web").expiry_ns = 1),
    [find("grant", "web", "added", "$.expiry_ns", null, 1, false)],
  ],
  [
    "grant intent ttl above the 24 h default",
    (w) => (grant(w, "web").intent_ttl_ns = 100_000_000_000_000n),
    [find("grant", "web", "added", "$.intent_ttl_ns", null, 100_000_000_000_000n, true)],
  ],
  // budgets
  [
    "budget raised",
    (w) => (grant(w, "model").budget!.tokens = 5000),
    [find("budget", "model", "changed", "$.budget.tokens", 1000, 5000, true)],
  ],
  [
    "budget lowered",
    (w) => (grant(w, "model").budget!.tokens = 10),
    [find("budget", "model", "changed", "$.budget.tokens", 1000, 10, false)],
  ],
  [
    "budget removed",
    (w) => delete grant(w, "model").budget,
    [find("budget", "model", "removed", "$.budget.tokens", 1000, null, true)],
  ],
  [
    "budget added",
    (w) => (grant(w, "web").budget = { count: 10 }),
    [find("budget", "web", "added", "$.budget.count", null, 10, false)],
  ],
  // secrets a grant may use (absent: none)
  [
    "grant may send a secret in a header",
    (w) => (grant(w, "web").secrets = { headers: { Authorization: ["demo/api@1"] } }),
    [find("grant", "web", "added", "$.secrets.headers.Authorization", null, ["demo/api@1"], true)],
  ],
  [
    "grant gets an LLM api_key secret",
    (w) => (grant(w, "model").secrets = { api_key: "demo/llm@1" }),
    [find("grant", "model", "added", "$.secrets.api_key", null, "demo/llm@1", true)],
  ],
  // caps
  [
    "cap added",
    (w) => (w.defs.cap2 = { $kind: "defcap", name: "demo/cap2@1", cap_type: "demo.cap2", schema: { record: {} } }),
    [
      find(
        "cap",
        "demo/cap2@1",
        "added",
        "$",
        null,
        {
          $kind: "defcap",
          name: "demo/cap2@1",
          cap_type: "demo.cap2",
          schema: { record: {} },
        },
        true,
      ),
    ],
  ],
  ["cap removed", (w) => delete w.defs.cap, [find("cap", "demo/cap@1", "removed", "$", base().defs.cap, null, false)]],
  [
    "cap schema changed",
    (w) => (w.defs.cap!.schema = { ref: "demo/Params@1" }),
    [
      find("cap", "demo/cap@1", "removed", "$.schema.record", {}, null, null),
      find("cap", "demo/cap@1", "added", "$.schema.ref", null, "demo/Params@1", null),
    ],
  ],
  [
    "cap enforcer added",
    (w) => (w.defs.cap!.enforcer = { module: "demo/Enf@1" }),
    [find("cap", "demo/cap@1", "added", "$.enforcer.module", null, "demo/Enf@1", false)],
  ],
  // effects
  [
    "effect added",
    (w) => (w.defs.effect2 = { ...w.defs.effect, name: "demo/effect2@1", kind: "demo.effect2" }),
    [
      find(
        "effect",
        "demo/effect2@1",
        "added",
        "$",
        null,
        { ...base().defs.effect, name: "demo/effect2@1", kind: "demo.effect2" },
        true,
      ),
    ],
  ],
  [
    "effect removed",
    (w) => delete w.defs.effect,
    [find("effect", "demo/effect@1", "removed", "$", base().defs.effect, null, false)],
  ],
  [
    "effect origin scope widened",
    (w) => (w.defs.effect!.origin_scope = "both"),
    [find("effect", "demo/effect@1", "changed", "$.origin_scope", "workflow", "both", true)],
  ],
  [
    "effect described",
    (w) => (w.defs.effect!.description = "does things"),
    [find("effect", "demo/effect@1", "added", "$.description", null, "does things", false)],
  ],
  // modules and limits
  [
    "module added",
    (w) => (w.defs.m2 = { ...w.defs.module, name: "demo/M2@1" }),
    [find("module", "demo/M2@1", "added", "$", null, { ...base().defs.module, name: "demo/M2@1" }, true)],
  ],
  [
    "module removed",
    (w) => delete w.defs.module,
    [find("module", "demo/M@1", "removed", "$", base().defs.module, null, false)],
  ],
  [
    "module code changed",
    (w) => (w.defs.module!.wasm_hash = HASH("2")),
    [find("module", "demo/M@1", "changed", "$.wasm_hash", HASH("1"), HASH("2"), null)],
  ],
  [
    "module slot added",
    (w) =>
      ((w.defs.module!.abi as { workflow: { cap_slots: Record<string, string> } }).workflow.cap_slots.llm =
        "llm.basic"),
    [find("module", "demo/M@1", "added", "$.abi.workflow.cap_slots.llm", null, "llm.basic", true)],
  ],
  [
    "module emits another effect",
    (w) =>
      (w.defs.module!.abi as { workflow: { effects_emitted: string[] } }).workflow.effects_emitted.push("llm.generate"),
    [
      find(
        "module",
        "demo/M@1",
        "changed",
        "$.abi.workflow.effects_emitted",
        ["http.request"],
        ["http.request", "llm.generate"],
        true,
      ),
    ],
  ],
  [
    "limits raised",
    (w) => (w.defs.module!.limits = { fuel_per_step: 2000 }),
    [find("limits", "demo/M@1", "changed", "$.limits.fuel_per_step", 1000, 2000, true)],
  ],
  [
    "limits lowered",
    (w) => (w.defs.module!.limits = { fuel_per_step: 10 }),
    [find("limits", "demo/M@1", "changed", "$.limits.fuel_per_step", 1000, 10, false)],
  ],
  [
    "limits removed (the larger default)",
    (w) => delete w.defs.module!.limits,
    [find("limits", "demo/M@1", "removed", "$.limits.fuel_per_step", 1000, null, true)],
  ],
  [
    "limits added below the default",
    (w) => (w.defs.module!.limits = { fuel_per_step: 1000, memory_pages: 64 }),
    [find("limits", "demo/M@1", "added", "$.limits.memory_pages", null, 64, false)],
  ],
  [
    "limits added above the default",
    (w) => (w.defs.module!.limits = { fuel_per_step: 1000, memory_pages: 1024 }),
    [find("limits", "demo/M@1", "added", "$.limits.memory_pages", null, 1024, true)],
  ],
  // policies
  [
    "policy added",
    (w) => (w.defs.p2 = { $kind: "defpolicy", name: "demo/p2@1", rules: [] }),
    [find("policy", "demo/p2@1", "added", "$", null, { $kind: "defpolicy", name: "demo/p2@1", rules: [] }, true)],
  ],
  [
    "policy removed",
    (w) => delete w.defs.policy,
    [find("policy", "demo/p@1", "removed", "$", base().defs.policy, null, false)],
  ],
  [
    "policy approver added",
    (w) =>
      (w.defs.policy!.approvers = [
        { id: "ops", public_key: KEY_A },
        { id: "dev", public_key: KEY_B },
      ]),
    [find("policy", "demo/p@1", "added", "$.approvers[1]", null, { id: "dev", public_key: KEY_B }, true)],
  ],
  [
    "policy approver removed",
    (w) => (w.defs.policy!.approvers = []),
    [find("policy", "demo/p@1", "removed", "$.approvers[0]", { id: "ops", public_key: KEY_A }, null, false)],
  ],
  [
    "policy approver's key replaced",
    (w) => (w.defs.policy!.approvers = [{ id: "ops", public_key: KEY_B }]),
    [
      find("policy", "demo/p@1", "removed", "$.approvers[0]", { id: "ops", public_key: KEY_A }, null, false),
      find("policy", "demo/p@1", "added", "$.approvers[0]", null, { id: "ops", public_key: KEY_B }, true),
    ],
  ],
  [
    "policy approver renamed",
    (w) => (w.defs.policy!.approvers = [{ id: "ops2", public_key: KEY_A }]),
    [
      find(
        "policy",
        "demo/p@1",
        "changed",
        "$.approvers[0]",
        { id: "ops", public_key: KEY_A },
        { id: "ops2", public_key: KEY_A },
        false,
      ),
    ],
  ],
  [
    "policy threshold raised",
    (w) => (w.defs.policy!.threshold = 3),
    [find("policy", "demo/p@1", "changed", "$.threshold", 2, 3, false)],
  ],
  [
    "policy threshold lowered",
    (w) => (w.defs.policy!.threshold = 1),
    [find("policy", "demo/p@1", "changed", "$.threshold", 2, 1, true)],
  ],
  [
    "policy threshold dropped (1 of n)",
    (w) => delete w.defs.policy!.threshold,
    [find("policy", "demo/p@1", "removed", "$.threshold", 2, null, true)],
  ],
  [
    "policy accepts unsigned proposals",
    (w) => (w.defs.policy!.allow_unsigned_proposals = true),
    [find("policy", "demo/p@1", "added", "$.allow_unsigned_proposals", null, true, true)],
  ],
  [
    "policy invariant added",
    (w) => (w.defs.policy!.shadow_invariants = ["cells_unchanged"]),
    [find("policy", "demo/p@1", "added", "$.shadow_invariants", null, ["cells_unchanged"], false)],
  ],
  [
    "policy allow rule added",
    (w) => rules(w).push(ALLOW_LLM),
    [find("policy", "demo/p@1", "added", "$.rules[2]", null, ALLOW_LLM, true)],
  ],
  [
    "policy deny rule inserted first (the others stay)",
    (w) => rules(w).unshift(DENY_ALL),
    [find("policy", "demo/p@1", "added", "$.rules[0]", null, DENY_ALL, false)],
  ],
  [
    "policy allow rule removed",
    (w) => rules(w).shift(),
    [
      find(
        "policy",
        "demo/p@1",
        "removed",
        "$.rules[0]",
        { when: { effect_kind: "http.request" }, decision: "allow" },
        null,
        false,
      ),
    ],
  ],
  [
    "policy rule's decision moved to allow",
    (w) => (rules(w)[1]!.decision = "allow"),
    [
      find(
        "policy",
        "demo/p@1",
        "changed",
        "$.rules[1]",
        { when: { effect_kind: "llm.generate" }, decision: "require_approval" },
        ALLOW_LLM,
        true,
      ),
    ],
  ],
  [
    "policy rule's decision moved to deny",
    (w) => (rules(w)[0]!.decision = "deny"),
    [
      find(
        "policy",
        "demo/p@1",
        "changed",
        "$.rules[0]",
        { when: { effect_kind: "http.request" }, decision: "allow" },
        { when: { effect_kind: "http.request" }, decision: "deny" },
        false,
      ),
    ],
  ],
  [
    "policy allow rule matching more",
    (w) => (rules(w)[0]!.when = {}),
    [
      find(
        "policy",
        "demo/p@1",
        "changed",
        "$.rules[0]",
        { when: { effect_kind: "http.request" }, decision: "allow" },
        { when: {}, decision: "allow" },
        true,
      ),
    ],
  ],
  [
    "policy allow rule given a condition (matches less)",
    (w) => ((rules(w)[0]!.when as Record<string, unknown>).condition = "params.method == 'GET'"),
    [
      find(
        "policy",
        "demo/p@1",
        "changed",
        "$.rules[0]",
        { when: { effect_kind: "http.request" }, decision: "allow" },
        { when: { effect_kind: "http.request", condition: "params.method == 'GET'" }, decision: "allow" },
        false,
      ),
    ],
  ],
  [
    "default policy changed",
    (w) => {
      w.defs.p2 = { $kind: "defpolicy", name: "demo/p2@1", rules: [] };
      man(w).defaults.policy = "demo/p2@1";
    },
    [
      find("default_policy", "demo/p2@1", "changed", "$", "demo/p@1", "demo/p2@1", null),
      find("policy", "demo/p2@1", "added", "$", null, { $kind: "defpolicy", name: "demo/p2@1", rules: [] }, true),
    ],
  ],
  [
    "default policy dropped",
    (w) => delete man(w).defaults.policy,
    [find("default_policy", "demo/p@1", "removed", "$", "demo/p@1", null, false)],
  ],
  // bindings
  [
    "binding added",
    (w) => (man(w).module_bindings["demo/M@1"]!.slots.llm = "model"),
    [find("binding", "demo/M@1", "added", "$.slots.llm", null, "model", true)],
  ],
  [
    "binding removed",
    (w) => (man(w).module_bindings = {}),
    [find("binding", "demo/M@1", "removed", "$.slots.net", "web", null, false)],
  ],
  [
    "binding to another grant",
    (w) => (man(w).module_bindings["demo/M@1"]!.slots.net = "extra"),
    [find("binding", "demo/M@1", "changed", "$.slots.net", "web", "extra", null)],
  ],
  // routing
  [
    "route added",
    (w) => man(w).routing.subscriptions.push({ event: "demo/F@1", module: "demo/M@1" }),
    [find("routing", "demo/F@1 → demo/M@1", "added", "$", null, { event: "demo/F@1", module: "demo/M@1" }, true)],
  ],
  [
    "route removed",
    (w) => (man(w).routing.subscriptions = []),
    [
      find(
        "routing",
        "demo/E@1 → demo/M@1",
        "removed",
        "$",
        { event: "demo/E@1", module: "demo/M@1", key_field: "key" },
        null,
        false,
      ),
    ],
  ],
  [
    "route rekeyed",
    (w) => (man(w).routing.subscriptions[0]!.key_field = "id"),
    [find("routing", "demo/E@1 → demo/M@1", "changed", "$.key_field", "key", "id", null)],
  ],
  [
    "inbox added",
    (w) => man(w).routing.inboxes.push({ source: "sms", workflow: "demo/M@1" }),
    [find("routing", "inbox sms", "added", "$", null, { source: "sms", workflow: "demo/M@1" }, true)],
  ],
  // secrets
  [
    "secret added",
    (w) => (w.defs.s2 = { $kind: "defsecret", name: "demo/s2@1", binding_id: "env:OTHER" }),
    [
      find(
        "secret",
        "demo/s2@1",
        "added",
        "$",
        null,
        { $kind: "defsecret", name: "demo/s2@1", binding_id: "env:OTHER" },
        true,
      ),
    ],
  ],
  [
    "secret removed",
    (w) => delete w.defs.secret,
    [find("secret", "demo/s@1", "removed", "$", base().defs.secret, null, false)],
  ],
  [
    "secret open to every cap",
    (w) => delete w.defs.secret!.allowed_caps,
    [find("secret", "demo/s@1", "removed", "$.allowed_caps", ["web"], null, true)],
  ],
  // nothing
  ["nothing changed", () => undefined, []],
];

describe("authority changes between two manifests", () => {
  it.each(CASES)("%s", (_label, edit, expected) => {
    expect(diff(edit)).toEqual(expected);
  });

  it("a lower declared price widens (the estimate falls), a higher one does not, dropping prices widens", () => {
    const priced = (input: number) => {
      const w = base();
      grant(w, "model").prices = {
        input_cents_per_1k_tokens: input,
        output_cents_per_1k_tokens: 3,
        max_input_tokens: 10,
      };
      return w;
    };
    const unpriced = base();
    const at = (b: ReturnType<typeof base>, a: ReturnType<typeof base>) =>
      authorityChanges(side(b), side(a)).map((f) => [f.path, f.widens]);
    expect(at(priced(5), priced(2))).toEqual([["$.prices.input_cents_per_1k_tokens", true]]);
    expect(at(priced(2), priced(5))).toEqual([["$.prices.input_cents_per_1k_tokens", false]]);
    expect(at(priced(2), unpriced)).toEqual([
      ["$.prices.input_cents_per_1k_tokens", true],
      ["$.prices.max_input_tokens", true],
      ["$.prices.output_cents_per_1k_tokens", true],
    ]);
  });

  it("lists every change of a patch in canonical order: kind, then name, then path", () => {
    const found = diff((w) => {
      man(w).routing.inboxes = [];
      w.defs.module!.limits = { fuel_per_step: 5000 };
      params(w, "web").hosts = ["*"];
      params(w, "model").max_tokens = 1024;
      grant(w, "model").budget = { tokens: 2000 };
      w.defs.policy!.threshold = 3;
    });
    expect(found.map((f) => `${f.kind} ${f.name} ${f.path}`)).toEqual([
      "policy demo/p@1 $.threshold",
      "grant model $.params.max_tokens",
      "grant web $.params.hosts",
      "budget model $.budget.tokens",
      "limits demo/M@1 $.limits.fuel_per_step",
      "routing inbox mail $",
    ]);
    expect(wideningCount(found)).toBe(4);
    // Deterministic: the same inputs give the same list, whatever the order of the defs.
    const next = base();
    params(next, "web").hosts = ["*"];
    const shuffled = side(next);
    shuffled.sources = [...shuffled.sources].reverse();
    expect(authorityChanges(side(base()), shuffled)).toEqual(authorityChanges(side(base()), side(next)));
  });

  it("prints one line a finding, marked when it widens or needs review", () => {
    const [hosts] = diff((w) => (params(w, "web").hosts = ["a.example", "b.example"]));
    expect(authorityLine(hosts!)).toBe('WIDENS grant web $.params.hosts: ["a.example"] → ["a.example","b.example"]');
    const [code] = diff((w) => (w.defs.module!.wasm_hash = HASH("2")));
    expect(authorityLine(code!)).toMatch(/^REVIEW module demo\/M@1 \$\.wasm_hash: "sha256:1{64}" → "sha256:2{64}"$/);
    const [gone] = diff((w) => (man(w).module_bindings = {}));
    expect(authorityLine(gone!)).toBe('       binding demo/M@1 $.slots.net: removed "web"');
    const [added] = diff((w) =>
      man(w).defaults.cap_grants.push({ ...NEW_GRANT, params: { hosts: ["x".repeat(200)] } }),
    );
    expect(authorityLine(added!)).toMatch(/^WIDENS grant extra \$: added \{.*…$/);
    expect(authorityLine(added!).length).toBeLessThan(160);
  });
});
