/**
 * @module Oversight metrics (`wk analyze --metrics`): how much people intervene in what the
 * agents do and what it costs, folded over the same facts as the detectors, in one pass.
 * Per module: gated decisions, how many the gate escalated to an approver and how many were
 * decided by one (the intervention rate), denials; escalations by the code and grant that
 * raised them; for held intents, the time from the step that asked to the receipt (journal
 * time, ns; an approver's refusal is receipted without a clock, so only performed ones count); tokens and cents spent per grant and per module; and audit completeness — the
 * share of intents with a receipt in the journal and the share whose step recorded its
 * reasoning (ann-v1). What a journal cannot say is left out, not guessed: an idempotency hit
 * appends nothing, so its rate belongs to the server's counters.
 */
import { z } from "zod";
import type { Fact } from "./facts.js";

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
  held_to_result_ns: z.strictObject({
    count,
    median: z.union([z.null(), z.string()]),
    max: z.union([z.null(), z.string()]),
  }),
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
});
export type OversightMetrics = z.infer<typeof OversightMetricsSchema>;

type Spend = { tokens: number; cents: number; receipts: number };

const ratio = (n: number, d: number) => (d === 0 ? null : n / d);

/** The metrics fold: observe facts in seq order, then report. */
export class OversightFold {
  private readonly modules = new Map<string, z.infer<typeof ModuleOversightSchema>>();
  private readonly escalations = new Map<string, number>();
  /** Intents by id: who asked, under which grant, when (its cause's time), whether held and answered. */
  private readonly intents = new Map<
    string,
    { module: string; grant: string | null; atNs: bigint | null; held: boolean; receipt: boolean; reasoning: boolean }
  >();
  /** Recorded times of events (seq → ns) and which steps recorded reasoning, for the intents they cause. */
  private readonly eventNs = new Map<number, bigint>();
  private readonly stepReasoning = new Map<string, boolean>();
  private readonly heldLatencies: bigint[] = [];
  private readonly byGrant = new Map<string, Spend>();
  private readonly byModule = new Map<string, Spend>();

  /** Reads one fact. */
  observe(f: Fact): void {
    switch (f.kind) {
      case "event":
        if (f.nowNs !== null) this.eventNs.set(f.seq, f.nowNs);
        return;
      case "step":
        for (const id of f.intents) this.stepReasoning.set(id, f.reasoning);
        return;
      case "intent":
        this.intents.set(f.intentId, {
          module: f.module,
          grant: f.grant,
          atNs: this.eventNs.get(f.causeSeq) ?? null,
          held: false,
          receipt: false,
          reasoning: this.stepReasoning.get(f.intentId) ?? false,
        });
        this.stepReasoning.delete(f.intentId);
        return;
      case "decision":
        return this.decision(f);
      case "receipt":
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
    if (i === undefined || i.receipt) return;
    i.receipt = true;
    // A receipt the kernel signs without a clock (an approver's refusal) carries 0: no time to count.
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

  /** The metrics of everything observed. */
  report(): OversightMetrics {
    const modules = Object.fromEntries(
      [...this.modules]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, m]) => [k, { ...m, intervention_rate: ratio(m.approved + m.refused, m.gated) }]),
    );
    const sorted = [...this.heldLatencies].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const intents = [...this.intents.values()];
    const withReceipt = intents.filter((i) => i.receipt).length;
    const withReasoning = intents.filter((i) => i.reasoning).length;
    const sortedRecord = <T>(m: Map<string, T>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)));
    return {
      modules,
      escalations: sortedRecord(this.escalations),
      held_to_result_ns: {
        count: sorted.length,
        median: sorted.length === 0 ? null : sorted[(sorted.length - 1) >> 1]!.toString(),
        max: sorted.length === 0 ? null : sorted[sorted.length - 1]!.toString(),
      },
      spend: { by_grant: sortedRecord(this.byGrant), by_module: sortedRecord(this.byModule) },
      audit: {
        intents: intents.length,
        with_receipt: withReceipt,
        with_reasoning: withReasoning,
        receipt_completeness: ratio(withReceipt, intents.length),
        reasoning_completeness: ratio(withReasoning, intents.length),
      },
    };
  }
}
