/**
 * @module Wires the built-in adapters into a world: operator config selects the LLM endpoint
 * and the stdio MCP servers grants may name.
 * Its optional kernel-wide key comes from an environment variable named in config; keys a
 * grant names are defsecrets, resolved at dispatch (kernel/world/secrets.ts). Neither is journaled. (The
 * gate's allowlist checks are the world's own rules: kernel/world/gate-rules.ts.)
 */
import { createDefaultAdapters, type AdaptersConfig, type EffectAdapter } from "../adapters/index.js";
import type { WorldConfig } from "./config.js";

/** Operator settings for adapters (config.json `adapters`). */
export type AdapterSettings = NonNullable<WorldConfig["adapters"]>;

/** The built-in adapters, configured from operator settings. */
export function defaultAdapters(
  settings: AdapterSettings = {},
  extra: AdaptersConfig = {},
): Map<string, EffectAdapter> {
  const cfg: AdaptersConfig = { ...extra };
  if (settings.llm) {
    const apiKey = settings.llm.api_key_env ? process.env[settings.llm.api_key_env] : undefined;
    cfg.llm = { ...(extra.llm ?? {}), openai: { baseUrl: settings.llm.base_url, ...(apiKey ? { apiKey } : {}) } };
  }
  if (settings.mcp?.stdio) cfg.mcp = { ...(extra.mcp ?? {}), stdio: settings.mcp.stdio };
  return createDefaultAdapters(cfg);
}
