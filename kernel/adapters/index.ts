/**
 * @module Public surface of kernel/adapters: the adapter port, the built-in adapters,
 * their pure grant checks (reused by the kernel's gate) and the registry.
 */
export { NO_COST, errorPayload, finish, failed } from "./adapter.js";
export type {
  BlobAccess,
  GrantView,
  EffectRequest,
  EffectCost,
  OutcomeStatus,
  EffectOutcome,
  EffectAdapter,
} from "./adapter.js";
export { AdapterError } from "./errors.js";
export type { AdapterErrorCode } from "./errors.js";
export { createDefaultAdapters, adapterMap } from "./registry.js";
export { GRANT_CHECKS, GRANT_CHECKS_SECRETS, MCP_GRANT_CHECK } from "./grant-checks.js";
export type { GrantCheck } from "./grant-checks.js";
export type { AdaptersConfig } from "./registry.js";
export {
  createHttpAdapter,
  checkHttpAllowed,
  checkHttpSecrets,
  checkAddress,
  hostMatches,
  classifyAddress,
  addressMatches,
} from "./http/index.js";
export type { HttpAdapterConfig, HttpDenial, AddressClass } from "./http/index.js";
export { createLlmAdapter, checkLlmAllowed, localComplete, startLocalLlmServer, priceCents } from "./llm/index.js";
export type { LlmAdapterConfig, ModelPrice, LocalLlmServer, ChatMessage } from "./llm/index.js";
export { createBlobAdapter, checkBlobAllowed } from "./blob/adapter.js";
export { createTimerAdapter } from "./timer/adapter.js";
export { createMcpAdapter, checkMcpAllowed, readArguments, conditionView, parseServer } from "./mcp/index.js";
export type { McpAdapterConfig, McpStdioServer, McpDenial } from "./mcp/index.js";
export { createCompileAdapter, checkCompileAllowed } from "./compile/adapter.js";
export type { BuildFn } from "./compile/adapter.js";
export { SecretError } from "./errors.js";
export type { SecretErrorCode } from "./errors.js";
export {
  secretStore,
  secretAccess,
  resolveSecret,
  NO_SECRETS,
  headerSecretRefs,
  disallowedRef,
  expandRefs,
  redactor,
  secretEncodings,
  secretFailure,
} from "./secrets/index.js";
export type { SecretStore, SecretStoreOptions, SecretAccess, ResolvedSecret, Redactor } from "./secrets/index.js";
