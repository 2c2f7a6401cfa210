/**
 * @module The oversight series and the idempotency counter of `GET /metrics`, on a real server
 * started in this process (startServer on 127.0.0.1, the kernel's clock injected so journal
 * times are known): an LLM world — the emitter agent of test/world/fixtures/emitter.ts, the
 * deterministic local provider, priced per token — whose every call is held for an approver. Two
 * calls are sent under idempotency keys and one is re-sent (a hit); five seconds later one is
 * approved through the API (performed: tokens and cents spent) and one refused. The scrape says
 * so per module, code and grant, agrees with `wk analyze --metrics`' fold of the same journal,
 * and a server restarted on the world folds its history and reports the same values.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { afterAll, describe, expect, it } from "vitest";
import { encodeStored, hashBytes } from "../../air/index.js";
import { Analysis, OversightMetricsSchema, defaultAnalysisConfig } from "../../kernel/analysis/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { createWorld } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { startServer, type RunningServer } from "../../tools/serve/server.js";
import { T0 } from "../analysis/agent-world.js";
import { linesOf } from "../analysis/journal-lines.js";
import { emitEvent, emitterSource, type EmitterSpec } from "../world/fixtures/emitter.js";
import { clients, poll, writeTokens } from "./server-fixture.js";

const approver = generateKeyPair();
const SECOND = 1_000_000_000n;
const MODULE = "t/Agent@1";

const LLM: EmitterSpec = {
  kind: "llm.generate",
  effect: "sys/llm.generate@1",
  cap: "sys/llm.basic@1",
  capType: "llm.basic",
  rules: [{ when: { effect_kind: "llm.generate" }, decision: "require_approval" }],
  approvers: [{ id: "ops", public_key: approver.publicKeyHex }],
  grant: { prices: { input_cents_per_1k_tokens: 100, output_cents_per_1k_tokens: 300, max_input_tokens: 2000 } },
};

/** One Prometheus sample: its name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a scrape (comment lines skipped). */
function samples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The value of the one sample of `name` whose labels include `labels` (undefined: none). */
function valueOf(all: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  expect(hits.length, `${name} ${JSON.stringify(labels)}`).toBeLessThanOrEqual(1);
  return hits[0]?.value;
}

const running: RunningServer[] = [];
afterAll(async () => {
  for (const s of running) await s.close();
});

