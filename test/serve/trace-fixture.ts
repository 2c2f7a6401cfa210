/**
 * @module The world the trace tests serve: worlds/analysis's scripted agent (test/analysis/
 * agent-world.ts) on the wall clock, with two recorded cascades — a fetch through the `held`
 * slot sent under the idempotency key "order-7", refused by the approver, and a fetch of a host
 * no grant allows, sent under a key that needs URL-encoding, which the gate denies.
 */
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { journalLines } from "../../kernel/world/journal-lines.js";
import { agentWorld, get, request } from "../analysis/agent-world.js";

/** The idempotency key of the gate-denied fetch: a slash, a space, a question mark, a non-ASCII letter (URL-encoded), and markup (shown as text). */
export const DENIED_KEY = "order/8 ?ü <b>bold</b>";

/** What the traced world holds. */
export interface TracedWorld {
  dir: string;
  /** The intent the approver refused (sent under "order-7"). */
  held: string;
  /** The fetch the gate denied (sent under `DENIED_KEY`). */
  denied: string;
}

/** Records the traced world in a temp directory and closes it, ready to serve. */
export async function tracedWorld(): Promise<TracedWorld> {
  const approver = generateKeyPair();
  const { w, dir } = await agentWorld(approver, { clock: () => BigInt(Date.now()) * 1_000_000n });
  await w.sendMany([{ ...request("h", { effects: [get("http://127.0.0.1:9/", "held")] }), idempotencyKey: "order-7" }]);
  const [held] = [...w.state.pending.keys()];
  await w.decideHeldIntent(held!, approver, "deny");
  await w.sendMany([{ ...request("d", { effects: [get("http://example.com/", "net")] }), idempotencyKey: DENIED_KEY }]);
  const intents = [...journalLines(w.store).all()]
    .filter((l) => l.kind === "effect_intent")
    .map((l) => (l.body as { intent_id: string }).intent_id);
  await w.close();
  const denied = intents.find((i) => i !== held);
  if (held === undefined || denied === undefined || intents.length !== 2)
    throw new Error(`expected two intents, got ${intents.length}`);
  return { dir, held, denied };
}
