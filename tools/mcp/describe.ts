/**
 * @module `describe_world`: what an agent needs before it sends anything — the events the world
 * routes (each with the JSON Schema of its value, air/values/type-json-schema.ts), the other
 * schemas it accepts, its modules, the effects it may emit and the grants that bound them, and
 * the policy in force (its rules, approvers and threshold, whether unsigned proposals are
 * taken). Read from the manifest in force, so it changes when a proposal is applied.
 */
import type { AirCatalog } from "../../air/loader.js";
import { typeJsonSchema } from "../../air/values/type-json-schema.js";
import { jsonView } from "../../kernel/world/json-view.js";
import { governancePolicyOf } from "../../kernel/world/governance-rules.js";

/** A world's manifest as `describe_world` answers it. */
export function describeCatalog(id: string, catalog: AirCatalog): Record<string, unknown> {
  const subs = catalog.manifest.routing?.subscriptions ?? [];
  const routed = [...new Set(subs.map((s) => s.event))];
  const schemaOf = (name: string) => {
    const s = catalog.schemas.get(name);
    return s === undefined ? null : typeJsonSchema(s.expanded);
  };
  const policyName = catalog.manifest.defaults?.policy ?? null;
  const gov = governancePolicyOf(catalog);
  return {
    id,
    manifest_hash: catalog.manifestHash,
    events: routed.map((schema) => ({
      schema,
      routed_to: subs
        .filter((s) => s.event === schema)
        .map((s) => ({ module: s.module, ...(s.key_field === undefined ? {} : { key_field: s.key_field }) })),
      json_schema: schemaOf(schema),
    })),
    // Accepted at ingress too (any schema of the manifest is), though no module subscribes to them.
    other_schemas: [...catalog.schemas.keys()].filter((n) => !n.startsWith("sys/") && !routed.includes(n)),
    modules: [...catalog.modules.values()].map(({ def }) => ({
      name: def.name,
      kind: def.module_kind,
      ...(def.abi.workflow
        ? {
            state: def.abi.workflow.state,
            event: def.abi.workflow.event,
            effects_emitted: def.abi.workflow.effects_emitted ?? [],
            cap_slots: def.abi.workflow.cap_slots ?? {},
          }
        : {}),
      ...(def.abi.pure ? { input: def.abi.pure.input, output: def.abi.pure.output } : {}),
      ...(def.limits ? { limits: def.limits } : {}),
    })),
    effects: [...catalog.effects.keys()],
    grants: [...catalog.grants.entries()].map(([name, g]) => ({ name, cap: g.grant.cap, params: jsonView(g.params) })),
    policy: {
      name: policyName,
      rules: policyName === null ? [] : (catalog.policies.get(policyName)?.def.rules ?? []),
      approvers: gov.approvers,
      threshold: gov.threshold,
      allow_unsigned_proposals: gov.allowUnsigned,
      shadow_invariants: gov.invariants,
    },
    other_policies: [...catalog.policies.keys()].filter((n) => n !== policyName),
  };
}
