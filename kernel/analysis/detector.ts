/**
 * @module The shape every detector has: a fold over facts. `observe` takes the entries in seq
 * order and keeps what the detector needs (bounded by its windows, so a long journal streams in
 * constant memory); `finish` returns the findings of what was read so far. `finish` changes nothing,
 * so a reader that keeps going (`wk serve`'s metrics) may ask again after more entries and get what
 * one run over all of them would. A detector does no I/O and reads no clock: "now" is handed to
 * `finish`, taken from the journal or `--now`. Each finding names the seq it was detected at.
 */
import type { AnalysisConfig } from "./config.js";
import type { Fact } from "./facts.js";
import type { Finding } from "./finding.js";

/** What `finish` is told about the end of the input. */
export interface AnalysisEnd {
  /** The analysis clock (ns): `--now`, else the latest time an entry recorded. */
  nowNs: bigint;
  /** The last seq read (-1 for none). */
  lastSeq: number;
}

/** One run of a detector over one input. */
export interface DetectorRun {
  observe(f: Fact): void;
  /** The findings so far: fresh objects, and the run is left as it was (observe may go on). */
  finish(end: AnalysisEnd): Finding[];
}

/** A detector: given thresholds, a fresh run. */
export type Detector = (cfg: AnalysisConfig) => DetectorRun;

/** Runs one detector over facts (the pure function a test or a caller with facts in hand uses). */
export function detect(d: Detector, cfg: AnalysisConfig, facts: Iterable<Fact>, end: AnalysisEnd): Finding[] {
  const run = d(cfg);
  for (const f of facts) run.observe(f);
  return run.finish(end);
}

/** How many seqs a finding lists at most (its message still counts them all). */
export const MAX_SEQS = 200;

/** Appends `seq` to a finding's list unless it is full. */
export function addSeq(seqs: number[], seq: number): void {
  if (seqs.length < MAX_SEQS && seqs[seqs.length - 1] !== seq) seqs.push(seq);
}
