/**
 * @module Zod schemas for every AIR def kind; the TypeScript types are inferred from them.
 * Shapes follow AgentOS AIR v1; worldkernel extensions are marked (module limits, policy
 * `require_approval`, richer matches and approvers).
 */
import { z } from "zod";
import { CapTypeSchema, EffectKindSchema, HashTextSchema, IdentSchema, NameSchema, TypeExprSchema } from "./common.js";

const comment = { $comment: z.string().optional() };
const nat = z.union([z.number().int().min(0), z.bigint().min(0n)]);

/** `defschema`: a named type. */
export const DefSchemaSchema = z.strictObject({
  $kind: z.literal("defschema"),
  name: NameSchema,
  type: TypeExprSchema,
  ...comment,
});

/** Per-module resource ceilings (worldkernel extension). */
export const ModuleLimitsSchema = z.strictObject({
  memory_pages: z.number().int().min(1).max(65536).optional(),
  fuel_per_step: z.number().int().min(1).optional(),
  max_output_bytes: z.number().int().min(1).optional(),
});

/** `defmodule`: a WASM module with its ABI, key schema and limits. */
export const DefModuleSchema = z
  .strictObject({
    $kind: z.literal("defmodule"),
    name: NameSchema,
    module_kind: z.enum(["workflow", "pure"]),
    wasm_hash: HashTextSchema,
    key_schema: NameSchema.optional(),
    abi: z.strictObject({
      workflow: z
        .strictObject({
          state: NameSchema,
          event: NameSchema,
          context: NameSchema.optional(),
          annotations: NameSchema.optional(),
          effects_emitted: z.array(EffectKindSchema).optional(),
          cap_slots: z.record(IdentSchema, CapTypeSchema).optional(),
        })
        .optional(),
      pure: z.strictObject({ input: NameSchema, output: NameSchema, context: NameSchema.optional() }).optional(),
    }),
    limits: ModuleLimitsSchema.optional(),
    ...comment,
  })
  .superRefine((m, ctx) => {
    if (m.module_kind === "workflow" && !m.abi.workflow)
      ctx.addIssue({ code: "custom", message: "a workflow module needs abi.workflow", path: ["abi", "workflow"] });
    if (m.module_kind === "pure" && !m.abi.pure)
      ctx.addIssue({ code: "custom", message: "a pure module needs abi.pure", path: ["abi", "pure"] });
  });

/** `defeffect`: an effect kind with its params/receipt schemas and guarding cap type. */
export const DefEffectSchema = z.strictObject({
  $kind: z.literal("defeffect"),
  name: NameSchema,
  kind: EffectKindSchema,
  params_schema: NameSchema,
  receipt_schema: NameSchema,
  cap_type: CapTypeSchema,
  origin_scope: z.enum(["workflow", "plan", "system", "both"]),
  description: z.string().optional(),
  ...comment,
});

/** `defcap`: a capability type and the schema of its grants' params. */
export const DefCapSchema = z.strictObject({
  $kind: z.literal("defcap"),
  name: NameSchema,
  cap_type: CapTypeSchema,
  schema: TypeExprSchema,
  enforcer: z.strictObject({ module: NameSchema }).optional(),
  ...comment,
});

/**
 * A policy match: every present field must hold (worldkernel adds `module`, `cost_over_cents`
 * and `condition`, a CEL expression over the intent that must evaluate to true: air/policy-condition.ts).
 */
export const PolicyMatchSchema = z.strictObject({
  effect_kind: EffectKindSchema.optional(),
  cap_name: IdentSchema.optional(),
  cap_type: CapTypeSchema.optional(),
  origin_kind: z.enum(["workflow", "system", "governance"]).optional(),
  origin_name: NameSchema.optional(),
  module: NameSchema.optional(),
  cost_over_cents: nat.optional(),
  condition: z.string().min(1).optional(),
});

/** One ordered policy rule: a match and a decision. */
export const PolicyRuleSchema = z.strictObject({
  when: PolicyMatchSchema,
  decision: z.enum(["allow", "deny", "require_approval"]),
  ...comment,
});

/** An approver named by a policy: an id and its ed25519 public key (64 hex). */
export const ApproverSchema = z.strictObject({
  id: IdentSchema,
  public_key: z.string().regex(/^[0-9a-f]{64}$/, "expected 64 hex digits"),
});

/** `defpolicy`: ordered rules (first match wins, none denies), optional approvers and threshold. */
export const DefPolicySchema = z
  .strictObject({
    $kind: z.literal("defpolicy"),
    name: NameSchema,
    rules: z.array(PolicyRuleSchema),
    approvers: z.array(ApproverSchema).optional(),
    threshold: z.number().int().min(1).optional(),
    /** Governance: accept proposals nobody signed (default false: a proposal is signed by its proposer's key or comes from a module's `governance.propose` effect). */
    allow_unsigned_proposals: z.boolean().optional(),
    /**
     * Governance: what a shadow run of a proposal must not show, each broken one a failure that
     * blocks approval and apply like a failing step: `cells_unchanged` (no cell ends differently),
     * `no_new_intents` (no intent the world did not issue), `no_decision_changes` (no gate decision changes).
     */
    shadow_invariants: z.array(z.enum(["cells_unchanged", "no_new_intents", "no_decision_changes"])).optional(),
    /**
     * Governance: what `wk shadow` runs when it is given nothing else — the last `shadow_window`
     * ingress events on today's state, or the world re-run since seq `shadow_since` (one of the two;
     * neither: since genesis, the whole history).
     */
    shadow_window: z.number().int().min(1).optional(),
    shadow_since: z.number().int().min(0).optional(),
    ...comment,
  })
  .superRefine((p, ctx) => {
    if (p.shadow_window !== undefined && p.shadow_since !== undefined)
      ctx.addIssue({ code: "custom", message: "give shadow_window or shadow_since, not both", path: ["shadow_since"] });
  });

