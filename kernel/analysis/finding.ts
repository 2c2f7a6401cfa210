/**
 * @module What a detector reports: a finding (severity, where, which seqs, one line of why) and
 * the report of a whole run (findings, counts, the exit code a CI gate reads). Schemas first, so
 * `--json` output and the types are one thing.
 */
import { z } from "zod";
import { DetectorNameSchema } from "./detector-name.js";
import { OversightMetricsSchema } from "./metrics.js";

export { DetectorNameSchema, type DetectorName } from "./detector-name.js";

/** How bad a finding is: `critical` fails a CI gate, `warn` fails it under `--strict`, `info` never. */
export const SeveritySchema = z.enum(["info", "warn", "critical"]);
export type Severity = z.infer<typeof SeveritySchema>;

/** One finding: which detector, how bad, which cell (module and key when it is about one), the seqs that show it, and why. */
export const FindingSchema = z.strictObject({
  detector: DetectorNameSchema,
  severity: SeveritySchema,
  module: z.string().optional(),
  key: z.string().nullable().optional(),
  seqs: z.array(z.number().int().nonnegative()),
  /**
   * The seq at which the detector's fold crossed its threshold (the k-th retry, the step that
   * carried on, the hop that closed the cycle, …; for what is judged at the end of the input —
   * stalled work, drift — the last seq read). With the journal time of `seqs[0]` it gives the
   * detection lag (`--metrics`).
   */
  detected_seq: z.number().int().nonnegative().optional(),
  message: z.string().min(1),
});
export type Finding = z.infer<typeof FindingSchema>;

/** Findings by severity. */
export const CountsSchema = z.strictObject({
  info: z.number().int().nonnegative(),
  warn: z.number().int().nonnegative(),
  critical: z.number().int().nonnegative(),
});
export type Counts = z.infer<typeof CountsSchema>;

/** What one analysis run reports (`wk analyze --json`). */
export const AnalysisReportSchema = z.strictObject({
  /** Entries read (from `since` on). */
  entries: z.number().int().nonnegative(),
  /** First and last seq read, or null for none. */
  range: z.union([z.null(), z.tuple([z.number().int(), z.number().int()])]),
  /** The analysis clock (ns): `--now`, else the latest time the journal recorded; decimal text. */
  now_ns: z.string(),
  /** How far the input was checked: `verified` (a world's journal, `wk verify`), `chain` (NDJSON: seqs and hash links only), `none`. */
  checked: z.enum(["verified", "chain", "none"]),
  findings: z.array(FindingSchema),
  counts: CountsSchema,
  /** 0 clean, 1 warnings, 2 critical (warnings count as critical under strict). */
  exit: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  /** With `--metrics`: the oversight metrics of the same entries (metrics.ts). */
  metrics: OversightMetricsSchema.optional(),
});
export type AnalysisReport = z.infer<typeof AnalysisReportSchema>;

const RANK: Record<Severity, number> = { info: 0, warn: 1, critical: 2 };

/** Counts findings by severity. */
export function countFindings(findings: readonly Finding[]): Counts {
  const c: Counts = { info: 0, warn: 0, critical: 0 };
  for (const f of findings) c[f.severity]++;
  return c;
}

/** The exit code of a run: 2 with a critical finding (or, strict, a warning), 1 with a warning, else 0. */
export function exitCodeOf(counts: Counts, strict: boolean): 0 | 1 | 2 {
  if (counts.critical > 0 || (strict && counts.warn > 0)) return 2;
  return counts.warn > 0 ? 1 : 0;
}

/** Findings in report order: most severe first, then by first seq, then by detector. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(
    (a, b) =>
      RANK[b.severity] - RANK[a.severity] ||
      (a.seqs[0] ?? 0) - (b.seqs[0] ?? 0) ||
      (a.detector < b.detector ? -1 : a.detector > b.detector ? 1 : 0),
  );
}
