/**
 * @module Idempotency keys per client: over HTTP (`/v1` and `/mcp`) a key is scoped to the bearer
 * token that sent it — journaled as `token:<name>:<key>`, the name percent-encoded so no two
 * (name, key) pairs meet — so one client can neither probe whether another used a key nor claim
 * one before it and be answered with the other's result. Tokens that share a name share keys
 * (the operator's choice: one client, several tokens). Webhooks have their own scope
 * (`webhook:<name>:`); the CLI and stdio MCP, run by the operator, use keys as given. A token
 * tracing a key finds the event it sent under that key (`traceAs`).
 */
import { AnalysisError, traceOf, type LineSource, type Trace } from "../../kernel/analysis/index.js";

/** The journaled form of `key` sent under the token named `tokenName`. */
export function tokenScopedKey(tokenName: string, key: string): string {
  return `token:${encodeURIComponent(tokenName)}:${key}`;
}

/**
 * The causal tree of `target` as the token named `tokenName` means it: the journal's own seq,
 * intent id or key, else the idempotency key that token sent (journaled scoped). Not found either
 * way is the error for `target` as given.
 */
export function traceAs(
  src: LineSource,
  target: string,
  tokenName: string | undefined,
  opts: { maxNodes?: number },
): Trace {
  try {
    return traceOf(src, target, opts);
  } catch (e) {
    if (tokenName === undefined || !(e instanceof AnalysisError) || e.code !== "analysis.not_found") throw e;
    try {
      return traceOf(src, tokenScopedKey(tokenName, target), opts);
    } catch {
      throw e;
    }
  }
}
