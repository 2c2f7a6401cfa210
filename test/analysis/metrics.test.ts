/**
 * @module Oversight metrics (kernel/analysis/metrics.ts, `wk analyze --metrics`) on journals the
 * real kernel records from worlds/analysis: fetches the gate allows, one it denies, two it holds
 * for a real approver — one approved, one refused — give exact counts per module, the
 * intervention rate, the escalation, the held-to-result times, spend and audit completeness; a
 * journal without effects reports none of them (rates null, not zero). The CLI prints them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { Analysis, OversightMetricsSchema } from "../../kernel/analysis/index.js";
import { registerAnalyze } from "../../tools/cli/commands/analyze.js";
import { inProcessWk } from "../cli/in-process.js";
import { startPageServer, type PageServer } from "../world/page-server.js";
import { agentWorld, get, request } from "./agent-world.js";
import { configWith, linesOf } from "./journal-lines.js";

const approver = generateKeyPair();
const wk = inProcessWk(registerAnalyze);
let server: PageServer;

beforeAll(async () => {
  server = await startPageServer("ok");
});
afterAll(() => server.close());

async function metricsOf(dir: string) {
  const a = new Analysis({ config: configWith(), checked: "none", metrics: true });
  for (const l of await linesOf(dir)) a.add(l);
  return OversightMetricsSchema.parse(a.report().metrics);
}

describe("oversight metrics", () => {
  it("counts gate decisions, escalations, approvers' decisions, spend and audit completeness", async () => {
    const { w, dir } = await agentWorld(approver);
    await w.sendMany([
      request("a", { effects: [get(`${server.url}/a`)] }),
      request("d", { effects: [get("http://example.com/")] }),
      request("h1", { effects: [get(`${server.url}/h1`, "held")] }),
      request("h2", { effects: [get(`${server.url}/h2`, "held")] }),
    ]);
    const held = [...w.state.pending.keys()];
    expect(held).toHaveLength(2);
    await w.decideHeldIntent(held[0]!, approver, "allow");
    await w.decideHeldIntent(held[1]!, approver, "deny");
    await w.close();

    const m = await metricsOf(dir);
    expect(m.modules).toEqual({
      "demo/A@1": {
        gated: 4,
        allowed: 1,
        denied_by_gate: 1,
        escalated: 2,
        approved: 1,
        refused: 1,
        intervention_rate: 0.5,
      },
    });
    expect(Object.values(m.escalations)).toEqual([2]);
    expect(Object.keys(m.escalations)[0]).toMatch(/grant /);
    // The approved one; the refusal's receipt is signed without a clock (finished_ns 0).
    expect(m.held_to_result_ns.count).toBe(1);
    expect(m.spend.by_module["demo/A@1"]!.receipts).toBe(4);
    expect(m.audit).toEqual({
      intents: 4,
      with_receipt: 4,
      with_reasoning: 0,
      receipt_completeness: 1,
      reasoning_completeness: 0,
    });

    const text = (await wk("analyze", "--world", dir, "--metrics")).stdout;
    expect(text).toContain("intervention rate 50.0%");
    expect(text).toContain("audit: 4 intent(s), 100.0% with a receipt, 0.0% with recorded reasoning");
    const json = JSON.parse((await wk("analyze", "--world", dir, "--metrics", "--json")).stdout) as {
      metrics: unknown;
    };
    expect(json.metrics).toEqual(m);
  });

  it("a journal without effects has no rates (null, not zero), and without --metrics no metrics", async () => {
    const { w, dir } = await agentWorld(approver);
    await w.sendMany([request("quiet")]);
    await w.close();
    const m = await metricsOf(dir);
    expect(m.modules).toEqual({});
    expect(m.audit).toMatchObject({ intents: 0, receipt_completeness: null, reasoning_completeness: null });
    expect(m.held_to_result_ns).toEqual({ count: 0, median: null, max: null });
    const json = JSON.parse((await wk("analyze", "--world", dir, "--json")).stdout) as Record<string, unknown>;
    expect(json.metrics).toBeUndefined();
  });
});
