/**
 * @module The adapter registry: one map from effect kind to the adapter that performs it.
 * `createDefaultAdapters` wires the built-in adapters from operator config (base URLs,
 * API keys, limits, allowlisted stdio MCP servers) — config that stays out of the journal and out of receipts.
 */
import type { EffectAdapter } from "./adapter.js";
import { createBlobAdapter } from "./blob/adapter.js";
import { createCompileAdapter, type BuildFn } from "./compile/adapter.js";
import { AdapterError } from "./errors.js";
import { createHttpAdapter, type HttpAdapterConfig } from "./http/adapter.js";
import { createLlmAdapter, type LlmAdapterConfig } from "./llm/adapter.js";
import { createMcpAdapter, type McpAdapterConfig } from "./mcp/adapter.js";
import { createTimerAdapter } from "./timer/adapter.js";

/** Operator configuration of the built-in adapters. */
export interface AdaptersConfig {
  http?: HttpAdapterConfig;
  llm?: LlmAdapterConfig;
  blob?: { maxBytes?: number };
  compile?: { build?: BuildFn; maxSourceBytes?: number };
  mcp?: McpAdapterConfig;
}

/** Indexes adapters by every kind they perform; a kind claimed twice is a wiring bug. */
export function adapterMap(adapters: readonly EffectAdapter[]): Map<string, EffectAdapter> {
  const m = new Map<string, EffectAdapter>();
  for (const a of adapters) {
    for (const k of a.kinds) {
      const prev = m.get(k);
      if (prev) throw new AdapterError("adapter.duplicate_kind", k, `claimed by both ${prev.id} and ${a.id}`);
      m.set(k, a);
    }
  }
  return m;
}

/** The built-in adapters keyed by effect kind. */
export function createDefaultAdapters(config: AdaptersConfig = {}): Map<string, EffectAdapter> {
  return adapterMap([
    createHttpAdapter(config.http),
    createLlmAdapter(config.llm),
    createBlobAdapter(config.blob),
    createTimerAdapter(),
    createCompileAdapter(config.compile),
    createMcpAdapter(config.mcp),
  ]);
}
