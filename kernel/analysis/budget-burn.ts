/**
 * @module Budget burn: a grant spent faster than a rate, or spent out. The journal records every
 * use: an allowed gate decision (or an approver's allow of a held intent) is one use of its
 * grant, a receipt's cost is what it spent in tokens and cents (kernel/core/budget.ts keeps the
 * same books). Within a sliding window of `window_seqs` seqs, more than `max_uses` uses, `max_tokens`
 * tokens or `max_cents` cents of one grant is a warning, one per burst. A decision the gate denied
 * at its budget stage (`gate.budget_exhausted`) means the grant ran out: critical, one finding
 * per grant listing every refusal. The grant's limits live in the manifest, not the entries, so
 * the rates are the config's, whatever the grant allows.
 */
import type { AnalysisConfig } from "./config.js";
import { addSeq, type Detector, type DetectorRun } from "./detector.js";
import type { Finding } from "./finding.js";

type Measure = "uses" | "tokens" | "cents";
const MEASURES: readonly Measure[] = ["uses", "tokens", "cents"];

interface Grant {
  recent: { seq: number; uses: number; tokens: number; cents: number }[];
  sums: Record<Measure, number>;
  /** `detected`: the use (decision or receipt) that first took the window over its limit. */
  burst: { measure: Measure; seqs: number[]; peak: number; first: number; last: number; detected: number } | null;
}

/** The budget-burn detector. */
export const budgetBurn: Detector = (cfg: AnalysisConfig): DetectorRun => {
  const c = cfg.budget_burn;
  const limits: Record<Measure, number> = { uses: c.max_uses, tokens: c.max_tokens, cents: c.max_cents };
  const grants = new Map<string, Grant>();
  const intentGrant = new Map<string, { seq: number; grant: string }>();
  const exhausted = new Map<string, number[]>();
  const findings: Finding[] = [];

  const burstFinding = (name: string, b: NonNullable<Grant["burst"]>): Finding => ({
    detector: "budget_burn",
    severity: "warn",
    seqs: [...b.seqs],
    detected_seq: b.detected,
    message: `grant ${name}: ${b.peak} ${b.measure} within ${c.window_seqs} seqs (more than ${limits[b.measure]}) between seqs ${b.first} and ${b.last}`,
  });

  const close = (name: string, g: Grant) => {
    if (g.burst !== null) findings.push(burstFinding(name, g.burst));
    g.burst = null;
  };

  const spend = (name: string, seq: number, uses: number, tokens: number, cents: number) => {
    let g = grants.get(name);
    if (g === undefined) grants.set(name, (g = { recent: [], sums: { uses: 0, tokens: 0, cents: 0 }, burst: null }));
    g.recent.push({ seq, uses, tokens, cents });
    for (const m of MEASURES) g.sums[m] += m === "uses" ? uses : m === "tokens" ? tokens : cents;
    while (g.recent[0]!.seq <= seq - c.window_seqs) {
      const old = g.recent.shift()!;
      for (const m of MEASURES) g.sums[m] -= old[m];
    }
    if (g.burst !== null && g.burst.last <= seq - c.window_seqs) close(name, g);
    const over = MEASURES.find((m) => g.sums[m] > limits[m]);
    if (over === undefined) return;
    if (g.burst === null) {
      g.burst = { measure: over, seqs: [], peak: 0, first: g.recent[0]!.seq, last: seq, detected: seq };
      for (const r of g.recent) addSeq(g.burst.seqs, r.seq);
    }
    g.burst.last = seq;
    g.burst.peak = Math.max(g.burst.peak, g.sums[g.burst.measure]);
    addSeq(g.burst.seqs, seq);
  };

  return {
    observe(f) {
      if (f.kind === "intent") {
        if (f.grant !== null) intentGrant.set(f.intentId, { seq: f.seq, grant: f.grant });
        // The book of intents follows the window too.
        if (intentGrant.size > 4 * c.window_seqs)
          for (const [id, x] of intentGrant) {
            if (x.seq > f.seq - c.window_seqs) break;
            intentGrant.delete(id);
          }
      } else if (f.kind === "decision") {
        const grant = f.grant ?? intentGrant.get(f.intentId)?.grant;
        if (grant === undefined) return;
        if (f.decision === "allow") spend(grant, f.seq, 1, 0, 0);
        else if (f.decision === "deny" && f.code === "gate.budget_exhausted") {
          const s = exhausted.get(grant) ?? [];
          addSeq(s, f.seq);
          exhausted.set(grant, s);
        }
      } else if (f.kind === "receipt") {
        const grant = intentGrant.get(f.intentId)?.grant;
        if (grant !== undefined && (f.tokens > 0 || f.cents > 0)) spend(grant, f.seq, 0, f.tokens, f.cents);
      }
    },
    finish() {
      // Bursts still open are reported as they stand, and stay open: more uses may join them.
      const out = [...findings];
      for (const [name, g] of grants) if (g.burst !== null) out.push(burstFinding(name, g.burst));
      for (const [grant, seqs] of exhausted)
        out.push({
          detector: "budget_burn",
          severity: "critical",
          seqs: [...seqs],
          // The gate's first refusal both shows the grant spent out and is where it is found.
          detected_seq: seqs[0]!,
          message: `grant ${grant} is exhausted: the gate refused ${seqs.length} intent(s) for its budget (first at seq ${seqs[0]})`,
        });
      return out;
    },
  };
};
