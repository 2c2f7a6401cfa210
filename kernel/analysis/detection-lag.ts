/**
 * @module Time from an anomaly to its detection, per detector: for each finding, the journal time
 * at the seq where the detector crossed its threshold (`detected_seq`) minus the journal time at
 * the finding's first seq (journal-clock.ts: the latest time recorded at or before a seq). A
 * detector that reads every entry as it comes detects at once in seqs; the lag says how much
 * of the world's time that took — e.g. how long a retry storm ran before it had its k-th retry.
 * A finding whose seqs precede every recorded time has no lag and is not counted.
 */
import { z } from "zod";
import { DetectorNameSchema, type DetectorName } from "./detector-name.js";
import type { JournalClock } from "./journal-clock.js";
import { NsStatsSchema, nsStats } from "./ns-stats.js";

/** Detection lag per detector (ns, decimal text); every detector is listed, count 0 when it found nothing. */
export const DetectionLagSchema = z.record(DetectorNameSchema, NsStatsSchema);
export type DetectionLag = z.infer<typeof DetectionLagSchema>;

/** What the lag reads of a finding (finding.ts's type has it; named here, since that file embeds the metrics). */
export interface Detected {
  detector: DetectorName;
  seqs: readonly number[];
  detected_seq?: number | undefined;
}

/** The detection lag of `findings`, read on `clock`. */
export function detectionLag(findings: readonly Detected[], clock: JournalClock): DetectionLag {
  const lags = new Map<DetectorName, bigint[]>(DetectorNameSchema.options.map((d) => [d, []]));
  for (const f of findings) {
    const first = f.seqs[0];
    if (first === undefined || f.detected_seq === undefined) continue;
    const from = clock.at(first);
    const to = clock.at(f.detected_seq);
    if (from !== null && to !== null && to >= from) lags.get(f.detector)!.push(to - from);
  }
  return Object.fromEntries([...lags].map(([d, xs]) => [d, nsStats(xs)])) as DetectionLag;
}
