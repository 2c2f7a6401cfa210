/**
 * @module The detectors' names, apart from finding.ts so the metrics (which count findings per
 * detector) can name them without importing the report schema that embeds the metrics.
 */
import { z } from "zod";

/** The detectors, by name. */
export const DetectorNameSchema = z.enum([
  "retry_storm",
  "silent_failure",
  "delegation_cycle",
  "budget_burn",
  "stalled_work",
  "structural_drift",
]);
export type DetectorName = z.infer<typeof DetectorNameSchema>;
