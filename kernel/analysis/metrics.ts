/**
 * @module Oversight metrics (`wk analyze --metrics`, and `GET /metrics` of `wk serve`): how much
 * people intervene in what the agents do and what it costs, folded over the same facts as the
 * detectors, in one pass. Per module: gated decisions, how many the gate escalated to an approver
 * and how many were decided by one (the intervention rate), denials; escalations by the code and
 * grant that raised them; for held intents, the time from the step that asked to the receipt
 * (journal time, ns; an approver's refusal is receipted without a clock, so only performed ones
 * count); tokens and cents spent per grant and per module; audit completeness — the share of
 * intents with a receipt in the journal and the share whose step recorded its reasoning (ann-v1);
 * and the detectors' detection lag (detection-lag.ts). What a journal cannot say is left out, not
 * guessed: an idempotency hit appends nothing, so its rate is the server's counter
 * (`wk_idempotency_requests_total`). Memory follows open intents and the journal clock, not the
 * journal: a settled intent is only counted.
 */
import { z } from "zod";
import { DetectionLagSchema, detectionLag, type Detected } from "./detection-lag.js";
import type { Fact } from "./facts.js";
import { JournalClock } from "./journal-clock.js";
import { NsStatsSchema, nsStats } from "./ns-stats.js";

const count = z.number().int().nonnegative();
const rate = z.union([z.null(), z.number().min(0).max(1)]);

/** One module's gate and approval activity. */
export const ModuleOversightSchema = z.strictObject({
  gated: count,
  allowed: count,
  denied_by_gate: count,
  escalated: count,
  approved: count,
  refused: count,
  /** Approver decisions per gated decision (null: nothing gated). */
  intervention_rate: rate,
});

/** The metrics of one run, as `--metrics` prints them (JSON-safe: numbers, ns as decimal text). */
export const OversightMetricsSchema = z.strictObject({
  modules: z.record(z.string(), ModuleOversightSchema),
  /** Escalations (require_approval) by `code` and grant, e.g. `policy.require_approval grant pay`. */
  escalations: z.record(z.string(), count),
  /** Held intents with a timed receipt: from their step's time to the receipt's (ns, decimal text; a refusal's receipt has no time). */
  held_to_result_ns: NsStatsSchema,
  spend: z.strictObject({
    by_grant: z.record(z.string(), z.strictObject({ tokens: count, cents: count, receipts: count })),
    by_module: z.record(z.string(), z.strictObject({ tokens: count, cents: count, receipts: count })),
  }),
  audit: z.strictObject({
    intents: count,
    with_receipt: count,
    with_reasoning: count,
    /** Shares of the above (null: no intent). */
    receipt_completeness: rate,
    reasoning_completeness: rate,
  }),
  /** Per detector: journal time from a finding's first seq to its `detected_seq` (ns, decimal text). */
  detection_lag_ns: DetectionLagSchema,
});
export type OversightMetrics = z.infer<typeof OversightMetricsSchema>;

type Spend = { tokens: number; cents: number; receipts: number };

const ratio = (n: number, d: number) => (d === 0 ? null : n / d);

/** The metrics fold: observe facts in seq order, then report (as often as wanted: reporting changes nothing). */
export class OversightFold {
  private readonly modules = new Map<string, z.infer<typeof ModuleOversightSchema>>();
  private readonly escalations = new Map<string, number>();
  /** Open intents by id: who asked, under which grant, when (its cause's time), whether held. Dropped at their receipt. */
  private readonly intents = new Map<
    string,
    { module: string; grant: string | null; atNs: bigint | null; held: boolean }
  >();
  /** The journal's recorded times, for the intents' causes and the findings' seqs. */
  private readonly clock = new JournalClock();
  /** Which steps recorded reasoning, by the intents they asked for (read when the intent follows). */
  private readonly stepReasoning = new Map<string, boolean>();
  private readonly heldLatencies: bigint[] = [];
  private readonly byGrant = new Map<string, Spend>();
  private readonly byModule = new Map<string, Spend>();
  private readonly audit = { intents: 0, with_receipt: 0, with_reasoning: 0 };

