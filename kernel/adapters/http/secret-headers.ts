/**
 * @module The HTTP adapter's secret step: finds `{secret:NAME}` references in an intent's
 * headers, checks each against the grant (`secrets.headers` must list NAME for that header,
 * and the grant must name its `hosts`, so a secret only travels to hosts the grant chose),
 * resolves the values and expands them. Returns the headers to send and the redactor for
 * everything recorded afterwards.
 */
import type { EffectOutcome, EffectRequest } from "../adapter.js";
import { SecretError } from "../errors.js";
import { allowlist } from "../params.js";
import { NO_SECRETS, type ResolvedSecret } from "../secrets/access.js";
import { disallowedRef, expandRefs, headerSecretRefs } from "../secrets/headers.js";
import { secretFailure } from "../secrets/outcome.js";
import { redactor, type Redactor } from "../secrets/redact.js";

/** The headers with secrets expanded and a redactor, or the error outcome that stops the request. */
export type ExpandedHeaders =
  { ok: true; headers: Record<string, string>; redact: Redactor } | { ok: false; outcome: EffectOutcome };

/** Why `req`'s grant does not scope where a secret may go (http.request: it names no `hosts`), or null. */
export type SecretScope = (req: EffectRequest) => string | null;

/** http.request: a secret only travels to hosts the grant lists. */
const hostsNamed: SecretScope = (req) =>
  allowlist(req.kind, req.grant.params, "hosts", "string") === null
    ? `grant ${req.grant.name} names no hosts; a secret is only sent to hosts a grant lists`
    : null;

/** Resolves and expands the secret references of `headers` for `req`'s grant (`scope`: by default, its hosts). */
export function resolveHeaderSecrets(
  req: EffectRequest,
  started: bigint,
  headers: Record<string, string>,
  scope: SecretScope = hostsNamed,
): ExpandedHeaders {
  const refs = headerSecretRefs(headers);
  if (refs.length === 0) return { ok: true, headers, redact: redactor([]) };
  try {
    const bad = disallowedRef(refs, req.grant.secrets);
    if (bad)
      throw new SecretError(
        "secret.not_allowed",
        bad.secret,
        `grant ${req.grant.name} does not allow it in header ${bad.header} (secrets.headers)`,
      );
    const unscoped = scope(req);
    if (unscoped !== null) throw new SecretError("secret.not_allowed", refs[0]!.secret, unscoped);
    const access = req.secrets ?? NO_SECRETS;
    const resolved = new Map<string, ResolvedSecret>();
    for (const r of refs) {
      if (resolved.has(r.secret)) continue;
      const s = access.resolve(r.secret);
      // A value that could split a header is refused, not sent (and not quoted in the error).
      if (/[\r\n\0]/.test(s.value))
        throw new SecretError(
          "secret.bad_value",
          r.secret,
          "the value holds a line break or NUL; it cannot be a header",
        );
      resolved.set(r.secret, s);
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) out[k] = expandRefs(v, (name) => resolved.get(name)!.value);
    return { ok: true, headers: out, redact: redactor([...resolved.values()]) };
  } catch (e) {
    return { ok: false, outcome: secretFailure(req, started, e) };
  }
}
