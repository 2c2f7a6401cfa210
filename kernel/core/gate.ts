/**
 * @module The effect gate (DESIGN §6), pure: catalog → slot → grant → params → allowlists,
 * ceilings and expiry → budget → policy. Every intent gets one decision with the stage
 * that decided it, so the journal explains each allow, deny and approval hold.
 * Allowlist checks per cap type are injected (they live beside their adapters) so this
 * file stays free of I/O and of any adapter import.
 */
import { conformCbor } from "../../air/values/conform.js";
import { encodeCanonical } from "../../air/cbor/encode.js";
import { hashCanonical, type HashText } from "../../air/hash.js";
import type { AirCatalog, ResolvedGrant } from "../../air/loader.js";
import type { CborValue } from "../../air/cbor/value.js";
import type { CapGrant } from "../../air/schemas/defs.js";
import type { CellKey } from "./cells.js";
import type { EmittedEffect } from "./envelope.js";
import { intentKey } from "./intents.js";
import { evaluatePolicy } from "./policy.js";
import type { BudgetLedger } from "./budget.js";

/** A pure allowlist check for one cap type: null when allowed, else why not (`grant`: the whole grant, e.g. its secrets). */
export type GrantCheck = (
  kind: string,
  params: CborValue,
  grantParams: CborValue,
  grant?: CapGrant,
) => { code: string; message: string } | null;

/** Injected pure helpers: allowlist checks by cap type, a cost estimate, and whether policy conditions run. */
export interface GateHooks {
  checks: Readonly<Record<string, GrantCheck>>;
  estimate(kind: string, params: CborValue, grant: ResolvedGrant): { tokens: number; cents: number };
  /** policy-cel-v1: evaluate rules' CEL conditions (without it, a rule with one denies). */
  conditions: boolean;
  /** What a condition sees as `params` (mcp-v1: an `mcp.call`'s arguments decoded); absent: the canonical params. */
  conditionParams?: (kind: string, params: CborValue) => CborValue;
}

/** Where the gate decided. */
export type GateStage = "catalog" | "slot" | "params" | "grant" | "budget" | "policy";

/** The decision for one intent, as journaled in `policy_decision`. */
export interface GateDecision {
  intentId: HashText;
  decision: "allow" | "deny" | "require_approval";
  stage: GateStage;
  code: string;
  reason: string;
  grant: string | null;
  capType: string | null;
  policy: string | null;
  ruleIndex: number | null;
  /** Canonical params when they conformed, else the params as emitted. */
  params: CborValue;
  paramsHash: HashText;
  estimate: { tokens: number; cents: number };
}

/** Everything the gate looks at for one emitted effect. */
export interface GateInput {
  catalog: AirCatalog;
  worldId: string;
  module: string;
  key: CellKey;
  causeEventHash: HashText;
  index: number;
  effect: EmittedEffect;
  nowNs: bigint;
  budgets: BudgetLedger;
  hooks: GateHooks;
}