  /** Reads one fact. */
  observe(f: Fact): void {
    switch (f.kind) {
      case "event":
        if (f.nowNs !== null) this.clock.record(f.seq, f.nowNs);
        return;
      case "step":
        for (const id of f.intents) this.stepReasoning.set(id, f.reasoning);
        return;
      case "intent":
        this.intents.set(f.intentId, {
          module: f.module,
          grant: f.grant,
          atNs: this.clock.timeOf(f.causeSeq),
          held: false,
        });
        this.audit.intents++;
        if (this.stepReasoning.get(f.intentId) === true) this.audit.with_reasoning++;
        this.stepReasoning.delete(f.intentId);
        return;
      case "decision":
        return this.decision(f);
      case "receipt":
        // A receipt the kernel signs without a clock (an approver's refusal) carries 0: no time.
        if (f.finishedNs > 0n) this.clock.record(f.seq, f.finishedNs);
        return this.receipt(f);
      default:
        return;
    }
  }

  private moduleOf(module: string) {
    let m = this.modules.get(module);
    if (m === undefined) {
      m = { gated: 0, allowed: 0, denied_by_gate: 0, escalated: 0, approved: 0, refused: 0, intervention_rate: null };
      this.modules.set(module, m);
    }
    return m;
  }

  private decision(f: Extract<Fact, { kind: "decision" }>): void {
    const i = this.intents.get(f.intentId);
    if (i === undefined) return;
    const m = this.moduleOf(i.module);
    if (f.stage === "approval") {
      if (f.decision === "allow") m.approved++;
      else m.refused++;
      return;
    }
    m.gated++;
    if (f.decision === "allow") m.allowed++;
    else if (f.decision === "deny") m.denied_by_gate++;
    else {
      m.escalated++;
      i.held = true;
      const why = `${f.code ?? "require_approval"} grant ${f.grant ?? "none"}`;
      this.escalations.set(why, (this.escalations.get(why) ?? 0) + 1);
    }
  }

  private receipt(f: Extract<Fact, { kind: "receipt" }>): void {
    const i = this.intents.get(f.intentId);
    // Settled: counted, then forgotten, so memory follows what is open (a second receipt is not counted).
    if (i === undefined) return;
    this.intents.delete(f.intentId);
    this.audit.with_receipt++;
    if (i.held && i.atNs !== null && f.finishedNs > 0n && f.finishedNs >= i.atNs)
      this.heldLatencies.push(f.finishedNs - i.atNs);
    for (const [map, k] of [
      [this.byGrant, i.grant ?? "(none)"],
      [this.byModule, i.module],
    ] as const) {
      const s = map.get(k) ?? { tokens: 0, cents: 0, receipts: 0 };
      s.tokens += f.tokens;
      s.cents += f.cents;
      s.receipts++;
      map.set(k, s);
    }
  }

  /** The metrics of everything observed; `findings` (of the same facts) give the detection lag. */
  report(findings: readonly Detected[] = []): OversightMetrics {
    const modules = Object.fromEntries(
      [...this.modules]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, m]) => [k, { ...m, intervention_rate: ratio(m.approved + m.refused, m.gated) }]),
    );
    const a = this.audit;
    const sortedRecord = <T>(m: Map<string, T>) =>
      Object.fromEntries([...m].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, { ...v }]));
    return {
      modules,
      escalations: Object.fromEntries([...this.escalations].sort(([x], [y]) => (x < y ? -1 : 1))),
      held_to_result_ns: nsStats(this.heldLatencies),
      spend: { by_grant: sortedRecord(this.byGrant), by_module: sortedRecord(this.byModule) },
      audit: {
        ...a,
        receipt_completeness: ratio(a.with_receipt, a.intents),
        reasoning_completeness: ratio(a.with_reasoning, a.intents),
      },
      detection_lag_ns: detectionLag(findings, this.clock),
    };
  }
}
