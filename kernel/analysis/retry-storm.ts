/**
 * @module Retry storm: the same effect (kind and canonical params, by `params_hash`) asked for by
 * the same cell, or the same step failure (module, key, error code), at least `min_repeats` times
 * within `window_seqs` seqs. A module that answers a failure by asking again, at once and forever,
 * burns budget and hammers the other side; a step that fails the same way on every input is a bug
 * feeding on its own traffic. One finding per burst (repeats that keep falling within the window
 * of the one before), critical from `critical_repeats` on.
 */
import type { AnalysisConfig } from "./config.js";
import { addSeq, type Detector, type DetectorRun } from "./detector.js";
import { cellName } from "./facts.js";
import type { Finding } from "./finding.js";

interface Burst {
  seqs: number[];
  count: number;
  first: number;
  last: number;
  /** The repeat that made it a storm (the `min_repeats`-th within the window). */
  detected: number;
}

interface Group {
  module: string;
  key: string | null;
  what: string;
  recent: number[];
  burst: Burst | null;
}

/** The retry-storm detector. */
export const retryStorm: Detector = (cfg: AnalysisConfig): DetectorRun => {
  const { min_repeats: k, window_seqs: w, critical_repeats: crit } = cfg.retry_storm;
  const groups = new Map<string, Group>();
  const done: { g: Group; b: Burst }[] = [];
  let seen = 0;

  const close = (g: Group) => {
    if (g.burst !== null) done.push({ g, b: g.burst });
    g.burst = null;
  };

  const hit = (id: string, module: string, key: string | null, what: string, seq: number) => {
    let g = groups.get(id);
    if (g === undefined) groups.set(id, (g = { module, key, what, recent: [], burst: null }));
    g.recent.push(seq);
    while (g.recent[0]! <= seq - w) g.recent.shift();
    if (g.burst !== null && g.burst.last <= seq - w) close(g);
    if (g.burst !== null) {
      g.burst.count++;
      g.burst.last = seq;
      addSeq(g.burst.seqs, seq);
    } else if (g.recent.length >= k) {
      g.burst = { seqs: [], count: g.recent.length, first: g.recent[0]!, last: seq, detected: seq };
      for (const s of g.recent) addSeq(g.burst.seqs, s);
    }
    // Forget groups that went quiet, so memory follows the window, not the journal.
    if (++seen % 4096 === 0)
      for (const [gid, x] of groups)
        if (x.recent[x.recent.length - 1]! <= seq - w) {
          close(x);
          groups.delete(gid);
        }
  };

  return {
    observe(f) {
      if (f.kind === "intent")
        hit(
          `e\0${f.module}\0${f.key}\0${f.effect}\0${f.paramsHash}`,
          f.module,
          f.key,
          `${f.effect} with the same params (${f.paramsHash.slice(0, 19)}…)`,
          f.seq,
        );
      else if (f.kind === "step" && !f.ok && f.error !== null)
        hit(`s\0${f.module}\0${f.key}\0${f.error}`, f.module, f.key, `a step failing with ${f.error}`, f.seq);
    },
    finish() {
      // Bursts still open are reported as they stand, and stay open: more repeats may join them.
      const open = [...groups.values()].flatMap((g) => (g.burst === null ? [] : [{ g, b: g.burst }]));
      return [...done, ...open].map(({ g, b }): Finding => ({
        detector: "retry_storm",
        severity: b.count >= crit ? "critical" : "warn",
        module: g.module,
        key: g.key,
        seqs: [...b.seqs],
        detected_seq: b.detected,
        message: `${cellName(g.module, g.key)}: ${g.what} ${b.count} times between seqs ${b.first} and ${b.last} (at least ${k} within ${w} seqs)`,
      }));
    },
  };
};