/** Decides one intent. Pure: same input, same decision, on every machine and in replay. */
export function decide(input: GateInput): GateDecision {
  const { catalog, effect, module } = input;
  // The intent id binds the canonical params when they conform, else the params as emitted.
  const idOf = (bytes: Uint8Array | null): HashText =>
    intentKey({
      worldId: input.worldId,
      module,
      key: input.key,
      kind: effect.kind,
      params: bytes,
      causeEventHash: input.causeEventHash,
      index: input.index,
    });
  const emitted = tryEncode(effect.params);
  const emittedHash = emitted === null ? NULL_HASH : hashCanonical(emitted);
  let base = {
    intentId: idOf(emitted),
    grant: null,
    capType: null,
    policy: null,
    ruleIndex: null,
    params: effect.params,
    paramsHash: emittedHash,
    estimate: { tokens: 0, cents: 0 },
  };
  const deny = (stage: GateStage, code: string, reason: string, extra: Partial<GateDecision> = {}): GateDecision => ({
    ...base,
    ...extra,
    decision: "deny",
    stage,
    code,
    reason,
  });

  const eff = catalog.effects.get(effect.kind);
  if (!eff) return deny("catalog", "gate.unknown_effect", `effect kind ${effect.kind} is not declared in the manifest`);
  const wf = catalog.modules.get(module)?.def.abi.workflow;
  if (wf?.effects_emitted && !wf.effects_emitted.includes(effect.kind)) {
    return deny("catalog", "gate.not_emittable", `${module} does not declare ${effect.kind} in effects_emitted`);
  }
  const slotType = wf?.cap_slots?.[effect.cap_slot];
  if (slotType === undefined) return deny("slot", "gate.no_slot", `${module} has no cap slot "${effect.cap_slot}"`);
  if (slotType !== eff.def.cap_type)
    return deny(
      "slot",
      "gate.slot_type",
      `slot "${effect.cap_slot}" is ${slotType}, ${effect.kind} needs ${eff.def.cap_type}`,
    );
  const grantName = catalog.manifest.module_bindings?.[module]?.slots[effect.cap_slot];
  const grant: ResolvedGrant | undefined = grantName === undefined ? undefined : catalog.grants.get(grantName);
  if (!grant)
    return deny("slot", "gate.unbound_slot", `slot "${effect.cap_slot}" of ${module} is not bound to a cap grant`);
  const withGrant = { grant: grant.grant.name, capType: grant.capType };

  let params: CborValue;
  try {
    params = conformCbor(catalog.schemas.get(eff.def.params_schema)!.expanded, effect.params, ["params"]);
  } catch (e) {
    return deny(
      "params",
      "gate.bad_params",
      `params do not match ${eff.def.params_schema}: ${(e as Error).message}`,
      withGrant,
    );
  }
  const canonical = encodeCanonical(params);
  base = { ...base, intentId: idOf(canonical) };
  const withParams = {
    ...withGrant,
    params,
    paramsHash: hashCanonical(canonical),
    estimate: input.hooks.estimate(effect.kind, params, grant),
  };

  if (grant.grant.expiry_ns !== undefined && input.nowNs >= BigInt(grant.grant.expiry_ns)) {
    return deny(
      "grant",
      "gate.grant_expired",
      `grant ${grant.grant.name} expired at ${grant.grant.expiry_ns} ns`,
      withParams,
    );
  }
  const check = input.hooks.checks[grant.capType];
  const denial = check ? check(effect.kind, params, grant.params, grant.grant) : null;
  if (denial) return deny("grant", denial.code, denial.message, withParams);

  const over = input.budgets.wouldExceed(grant, withParams.estimate);
  if (over) return deny("budget", "gate.budget_exhausted", over, withParams);

  const policyName = catalog.manifest.defaults?.policy;
  const verdict = evaluatePolicy(policyName === undefined ? undefined : catalog.policies.get(policyName)?.def, {
    effectKind: effect.kind,
    capName: grant.grant.name,
    capType: grant.capType,
    originKind: "workflow",
    originName: module,
    estimatedCents: withParams.estimate.cents,
    condition: input.hooks.conditions
      ? {
          params: input.hooks.conditionParams ? input.hooks.conditionParams(effect.kind, params) : params,
          originKind: "workflow",
          originName: module,
          key: input.key,
          effectKind: effect.kind,
          capName: grant.grant.name,
          capType: grant.capType,
          module,
          estimate: withParams.estimate,
        }
      : undefined,
  });
  const why =
    verdict.policy === null
      ? "no policy is set, so every effect is denied"
      : verdict.ruleIndex === null
        ? `no rule of ${verdict.policy} matches`
        : verdict.fault
          ? `rule ${verdict.ruleIndex} of ${verdict.policy}: its condition could not be evaluated, so the intent is denied: ${verdict.fault.message}`
          : `rule ${verdict.ruleIndex} of ${verdict.policy}`;
  return {
    ...base,
    ...withParams,
    decision: verdict.decision,
    stage: "policy",
    code: verdict.fault ? verdict.fault.code : `policy.${verdict.decision}`,
    reason: why,
    policy: verdict.policy,
    ruleIndex: verdict.ruleIndex,
  };
}

const NULL_HASH = hashCanonical(encodeCanonical(null));

/** Canonical bytes of what a module emitted, or null if it cannot even be encoded. */
function tryEncode(p: CborValue): Uint8Array | null {
  try {
    return encodeCanonical(p);
  } catch {
    return null;
  }
}
