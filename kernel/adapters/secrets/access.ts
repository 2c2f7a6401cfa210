/**
 * @module What an adapter may resolve at dispatch: the defsecrets of the world's manifest, for
 * the one grant the gate matched. A secret resolves only when the manifest declares it, its
 * `allowed_caps` (if given) names the grant, its value is in the store and matches its
 * `expected_digest`. The dispatcher builds one per request; replay never builds one.
 */
import { createHash } from "node:crypto";
import type { DefSecret } from "../../../air/schemas/defs.js";
import { SecretError } from "../errors.js";
import type { SecretStore } from "./store.js";

/** A resolved secret: its defsecret name and value (kept in memory only, for one request). */
export interface ResolvedSecret {
  readonly name: string;
  readonly value: string;
}

/** Resolves secrets by defsecret name for one request; throws a `SecretError`. */
export interface SecretAccess {
  resolve(name: string): ResolvedSecret;
}

/** A secret access over the manifest's defsecrets, for grant `grantName`, reading values from `store`. */
export function secretAccess(
  defs: ReadonlyMap<string, { def: DefSecret }>,
  grantName: string,
  store: SecretStore,
): SecretAccess {
  return {
    resolve(name) {
      const def = defs.get(name)?.def;
      if (def?.allowed_caps && !def.allowed_caps.includes(grantName))
        throw new SecretError("secret.not_allowed", name, `its allowed_caps do not name grant ${grantName}`);
      return resolveSecret(defs, name, store);
    },
  };
}

/**
 * Resolves a defsecret of the manifest by name, with no grant in play (a webhook's HMAC key,
 * which never leaves the process): declared, in the store, and matching its expected_digest.
 */
export function resolveSecret(
  defs: ReadonlyMap<string, { def: DefSecret }>,
  name: string,
  store: SecretStore,
): ResolvedSecret {
  const def = defs.get(name)?.def;
  if (!def) throw new SecretError("secret.unknown", name, "the manifest declares no such defsecret");
  let value: string;
  try {
    value = store.read(def.binding_id);
  } catch (e) {
    // Re-labelled with the defsecret's name; the store's message names only the binding.
    if (e instanceof SecretError) throw new SecretError(e.code, name, e.message, e.path ? { path: e.path } : {});
    throw e;
  }
  if (def.expected_digest !== undefined) {
    const digest = `sha256:${createHash("sha256").update(value, "utf8").digest("hex")}`;
    if (digest !== def.expected_digest)
      throw new SecretError("secret.digest_mismatch", name, "the stored value does not match expected_digest");
  }
  return { name, value };
}

/** An access that resolves nothing: for adapters called without a world (every secret is unavailable). */
export const NO_SECRETS: SecretAccess = Object.freeze({
  resolve(name: string): ResolvedSecret {
    throw new SecretError("secret.unavailable", name, "no secret store is configured for this call");
  },
});
