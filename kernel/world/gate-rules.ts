/**
 * @module The gate's rules for a world: the allowlist checks of the built-in cap types (hosts,
 * methods, private and loopback addresses, models, token ceilings, …), the cost estimate the
 * budget reserves, and whether policy conditions run. They belong to the world, never to whoever
 * opens it: the kernel flags in its genesis select them (`gate-v1`, `world-rules-v1`,
 * `secrets-v1`, `policy-cel-v1`, `mcp-v1`), so live execution, cold start, replay, shadow and audit decide alike however
 * a library caller opened the world.
 */
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import type { ResolvedGrant } from "../../air/loader.js";
import { GRANT_CHECKS, GRANT_CHECKS_SECRETS, MCP_GRANT_CHECK } from "../adapters/grant-checks.js";
import { conditionView } from "../adapters/mcp/arguments.js";
import type { GateHooks } from "../core/gate.js";
import type { Behaviour } from "../transition/flags.js";

/** Before policy-cel-v1: an LLM call reserves its max_tokens and costs nothing up front. */
const unpricedEstimate: GateHooks["estimate"] = (kind, params) => {
  if (kind === "llm.generate" && isCborObject(params)) return { tokens: Number(params.max_tokens ?? 0), cents: 0 };
  return { tokens: 0, cents: 0 };
};

/**
 * The most an `llm.generate` intent can cost under its grant: its output ceiling (`max_tokens`)
 * and the grant's input bound (`prices.max_input_tokens`) at the grant's prices per 1,000 tokens,
 * rounded up to a whole cent. Integer arithmetic (bigint) throughout: no float ever rounds a
 * decision. A grant without prices estimates as before (tokens = max_tokens, 0 cents).
 */
export function pricedEstimate(
  kind: string,
  params: CborValue,
  grant: ResolvedGrant,
): { tokens: number; cents: number } {
  if (kind !== "llm.generate" || !isCborObject(params)) return { tokens: 0, cents: 0 };
  const out = BigInt((params.max_tokens as number | bigint | undefined) ?? 0);
  const p = grant.grant.prices;
  if (!p) return { tokens: clamp(out), cents: 0 };
  const inTokens = BigInt(p.max_input_tokens);
  const milli = inTokens * BigInt(p.input_cents_per_1k_tokens) + out * BigInt(p.output_cents_per_1k_tokens);
  return { tokens: clamp(inTokens + out), cents: clamp((milli + 999n) / 1000n) };
}

/** Estimates are journaled as JSON-safe numbers: a value past 2^53 − 1 is held there (it exceeds any budget anyway). */
function clamp(n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
}

/** `checks`, with the check of cap type `mcp` when mcp-v1 is on. */
function withMcp(checks: GateHooks["checks"], mcp: boolean): GateHooks["checks"] {
  return mcp ? Object.freeze({ ...checks, mcp: MCP_GRANT_CHECK }) : checks;
}

/** The hooks of each combination of the flags that change them, made once (index: secrets, policyCel, mcp). */
const HOOKS: readonly GateHooks[] = [false, true].flatMap((secrets) =>
  [false, true].flatMap((priced) =>
    [false, true].map((mcp): GateHooks => ({
      checks: withMcp(secrets ? GRANT_CHECKS_SECRETS : GRANT_CHECKS, mcp),
      estimate: priced ? pricedEstimate : unpricedEstimate,
      conditions: priced,
      ...(mcp ? { conditionParams: conditionView } : {}),
    })),
  ),
);

/**
 * The gate hooks a world decides with. Every journal — with `world-rules-v1` or, before it,
 * the ones `wk` wrote — is decided by the built-in checks; `secrets-v1` adds the check of
 * secret references in HTTP headers against the grant; `policy-cel-v1` adds conditions and the
 * priced estimate; `mcp-v1` adds the checks of `mcp.call` (which include its header secrets)
 * and the decoded arguments conditions see.
 */
export function worldGateHooks(behaviour: Behaviour): GateHooks {
  return HOOKS[(behaviour.secrets ? 4 : 0) + (behaviour.policyCel ? 2 : 0) + (behaviour.mcp ? 1 : 0)]!;
}
