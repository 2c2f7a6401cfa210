/**
 * @module The heuristic that reads an event as claiming success: its value (a record) has a
 * `success_fields` field (status, state, result, outcome) whose text is one of `success_values`
 * (ok, done, completed, sent, paid, …, compared lower-case), or a `success_flags` field (ok,
 * success, succeeded, done) that is `true`. Top-level fields only: a heuristic, documented in
 * docs/analysis.md, tunable in config, never a proof.
 */
import type { AnalysisConfig } from "./config.js";

/** A compiled claim test for one config. */
export type SuccessClaim = (value: unknown) => boolean;

/** The success-claim test of a config. */
export function successClaim(cfg: AnalysisConfig["silent_failure"]): SuccessClaim {
  const values = new Set(cfg.success_values.map((v) => v.toLowerCase()));
  return (value) => {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
    const v = value as Record<string, unknown>;
    for (const f of cfg.success_flags) if (v[f] === true) return true;
    for (const f of cfg.success_fields) {
      const x = v[f];
      if (typeof x === "string" && values.has(x.toLowerCase())) return true;
    }
    return false;
  };
}
