/**
 * @module Stalled work: what waits and will not move on its own. Read at the end of the input,
 * against the analysis clock (`--now`, else the latest time the journal recorded; never the
 * machine's clock):
 * - an intent held for approval (`require_approval`) with no approver's decision and no receipt:
 *   past its deadline (validity-v1 `valid_until_ns`) it is a warning — nobody decided in time and
 *   no `expired` receipt settled it; within its window it is listed as info;
 * - an allowed intent with no receipt past its deadline (its expiry receipt never came), or, for
 *   an intent without a deadline, `receipt_wait_seqs` seqs before the end: its cell waits on a
 *   receipt that cannot come (warning);
 * - a proposal neither applied nor denied `proposal_wait_seqs` seqs before the end (warning).
 * Open work is kept until it settles, so memory follows what is pending, not the journal. Stalling
 * is judged at the end of the input, so every finding is detected at the last seq read.
 */
import type { AnalysisConfig } from "./config.js";
import type { AnalysisEnd, Detector, DetectorRun } from "./detector.js";
import { cellName } from "./facts.js";
import type { Finding } from "./finding.js";

interface Open {
  seq: number;
  module: string;
  key: string | null;
  effect: string;
  validUntilNs: bigint | null;
  held: boolean;
  decided: boolean;
}

/** The stalled-work detector. */
export const stalledWork: Detector = (cfg: AnalysisConfig): DetectorRun => {
  const c = cfg.stalled_work;
  const intents = new Map<string, Open>();
  const proposals = new Map<string, number>();

  const late = (o: Open, end: AnalysisEnd): boolean =>
    o.validUntilNs !== null ? end.nowNs > o.validUntilNs : end.lastSeq - o.seq >= c.receipt_wait_seqs;

  return {
    observe(f) {
      switch (f.kind) {
        case "intent":
          intents.set(f.intentId, {
            seq: f.seq,
            module: f.module,
            key: f.key,
            effect: f.effect,
            validUntilNs: f.validUntilNs,
            held: false,
            decided: false,
          });
          return;
        case "decision": {
          const o = intents.get(f.intentId);
          if (o === undefined) return;
          // A denial is settled by the receipt the kernel writes with it; the others wait.
          if (f.decision === "require_approval") o.held = true;
          else if (f.stage === "approval") o.held = false;
          o.decided = true;
          return;
        }
        case "receipt":
          intents.delete(f.intentId);
          return;
        case "proposal":
          proposals.set(f.proposalId, f.seq);
          return;
        case "apply":
          proposals.delete(f.proposalId);
          return;
        case "approval":
          if (f.deny) proposals.delete(f.proposalId);
          return;
        default:
          return;
      }
    },
    finish(end) {
      const out: Finding[] = [];
      for (const [id, o] of intents) {
        if (!o.decided) continue;
        const cell = cellName(o.module, o.key);
        const until = o.validUntilNs === null ? "" : ` (deadline ${o.validUntilNs} ns, now ${end.nowNs} ns)`;
        if (o.held)
          out.push({
            detector: "stalled_work",
            severity: late(o, end) ? "warn" : "info",
            module: o.module,
            key: o.key,
            seqs: [o.seq],
            detected_seq: end.lastSeq,
            message: late(o, end)
              ? `${cell}: ${o.effect} intent ${id.slice(0, 19)}… held for approval past its window with no decision and no receipt${until}`
              : `${cell}: ${o.effect} intent ${id.slice(0, 19)}… waits for approval${until}`,
          });
        else if (late(o, end))
          out.push({
            detector: "stalled_work",
            severity: "warn",
            module: o.module,
            key: o.key,
            seqs: [o.seq],
            detected_seq: end.lastSeq,
            message: `${cell} waits on a receipt that cannot come: ${o.effect} intent ${id.slice(0, 19)}… was allowed at seq ${o.seq} and has none${o.validUntilNs === null ? ` after ${end.lastSeq - o.seq} seqs` : until}`,
          });
      }
      for (const [id, seq] of proposals)
        if (end.lastSeq - seq >= c.proposal_wait_seqs)
          out.push({
            detector: "stalled_work",
            severity: "warn",
            seqs: [seq],
            detected_seq: end.lastSeq,
            message: `proposal ${id.slice(0, 19)}… (seq ${seq}) has been neither applied nor denied for ${end.lastSeq - seq} seqs`,
          });
      return out;
    },
  };
};
