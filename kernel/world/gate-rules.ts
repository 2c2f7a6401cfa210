/**
 * @module The gate's rules for a world: the allowlist checks of the built-in cap types (hosts,
 * methods, private and loopback addresses, models, token ceilings, …) and the cost estimate the
 * budget reserves. They belong to the world, never to whoever opens it: the kernel flags in its
 * genesis select them (`gate-v1`, `world-rules-v1`), so live execution, cold start, replay,
 * shadow and audit decide alike however a library caller opened the world.
 */
import { isCborObject } from "../../air/cbor/value.js";
import { GRANT_CHECKS, GRANT_CHECKS_SECRETS } from "../adapters/grant-checks.js";
import type { GateHooks } from "../core/gate.js";
import type { Behaviour } from "../transition/flags.js";

const estimate: GateHooks["estimate"] = (kind, params) => {
  if (kind === "llm.generate" && isCborObject(params)) return { tokens: Number(params.max_tokens ?? 0), cents: 0 };
  return { tokens: 0, cents: 0 };
};

const BUILT_IN: GateHooks = { checks: GRANT_CHECKS, estimate };
const WITH_SECRETS: GateHooks = { checks: GRANT_CHECKS_SECRETS, estimate };

/**
 * The gate hooks a world decides with. Every journal — with `world-rules-v1` or, before it,
 * the ones `wk` wrote — is decided by the built-in checks; `secrets-v1` adds the check of
 * secret references in HTTP headers against the grant.
 */
export function worldGateHooks(behaviour: Behaviour): GateHooks {
  return behaviour.secrets ? WITH_SECRETS : BUILT_IN;
}