describe("GET /metrics: oversight series and idempotency hits", () => {
  it("reports held intents approved and refused, spend, audit and held-to-result time; the same after a restart", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-serve-oversight-"));
    const dir = join(base, "w");
    let now = T0;
    const clock = () => now;
    const w = await createWorld(dir, await emitterSource(LLM), { adapters: defaultAdapters(), clock });
    const messages = encodeStored([{ role: "user", content: "Summarize this. It is short." }]);
    const ref = hashBytes(messages);
    w.store.putBlobSync(messages);
    await w.close();
    const call = (max_tokens: number) => ({
      schema: "t/Emit@1",
      value: emitEvent("llm.generate", "ok", {
        provider: "local",
        model: "m",
        messages_ref: Buffer.from(ref.slice("sha256:".length), "hex"),
        max_tokens,
        temperature: null,
      }),
    });
    const { file, tokens } = writeTokens(base);
    const serve = async () => {
      const s = await startServer({ worlds: [dir], port: 0, tokensFile: file, clock, consoleDir: null });
      running.push(s);
      return { s, c: clients(s.url, tokens), id: [...s.hosts.keys()][0]! };
    };

    let { s, c, id } = await serve();
    const first = await c.ingest.send(id, call(100), { idempotencyKey: "call-a" });
    await c.ingest.send(id, call(200), { idempotencyKey: "call-b" });
    expect(await c.ingest.send(id, call(100), { idempotencyKey: "call-a" })).toEqual({ ...first, duplicate: true });
    const held = (await c.read.heldIntents(id)).map((h) => h.intent_id);
    expect(held).toHaveLength(2);

    now = T0 + 5n * SECOND;
    const decide = async (intent: string, decision: "allow" | "deny", status: string) => {
      const msg = await c.approve.heldIntentMessage(id, intent, decision);
      const signature = Buffer.from(ed25519.sign(Buffer.from(msg.message_hex, "hex"), approver.secretKeyBytes()));
      await c.approve.decide(id, intent, {
        decision,
        public_key: approver.publicKeyHex,
        signature: signature.toString("hex"),
      });
      const row = await poll(
        async () => (await c.read.receipts(id)).find((r) => r.intent_id === intent && r.receipt !== null),
        `the receipt of ${intent}`,
      );
      expect(row.receipt!.status).toBe(status);
    };
    await decide(held[0]!, "allow", "ok");
    await decide(held[1]!, "deny", "denied");
    const receipt = (await c.read.receipt(id, held[0]!)) as unknown as {
      body: { receipt: { cost: { tokens_in: number; tokens_out: number; cents: number } } };
    };
    const cost = receipt.body.receipt.cost;
    const spent = { tokens: Number(cost.tokens_in) + Number(cost.tokens_out), cents: Number(cost.cents) };
    expect(spent.tokens).toBeGreaterThan(0);
    expect(spent.cents).toBeGreaterThan(0);

    const scraped = samples(await c.read.metrics());
    const v = (name: string, labels: Record<string, string> = {}) => valueOf(scraped, name, { world: id, ...labels });
    const mod = { module: MODULE };
    expect(
      ["gated", "allowed", "denied", "escalated", "approved", "refused"].map((n) => v(`wk_oversight_${n}`, mod)),
    ).toEqual([2, 0, 0, 2, 1, 1]);
    expect(v("wk_oversight_intervention_ratio", mod)).toBe(1);
    expect(v("wk_oversight_escalations", { grant: "ok" })).toBe(2);
    expect(v("wk_oversight_grant_spend_tokens", { grant: "ok" })).toBe(spent.tokens);
    expect(v("wk_oversight_grant_spend_cents", { grant: "ok" })).toBe(spent.cents);
    expect(v("wk_oversight_module_spend_tokens", mod)).toBe(spent.tokens);
    expect(v("wk_oversight_module_spend_cents", mod)).toBe(spent.cents);
    expect(v("wk_oversight_audit_receipt_completeness_ratio")).toBe(1);
    expect(v("wk_oversight_audit_reasoning_completeness_ratio")).toBe(0);
    // The approved call: asked at T0, performed at T0 + 5 s. The refusal's receipt has no time.
    expect(v("wk_oversight_held_results")).toBe(1);
    expect(v("wk_oversight_held_to_result_seconds", { stat: "median" })).toBe(5);
    expect(v("wk_oversight_held_to_result_seconds", { stat: "max" })).toBe(5);
    expect(v("wk_oversight_detections", { detector: "retry_storm" })).toBe(0);
    expect(v("wk_oversight_detection_lag_seconds", { detector: "retry_storm", stat: "median" })).toBeUndefined();
    expect(v("wk_idempotency_requests_total", { result: "hit" })).toBe(1);
    expect(v("wk_idempotency_requests_total", { result: "miss" })).toBe(2);

    // The same numbers as wk analyze --metrics over the journal as it stands.
    const a = new Analysis({ config: defaultAnalysisConfig(), checked: "none", metrics: true });
    for (const l of await linesOf(dir)) a.add(l);
    const m = OversightMetricsSchema.parse(a.report().metrics);
    expect(v("wk_oversight_gated", mod)).toBe(m.modules[MODULE]!.gated);
    expect(v("wk_oversight_grant_spend_tokens", { grant: "ok" })).toBe(m.spend.by_grant.ok!.tokens);
    expect(m.held_to_result_ns).toEqual({ count: 1, median: String(5n * SECOND), max: String(5n * SECOND) });

    // Restarted on the same world: its history is folded at the first scrape, so the oversight series are the same.
    const oversight = (all: Sample[]) => all.filter((x) => x.name.startsWith("wk_oversight_"));
    await s.close();
    ({ s, c, id } = await serve());
    const again = samples(await c.read.metrics());
    expect(oversight(again)).toEqual(oversight(scraped));
    // A process's counter starts over; a resend after the restart is still answered from the journal: a hit.
    expect(valueOf(again, "wk_idempotency_requests_total", { world: id, result: "hit" })).toBeUndefined();
    expect((await c.ingest.send(id, call(100), { idempotencyKey: "call-a" })).duplicate).toBe(true);
    const after = samples(await c.read.metrics());
    expect(valueOf(after, "wk_idempotency_requests_total", { world: id, result: "hit" })).toBe(1);
    expect(valueOf(after, "wk_idempotency_requests_total", { world: id, result: "miss" })).toBeUndefined();
    expect(oversight(after)).toEqual(oversight(scraped));
    await s.close();
  }, 120_000);
});
