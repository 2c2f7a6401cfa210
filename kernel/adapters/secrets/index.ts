/**
 * @module Secrets by reference: the store (env and 0600 file), the per-request access a
 * grant allows, header references and the redactor that keeps values out of receipts.
 */
export { secretStore, readSecretsFile } from "./store.js";
export type { SecretStore, SecretStoreOptions } from "./store.js";
export { secretAccess, resolveSecret, NO_SECRETS } from "./access.js";
export type { SecretAccess, ResolvedSecret } from "./access.js";
export { headerSecretRefs, disallowedRef, expandRefs } from "./headers.js";
export type { HeaderSecretRef } from "./headers.js";
export { redactor, secretEncodings } from "./redact.js";
export type { Redactor } from "./redact.js";
export { secretFailure } from "./outcome.js";
