/**
 * @module Wires the built-in adapters into a world: their pure allowlist checks become the
 * gate's hooks (so the same check runs at the gate and, for HTTP, again on the resolved
 * address at connect time), and operator config selects the LLM endpoint. Secrets come
 * from environment variables named in config, never from the journal.
 */
import { isCborObject } from "../../air/cbor/value.js";
import { createDefaultAdapters, type AdaptersConfig, type EffectAdapter } from "../adapters/index.js";
import { GRANT_CHECKS } from "../adapters/grant-checks.js";
import type { WorldConfig } from "./config.js";
import type { GateHooks } from "../core/gate.js";

/** Operator settings for adapters (config.json `adapters`). */
export type AdapterSettings = NonNullable<WorldConfig["adapters"]>;

/** The gate hooks of the built-in cap types. */
export function defaultGateHooks(): GateHooks {
  return {
    checks: GRANT_CHECKS,
    estimate: (kind, params) => {
      if (kind === "llm.generate" && isCborObject(params)) return { tokens: Number(params.max_tokens ?? 0), cents: 0 };
      return { tokens: 0, cents: 0 };
    },
  };
}

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
  return createDefaultAdapters(cfg);
}
