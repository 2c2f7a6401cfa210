/**
 * @module Pure allowlist checks by cap type, for the kernel's gate (which injects them, so
 * kernel/core never imports an adapter). Each adapter re-runs its own check at perform
 * time; the gate's run decides the journaled policy_decision. No I/O, no DNS: the
 * resolved-address SSRF guard can only run in the adapter, at connect time.
 */
import type { CborValue } from "../../air/cbor/value.js";
import type { CapGrant } from "../../air/schemas/defs.js";
import { checkBlobAllowed } from "./blob/adapter.js";
import { checkCompileAllowed } from "./compile/adapter.js";
import { checkHttpAllowed } from "./http/allow.js";
import { checkHttpSecrets } from "./http/secret-check.js";
import { checkLlmAllowed } from "./llm/allow.js";
import { checkMcpAllowed } from "./mcp/allow.js";

/** Same shape as kernel/core's `GrantCheck`: null when allowed, else a coded reason. */
export type GrantCheck = (
  kind: string,
  params: CborValue,
  grantParams: CborValue,
  grant?: CapGrant,
) => { code: string; message: string } | null;

/** Checks for the built-in cap types (`timer` and `query` have no allowlists). */
export const GRANT_CHECKS: Readonly<Record<string, GrantCheck>> = Object.freeze({
  "http.out": (_kind, params, grant) => checkHttpAllowed(params, grant),
  "llm.basic": (_kind, params, grant) => checkLlmAllowed(params, grant),
  blob: (kind, params, grant) => checkBlobAllowed(kind, params, grant),
  compile: (_kind, params, grant) => checkCompileAllowed(params, grant),
});

/**
 * The checks of `secrets-v1`: the built-in ones, and an `http.request` whose headers name a
 * secret the grant does not allow there (or under a grant without hosts) is denied at the
 * gate, so the refusal is a journaled decision and no adapter is called.
 */
export const GRANT_CHECKS_SECRETS: Readonly<Record<string, GrantCheck>> = Object.freeze({
  ...GRANT_CHECKS,
  "http.out": (_kind, params, grant, whole) =>
    checkHttpAllowed(params, grant) ?? checkHttpSecrets(params, grant, whole),
});

/**
 * The check `mcp-v1` adds for cap type `mcp`: an `mcp.call` whose server or tool its grant does
 * not list, whose private or loopback IP literal `allow_private` does not name, whose arguments
 * have no JSON form, or whose headers name a secret the grant does not allow there, is denied
 * at the gate.
 */
export const MCP_GRANT_CHECK: GrantCheck = (_kind, params, grant, whole) =>
  checkMcpAllowed(params, grant, whole?.secrets, whole?.name);
