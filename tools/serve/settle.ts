/**
 * @module Send-and-wait for a hosted world: wait (a bounded time) until the cascade an ingress
 * event caused has run as far as it can, then say what is still pending — an intent held for
 * approval, one whose timer is not due. `POST /v1/…/events?wait=settled` and MCP's
 * `send_event` answer with it, so a caller gets the result of the effects its event caused
 * instead of polling for them.
 */
import { CausalIndex } from "../../kernel/analysis/index.js";
import { journalLines } from "../../kernel/world/journal-lines.js";
import { HttpError } from "./errors.js";
import type { WorldHost } from "./world-host.js";

/** How long a send waits for its cascade by default, and at most (ms). */
export const SETTLE_MS = { default: 10_000, max: 60_000 } as const;

/** Waits up to `ms` for the host's dispatch to go idle; true when it did. */
export async function settledWithin(h: WorldHost, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const out = await Promise.race([
    h.settled().then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ]);
  clearTimeout(timer);
  return out;
}

/** One intent still pending, as a send's answer lists it. */
export interface PendingIntent {
  intent_id: string;
  kind: string;
  module: string;
  waiting: string;
}

/** The intents still pending that the ingress events at `seqs` caused, read from the journal since the first. */
export function pendingOf(h: WorldHost, seqs: readonly number[]): PendingIntent[] {
  if (seqs.length === 0) return [];
  const first = Math.min(...seqs);
  const roots = new Set(seqs);
  const pending = [...h.world.state.pending.values()].filter((p) => p.causeSeq >= first);
  if (pending.length === 0) return [];
  const index = new CausalIndex();
  for (const l of journalLines(h.world.store).all(first)) index.observe(l);
  return pending
    .filter((p) => {
      const at = index.intentSeq(p.intentId);
      return at !== undefined && roots.has(index.root(at) ?? -1);
    })
    .map((p) => ({ intent_id: p.intentId, kind: p.kind, module: p.module, waiting: String(p.waiting) }));
}

/** `?wait=settled[&timeout_ms=N]` of a send: how long to wait for its cascade (ms), or undefined for no wait. */
export function waitOf(wait: string | undefined, timeout: string | undefined): number | undefined {
  if (wait === undefined) {
    if (timeout !== undefined)
      throw new HttpError(400, "http.bad_query", "timeout_ms needs wait=settled", { path: "?timeout_ms" });
    return undefined;
  }
  if (wait !== "settled")
    throw new HttpError(400, "http.bad_query", `wait must be "settled", got ${JSON.stringify(wait)}`, {
      path: "?wait",
    });
  if (timeout === undefined) return SETTLE_MS.default;
  const ms = /^\d{1,6}$/.test(timeout) ? Number(timeout) : NaN;
  if (!(ms >= 1 && ms <= SETTLE_MS.max))
    throw new HttpError(400, "http.bad_query", `timeout_ms must be an integer from 1 to ${SETTLE_MS.max}`, {
      path: "?timeout_ms",
    });
  return ms;
}