/** `defsecret`: a secret named by a binding id; the value never enters AIR or the journal. */
export const DefSecretSchema = z.strictObject({
  $kind: z.literal("defsecret"),
  name: NameSchema,
  binding_id: z.string(),
  expected_digest: HashTextSchema.optional(),
  allowed_caps: z.array(IdentSchema).optional(),
  ...comment,
});

/** An HTTP header name (RFC 9110 token). */
const HeaderNameSchema = z.string().regex(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/, "expected an HTTP header name");

/**
 * Which `defsecret`s a grant lets its adapter use, by name (worldkernel extension): `headers`
 * maps an HTTP header name to the secrets an intent may place in it (`{secret:NAME}` in the
 * header's value); `api_key` names the secret an LLM provider is called with. Absent: none.
 */
export const GrantSecretsSchema = z.strictObject({
  headers: z.record(HeaderNameSchema, z.array(NameSchema)).optional(),
  api_key: NameSchema.optional(),
});

/**
 * What an LLM grant's calls cost (worldkernel extension, read by the gate's estimate under
 * `policy-cel-v1`): cents per 1,000 input and output tokens, and the input size the estimate
 * assumes (the prompt lives in the CAS, where the pure gate cannot measure it).
 */
export const GrantPricesSchema = z.strictObject({
  input_cents_per_1k_tokens: nat,
  output_cents_per_1k_tokens: nat,
  max_input_tokens: nat,
});

/** A grant of a capability: concrete params for a defcap, optional expiry (worldkernel adds budgets, secrets and prices). */
export const CapGrantSchema = z.strictObject({
  name: IdentSchema,
  cap: NameSchema,
  params: z.unknown(),
  expiry_ns: nat.optional(),
  /** How long an intent under this grant stays valid (from its step's time); past it, a held or re-dispatched intent gets an `expired` receipt. Default 24 h. */
  intent_ttl_ns: nat.optional(),
  budget: z.strictObject({ count: nat.optional(), tokens: nat.optional(), cents: nat.optional() }).optional(),
  secrets: GrantSecretsSchema.optional(),
  prices: GrantPricesSchema.optional(),
});

/** Manifest refs: `hash` may be omitted when authoring; the loader fills it. */
export const NamedRefSchema = z.strictObject({ name: NameSchema, hash: HashTextSchema.optional() });

/** A routing subscription: event schema → workflow module, optionally keyed. */
export const SubscriptionSchema = z.strictObject({
  event: NameSchema,
  module: NameSchema,
  key_field: z.string().optional(),
});

/** The manifest: every def the world uses, defaults, bindings and routing. */
export const ManifestSchema = z.strictObject({
  $kind: z.literal("manifest"),
  air_version: z.literal("1"),
  schemas: z.array(NamedRefSchema),
  modules: z.array(NamedRefSchema),
  effects: z.array(NamedRefSchema),
  caps: z.array(NamedRefSchema),
  policies: z.array(NamedRefSchema),
  secrets: z.array(NamedRefSchema).optional(),
  effect_bindings: z.array(z.strictObject({ kind: EffectKindSchema, adapter_id: EffectKindSchema })).optional(),
  defaults: z
    .strictObject({ policy: NameSchema.optional(), cap_grants: z.array(CapGrantSchema).optional() })
    .optional(),
  module_bindings: z.record(NameSchema, z.strictObject({ slots: z.record(IdentSchema, IdentSchema) })).optional(),
  routing: z
    .strictObject({
      subscriptions: z.array(SubscriptionSchema).optional(),
      inboxes: z.array(z.strictObject({ source: z.string(), workflow: NameSchema })).optional(),
    })
    .optional(),
  ...comment,
});

export type DefSchema = z.infer<typeof DefSchemaSchema>;
export type DefModule = z.infer<typeof DefModuleSchema>;
export type DefEffect = z.infer<typeof DefEffectSchema>;
export type DefCap = z.infer<typeof DefCapSchema>;
export type DefPolicy = z.infer<typeof DefPolicySchema>;
export type DefSecret = z.infer<typeof DefSecretSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;
export type CapGrant = z.infer<typeof CapGrantSchema>;
export type GrantSecrets = z.infer<typeof GrantSecretsSchema>;
export type GrantPrices = z.infer<typeof GrantPricesSchema>;
export type PolicyRule = z.infer<typeof PolicyRuleSchema>;
export type PolicyMatch = z.infer<typeof PolicyMatchSchema>;
export type Subscription = z.infer<typeof SubscriptionSchema>;
export type ModuleLimits = z.infer<typeof ModuleLimitsSchema>;

/** Any def other than the manifest. */
export type Def = DefSchema | DefModule | DefEffect | DefCap | DefPolicy | DefSecret;
export type AnyDef = Def | Manifest;

/** The zod schema for each def kind. */
export const DEF_SCHEMAS = {
  defschema: DefSchemaSchema,
  defmodule: DefModuleSchema,
  defeffect: DefEffectSchema,
  defcap: DefCapSchema,
  defpolicy: DefPolicySchema,
  defsecret: DefSecretSchema,
  manifest: ManifestSchema,
} as const;
