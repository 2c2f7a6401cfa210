/**
 * @module One analysis run: every detector folded over the same stream of entries in one pass,
 * then their findings sorted, counted and turned into the exit code a CI gate reads. Pure: the
 * caller reads the journal (a world's read port or an NDJSON file) and hands the lines in; the
 * clock is the journal's own (the latest recorded time) unless the caller names "now".
 */
import type { AnalysisConfig } from "./config.js";
import type { Detector, DetectorRun } from "./detector.js";
import { budgetBurn } from "./budget-burn.js";
import { delegationCycle } from "./delegation-cycle.js";
import { factOf } from "./facts.js";
import { countFindings, exitCodeOf, sortFindings, type AnalysisReport } from "./finding.js";
import type { JournalLine } from "./line.js";
import { OversightFold } from "./metrics.js";
import { retryStorm } from "./retry-storm.js";
import { silentFailure } from "./silent-failure.js";
import { stalledWork } from "./stalled-work.js";
import { structuralDrift } from "./structural-drift.js";

/** Every detector, in report order for equal findings. */
export const DETECTORS: readonly Detector[] = [
  retryStorm,
  silentFailure,
  delegationCycle,
  budgetBurn,
  stalledWork,
  structuralDrift,
];

/** How to run an analysis. */
export interface AnalyzeOptions {
  config: AnalysisConfig;
  /** Warnings count as critical for the exit code. */
  strict?: boolean;
  /** The analysis clock (ns); default: the latest time the journal recorded. */
  nowNs?: bigint;
  /** How far the caller checked the input (reported as is). */
  checked: AnalysisReport["checked"];
  /** Also fold the oversight metrics (metrics.ts) into the report. */
  metrics?: boolean;
}

/** An analysis in progress: add lines in seq order, then ask for the report. */
export class Analysis {
  private readonly runs: DetectorRun[];
  private entries = 0;
  private first: number | null = null;
  private last = -1;
  private latestNs = 0n;
  private readonly metrics: OversightFold | undefined;

  constructor(private readonly opts: AnalyzeOptions) {
    this.runs = DETECTORS.map((d) => d(opts.config));
    this.metrics = opts.metrics ? new OversightFold() : undefined;
  }

  /** Reads one entry. */
  add(line: JournalLine): void {
    this.entries++;
    this.first ??= line.seq;
    this.last = line.seq;
    const f = factOf(line);
    if (f === null) return;
    const t = f.kind === "event" ? f.nowNs : f.kind === "receipt" ? f.finishedNs : null;
    if (t !== null && t > this.latestNs) this.latestNs = t;
    for (const r of this.runs) r.observe(f);
    this.metrics?.observe(f);
  }

  /** The findings, counts and exit code of what was read so far; changes nothing, so more lines may follow (a server reports as it goes). */
  report(): AnalysisReport {
    const nowNs = this.opts.nowNs ?? this.latestNs;
    const findings = sortFindings(this.runs.flatMap((r) => r.finish({ nowNs, lastSeq: this.last })));
    const counts = countFindings(findings);
    return {
      entries: this.entries,
      range: this.first === null ? null : [this.first, this.last],
      now_ns: nowNs.toString(),
      checked: this.opts.checked,
      findings,
      counts,
      exit: exitCodeOf(counts, this.opts.strict === true),
      ...(this.metrics === undefined ? {} : { metrics: this.metrics.report(findings) }),
    };
  }
}

/** Analyzes lines in seq order (the pure entry point). */
export function analyzeLines(lines: Iterable<JournalLine>, opts: AnalyzeOptions): AnalysisReport {
  const a = new Analysis(opts);
  for (const l of lines) a.add(l);
  return a.report();
}
