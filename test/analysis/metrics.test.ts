/**
 * @module Oversight metrics (kernel/analysis/metrics.ts, `wk analyze --metrics`) on journals the
 * real kernel records from worlds/analysis: fetches the gate allows, one it denies, two it holds
 * for a real approver — one approved, one refused — give exact counts per module, the
 * intervention rate, the escalation, the held-to-result times, spend and audit completeness; a
 * journal without effects reports none of them (rates null, not zero). The CLI prints them.
 * Detection lag is read on a journal recorded under a clock the test moves, so the seqs each
 * detector detects at and the times between are known exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { Analysis, OversightMetricsSchema, type AnalysisReport } from "../../kernel/analysis/index.js";
import { registerAnalyze } from "../../tools/cli/commands/analyze.js";
import { inProcessWk } from "../cli/in-process.js";
import { startPageServer, type PageServer } from "../world/page-server.js";
import { T0, agentWorld, get, request } from "./agent-world.js";
import { configWith, linesOf } from "./journal-lines.js";

const approver = generateKeyPair();
const wk = inProcessWk(registerAnalyze);
let server: PageServer;

beforeAll(async () => {
  server = await startPageServer("ok");
});
afterAll(() => server.close());

async function reportOf(dir: string): Promise<AnalysisReport> {
  const a = new Analysis({ config: configWith(), checked: "none", metrics: true });
  for (const l of await linesOf(dir)) a.add(l);
  return a.report();
}

async function metricsOf(dir: string) {
  return OversightMetricsSchema.parse((await reportOf(dir)).metrics);
}

const SECOND = 1_000_000_000n;

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

  it("detection lag: journal time from a finding's first seq to the seq its detector crossed the threshold at", async () => {
    let now = T0;
    const { w, dir } = await agentWorld(approver, { clock: () => now });
    // Three failures of cell y, one second apart: a retry storm from the third (min_repeats 3).
    for (let i = 0n; i < 3n; i++) {
      now = T0 + i * SECOND;
      await w.sendMany([request("y", { fail: true })]);
    }
    // Five seconds after the last failure y carries on: the failure went unhandled.
    now = T0 + 7n * SECOND;
    await w.sendMany([request("y")]);
    await w.close();

    const steps = (await linesOf(dir)).filter((l) => l.kind === "step").map((l) => l.seq);
    expect(steps).toHaveLength(4);
    const [s1, , s3, s4] = steps as [number, number, number, number];
    const r = await reportOf(dir);
    expect(r.findings.map((f) => [f.detector, f.seqs, f.detected_seq])).toEqual([
      ["retry_storm", [s1, steps[1], s3], s3],
      ["silent_failure", [s3, s4], s4],
    ]);
    const lag = OversightMetricsSchema.parse(r.metrics).detection_lag_ns;
    expect(lag.retry_storm).toEqual({ count: 1, median: String(2n * SECOND), max: String(2n * SECOND) });
    expect(lag.silent_failure).toEqual({ count: 1, median: String(5n * SECOND), max: String(5n * SECOND) });
    for (const d of ["delegation_cycle", "budget_burn", "stalled_work", "structural_drift"] as const)
      expect(lag[d]).toEqual({ count: 0, median: null, max: null });

    const text = (await wk("analyze", "--world", dir, "--metrics")).stdout;
    expect(text).toContain("detection lag of retry_storm: 1 finding(s), median 2000000000 ns, max 2000000000 ns");
    const json = JSON.parse((await wk("analyze", "--world", dir, "--metrics", "--json")).stdout) as AnalysisReport;
    expect(json.metrics?.detection_lag_ns).toEqual(lag);
    expect(json.findings.map((f) => f.detected_seq)).toEqual([s3, s4]);
  });
});
