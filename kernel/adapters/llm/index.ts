/**
 * @module The `llm.generate` adapter, its providers, and the local OpenAI-compatible server.
 */
export { createLlmAdapter, priceCents } from "./adapter.js";
export type { LlmAdapterConfig, ModelPrice } from "./adapter.js";
export { checkLlmAllowed } from "./allow.js";
export type { LlmDenial } from "./allow.js";
export { localComplete } from "./local-provider.js";
export type { Completion } from "./local-provider.js";
export { openAiComplete } from "./openai-provider.js";
export type { OpenAiConfig } from "./openai-provider.js";
export { parseMessages, messagesValue, wordCount } from "./messages.js";
export type { ChatMessage } from "./messages.js";
export { startLocalLlmServer } from "./local-server.js";
export type { LocalLlmServer, LocalLlmServerOptions } from "./local-server.js";
