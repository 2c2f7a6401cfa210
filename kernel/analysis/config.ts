/**
 * @module The detectors' thresholds: the optional `analysis` section of a world's config.json
 * (kernel/world/config.ts embeds this schema), or a file given to `wk analyze --config`. Every
 * field has a default, so `{}` is a complete config. Windows are counted in seqs (journal
 * positions), never in wall-clock time, so a run over the same entries finds the same things.
 */
import { z } from "zod";

const count = z.number().int().positive();
const window = z.number().int().positive();

/** The schema of the `analysis` section (all fields optional; defaults below). */
export const AnalysisConfigSchema = z.strictObject({
  retry_storm: z
    .strictObject({
      /** The same effect (kind and canonical params) or the same failing step at least this often… */
      min_repeats: count.default(3),
      /** …within this many seqs is a storm (warn). */
      window_seqs: window.default(1000),
      /** This many repeats in a storm make it critical. */
      critical_repeats: count.default(10),
    })
    .prefault({}),
  silent_failure: z
    .strictObject({
      /** Event value fields read as a success claim (`status: "done"`, `ok: true`, …). */
      success_fields: z.array(z.string().min(1)).default(["status", "state", "result", "outcome"]),
      /** Boolean fields read as a success claim when true. */
      success_flags: z.array(z.string().min(1)).default(["ok", "success", "succeeded", "done"]),
      /** Values of `success_fields` that claim success (compared lower-case). */
      success_values: z
        .array(z.string().min(1))
        .default(["ok", "success", "succeeded", "done", "complete", "completed", "sent", "paid", "approved"]),
    })
    .prefault({}),
  delegation_cycle: z
    .strictObject({
      /** Cause chains are followed this many seqs back (older links are forgotten: bounded memory). */
      window_seqs: window.default(10_000),
      /** A chain that returns to a module this many times is critical. */
      critical_bounces: count.default(3),
    })
    .prefault({}),
  budget_burn: z
    .strictObject({
      window_seqs: window.default(1000),
      /** More allowed uses of one grant than this within the window is a burn (warn). */
      max_uses: count.default(100),
      /** More tokens (receipts' tokens in + out) of one grant within the window. */
      max_tokens: count.default(100_000),
      /** More cents (receipts' cost) of one grant within the window. */
      max_cents: count.default(1000),
    })
    .prefault({}),
  stalled_work: z
    .strictObject({
      /** An allowed intent without a deadline and without a receipt this many seqs before the end waits in vain. */
      receipt_wait_seqs: window.default(10_000),
      /** A proposal neither applied nor denied this many seqs before the end is stalled. */
      proposal_wait_seqs: window.default(10_000),
    })
    .prefault({}),
  structural_drift: z
    .strictObject({
      /** A change of a module's transition entropy by more than this many bits is drift. */
      entropy_bits: z.number().positive().default(2.5),
      /** Fuel per step growing or shrinking by more than this factor is drift. */
      fuel_factor: z.number().gt(1).default(4),
      /** Each window needs at least this many steps of the module to be compared. */
      min_steps: count.default(20),
    })
    .prefault({}),
});
export type AnalysisConfig = z.infer<typeof AnalysisConfigSchema>;

/** The defaults (what `{}` parses to). */
export function defaultAnalysisConfig(): AnalysisConfig {
  return AnalysisConfigSchema.parse({});
}
