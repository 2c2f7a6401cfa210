/**
 * @module Delegation cycle: work bouncing between modules, A → B → A, found on cause chains. Each
 * event links to its cause: an emitted event to the event its module was stepping, a receipt's
 * delivery to the event whose step asked for the effect (so a chain crosses cascades through
 * effects). When module H steps an event whose chain of emitting modules holds H again with
 * another module in between, H has delegated to someone who delegated back. One finding per chain
 * root and set of modules, listing the chain; critical once the chain returns `critical_bounces`
 * times (a loop, not a consultation). Links older than `window_seqs` are forgotten.
 */
import type { AnalysisConfig } from "./config.js";
import { addSeq, type Detector, type DetectorRun } from "./detector.js";
import type { Finding } from "./finding.js";

interface Link {
  /** The module that emitted the event (null: ingress, a delivery, the kernel). */
  emitter: string | null;
  parent: number | null;
}

/** How far up a chain the detector walks. */
const MAX_DEPTH = 256;

/** The delegation-cycle detector. */
export const delegationCycle: Detector = (cfg: AnalysisConfig): DetectorRun => {
  const { window_seqs: w, critical_bounces: crit } = cfg.delegation_cycle;
  const links = new Map<number, Link>();
  const intentCause = new Map<string, { seq: number; cause: number }>();
  /** By root and modules; `detected` is the step that closed the cycle first (its module stepping work it had passed on). */
  const cycles = new Map<
    string,
    { modules: string[]; seqs: number[]; bounces: number; root: number; detected: number }
  >();
  let last = 0;

  const forget = (seq: number) => {
    // Maps keep insertion order, which is seq order: drop from the front.
    for (const [s] of links) {
      if (s > seq - w) break;
      links.delete(s);
    }
    for (const [id, x] of intentCause) {
      if (x.seq > seq - w) break;
      intentCause.delete(id);
    }
  };

  return {
    observe(f) {
      if (f.seq - last >= 1024) {
        forget(f.seq);
        last = f.seq;
      }
      if (f.kind === "intent") intentCause.set(f.intentId, { seq: f.seq, cause: f.causeSeq });
      else if (f.kind === "event") {
        const o = f.origin;
        if (o.kind === "module") links.set(f.seq, { emitter: o.module, parent: o.causeSeq });
        else if (o.kind === "receipt")
          links.set(f.seq, { emitter: null, parent: intentCause.get(o.intentId)?.cause ?? null });
        else links.set(f.seq, { emitter: null, parent: null });
      } else if (f.kind === "step") {
        // The chain of emitters above the event this step handles, nearest first.
        const chain: { module: string; seq: number }[] = [];
        let at: number | null = f.causeSeq;
        let root = f.causeSeq;
        for (let depth = 0; at !== null && depth < MAX_DEPTH; depth++) {
          const l = links.get(at);
          if (l === undefined) break;
          root = at;
          if (l.emitter !== null) chain.push({ module: l.emitter, seq: at });
          at = l.parent;
        }
        const back = chain.findIndex((c) => c.module === f.module);
        if (back < 0 || !chain.slice(0, back).some((c) => c.module !== f.module)) return;
        const modules = [...new Set([f.module, ...chain.map((c) => c.module)])].sort();
        const bounces = chain.filter((c) => c.module === f.module).length;
        const id = `${root}\0${modules.join("\0")}`;
        let c = cycles.get(id);
        if (c === undefined) {
          cycles.set(id, (c = { modules, seqs: [], bounces, root, detected: f.seq }));
          for (const x of [...chain].reverse()) addSeq(c.seqs, x.seq);
        } else addSeq(c.seqs, f.causeSeq);
        c.bounces = Math.max(c.bounces, bounces);
        addSeq(c.seqs, f.seq);
      }
    },
    finish() {
      return [...cycles.values()].map((c): Finding => ({
        detector: "delegation_cycle",
        severity: c.bounces >= crit ? "critical" : "warn",
        module: c.modules[0]!,
        seqs: [...c.seqs].sort((a, b) => a - b),
        detected_seq: c.detected,
        message: `work from seq ${c.root} bounces between ${c.modules.join(", ")}: it came back ${c.bounces} time(s)`,
      }));
    },
  };
};
