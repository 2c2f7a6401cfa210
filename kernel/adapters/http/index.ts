/**
 * @module The `http.request` adapter and its pure allowlist checks (reused by the gate).
 */
export { createHttpAdapter } from "./adapter.js";
export type { HttpAdapterConfig } from "./adapter.js";
export { checkHttpAllowed, checkAddress, hostMatches, allowPrivateEntries } from "./allow.js";
export { checkHttpSecrets } from "./secret-check.js";
export type { SecretDenial } from "./secret-check.js";
export type { HttpDenial } from "./allow.js";
export { classifyAddress, addressMatches, parseIp } from "./address.js";
export type { AddressClass } from "./address.js";
