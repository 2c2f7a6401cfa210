/**
 * @module Count, median and max of a set of durations in ns, as the metrics print them: decimal
 * text, since a duration in ns outgrows a JSON number's exact range (2^53 ns is 104 days).
 */
import { z } from "zod";

/** Durations summarized: how many, their (lower) median and their max; null when there are none. */
export const NsStatsSchema = z.strictObject({
  count: z.number().int().nonnegative(),
  median: z.union([z.null(), z.string()]),
  max: z.union([z.null(), z.string()]),
});
export type NsStats = z.infer<typeof NsStatsSchema>;

/** Summarizes `values` (not changed). */
export function nsStats(values: readonly bigint[]): NsStats {
  const sorted = [...values].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    count: sorted.length,
    median: sorted.length === 0 ? null : sorted[(sorted.length - 1) >> 1]!.toString(),
    max: sorted.length === 0 ? null : sorted[sorted.length - 1]!.toString(),
  };
}
