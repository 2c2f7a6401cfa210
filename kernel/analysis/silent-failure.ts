/**
 * @module Silent failure: a failure the cell that met it does not act on. A failure is an
 * `error`, `timeout`, `denied` or `expired` receipt delivered to a cell, or a failed step of the
 * cell. The receipt is unhandled when the step it is delivered to succeeds and emits nothing
 * (no event to report it, no intent to retry or escalate); a failed step is unhandled by nature
 * (its input is dropped). When the cell then carries on — a later successful step for another
 * input — that is a warning. When the cell emits an event claiming success (success-claim.ts)
 * from the step that received the failure, or from the step it carried on with, it is critical:
 * the world says done where the journal says failed.
 */
import type { AnalysisConfig } from "./config.js";
import { addSeq, type Detector, type DetectorRun } from "./detector.js";
import { cellName } from "./facts.js";
import type { Finding } from "./finding.js";
import { successClaim } from "./success-claim.js";

const FAILED: ReadonlySet<string> = new Set(["error", "timeout", "denied", "expired"]);
const cellId = (module: string, key: string | null) => `${module}\0${key}`;

interface Delivery {
  module: string;
  key: string | null;
  what: string;
}

/** A failure a cell has not acted on. */
interface Mark {
  what: string;
  seqs: number[];
  /** Set once the cell carried on: the cause of that step, and its finding. */
  carriedOn: { causeSeq: number; finding: Finding } | null;
}

/** The silent-failure detector. */
export const silentFailure: Detector = (cfg: AnalysisConfig): DetectorRun => {
  const claims = successClaim(cfg.silent_failure);
  const deliveries = new Map<number, Delivery>();
  /** Per cell: the step that just received a failure (its emitted events follow it). */
  const watch = new Map<string, { causeSeq: number; what: string; seqs: number[] }>();
  const marks = new Map<string, Mark>();
  const findings: Finding[] = [];

  return {
    observe(f) {
      if (f.kind === "event") {
        const o = f.origin;
        if (o.kind === "receipt") {
          const v = f.value as Record<string, unknown> | null;
          const status = typeof v?.status === "string" ? v.status : "";
          // A delivery is stepped in its own cascade; one never stepped (a cascade cut short) is let go.
          if (deliveries.size > 4096)
            for (const [seq] of deliveries) {
              if (deliveries.size <= 2048) break;
              deliveries.delete(seq);
            }
          if (FAILED.has(status))
            deliveries.set(f.seq, {
              module: o.module,
              key: o.key,
              what: `a ${status} receipt for ${typeof v?.effect_kind === "string" ? v.effect_kind : "an effect"}`,
            });
          return;
        }
        if (o.kind !== "module" || !claims(f.value)) return;
        const id = cellId(o.module, o.key);
        const w = watch.get(id);
        if (w !== undefined && w.causeSeq === o.causeSeq) {
          findings.push({
            detector: "silent_failure",
            severity: "critical",
            module: o.module,
            key: o.key,
            seqs: [...w.seqs, f.seq],
            detected_seq: f.seq,
            message: `${cellName(o.module, o.key)} received ${w.what} (seq ${w.seqs[0]}) and emitted ${f.schema} claiming success (seq ${f.seq})`,
          });
          return;
        }
        const m = marks.get(id);
        if (m !== undefined && m.carriedOn !== null && m.carriedOn.causeSeq === o.causeSeq) {
          const fd = m.carriedOn.finding;
          if (fd.severity !== "critical") {
            fd.severity = "critical";
            fd.message += `, and emitted ${f.schema} claiming success (seq ${f.seq})`;
          }
          addSeq(fd.seqs, f.seq);
        }
        return;
      }
      if (f.kind !== "step") return;
      const id = cellId(f.module, f.key);
      watch.delete(id);
      const d = deliveries.get(f.causeSeq);
      if (d !== undefined && d.module === f.module) {
        deliveries.delete(f.causeSeq);
        if (f.ok) {
          const seqs = [f.causeSeq, f.seq];
          watch.set(id, { causeSeq: f.causeSeq, what: d.what, seqs });
          if (f.events === 0 && f.intents.length === 0) marks.set(id, { what: d.what, seqs, carriedOn: null });
          else marks.delete(id); // acted on: reported or retried
          return;
        }
      }
      if (!f.ok) {
        marks.set(id, { what: `a failed step (${f.error ?? "no code"})`, seqs: [f.seq], carriedOn: null });
        return;
      }
      const m = marks.get(id);
      if (m === undefined) return;
      if (m.carriedOn !== null) {
        marks.delete(id);
        return;
      }
      const finding: Finding = {
        detector: "silent_failure",
        severity: "warn",
        module: f.module,
        key: f.key,
        seqs: [...m.seqs, f.seq],
        // Found when the cell carried on; a later success claim raises the severity, not the time found.
        detected_seq: f.seq,
        message: `${cellName(f.module, f.key)} left ${m.what} (seq ${m.seqs[0]}) unhandled and carried on (step at seq ${f.seq})`,
      };
      findings.push(finding);
      m.carriedOn = { causeSeq: f.causeSeq, finding };
    },
    finish() {
      // Copies: a finding may still be raised to critical by what follows.
      return findings.map((x) => ({ ...x, seqs: [...x.seqs] }));
    },
  };
};
