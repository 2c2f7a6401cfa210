/**
 * @module Journal analysis (`wk analyze`): detectors that read a journal's entries and report
 * what looks wrong — retry storms, silent failures, delegation cycles, budget burn, stalled work,
 * structural drift — with a severity a CI gate turns into an exit code. Pure: it reads entries
 * handed to it (kernel/journal's JSON form), no world, store or clock.
 */
export { Analysis, analyzeLines, DETECTORS, type AnalyzeOptions } from "./analyze.js";
export { AnalysisConfigSchema, defaultAnalysisConfig, type AnalysisConfig } from "./config.js";
export { detect, type AnalysisEnd, type Detector, type DetectorRun } from "./detector.js";
export { AnalysisError, type AnalysisErrorCode } from "./errors.js";
export { factOf, type Fact } from "./facts.js";
export {
  AnalysisReportSchema,
  DetectorNameSchema,
  FindingSchema,
  countFindings,
  exitCodeOf,
  type AnalysisReport,
  type DetectorName,
  type Finding,
  type Severity,
} from "./finding.js";
export { ChainCheck, JournalLineSchema, parseJournalLine, type JournalLine } from "./line.js";
export { lineOfEntry } from "./line-of-entry.js";
export { CausalIndex, causalTree, type CausalNode } from "./causal.js";
export { explainIntent, explanationLines, type Explanation, type Shown } from "./explain.js";
export { describeEntry, reasoningOf, traceLines, traceView, type TraceView } from "./trace-view.js";
export { capTree, type CappedTree } from "./trace-cap.js";
export { explainOf, targetSeq, traceOf, type LineSource, type Trace } from "./trace-of.js";
export { OversightFold, OversightMetricsSchema, type OversightMetrics } from "./metrics.js";
export { DetectionLagSchema, detectionLag, type DetectionLag } from "./detection-lag.js";
export { JournalClock } from "./journal-clock.js";
export { NsStatsSchema, nsStats, type NsStats } from "./ns-stats.js";
export { budgetBurn } from "./budget-burn.js";
export { delegationCycle } from "./delegation-cycle.js";
export { retryStorm } from "./retry-storm.js";
export { silentFailure } from "./silent-failure.js";
export { stalledWork } from "./stalled-work.js";
export { structuralDrift } from "./structural-drift.js";
