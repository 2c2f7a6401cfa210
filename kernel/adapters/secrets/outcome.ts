/**
 * @module The receipt a secret fault gives: an `error` outcome `secret_not_allowed` (the grant
 * or the defsecret's allowed_caps do not admit the use) or `secret_unavailable` (no value, a
 * refused secrets file, a digest mismatch), naming the secret and the reason, never the value.
 */
import { failed, type EffectOutcome, type EffectRequest } from "../adapter.js";
import { SecretError } from "../errors.js";

/** The error outcome for a `SecretError`; anything else is rethrown (a programming error). */
export function secretFailure(req: EffectRequest, started: bigint, e: unknown): EffectOutcome {
  if (!(e instanceof SecretError)) throw e;
  const code = e.code === "secret.not_allowed" ? "secret_not_allowed" : "secret_unavailable";
  return failed(req, started, code, e.message, { secret: e.secret, reason: e.code });
}
