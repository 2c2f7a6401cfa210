/**
 * @module Typed errors of the journal analysis: an input it cannot judge (a bad NDJSON line, a
 * broken chain of lines, a journal that fails verification). Identify by `code`; each names its
 * place (`line`, `seq`). Built on the one base, `WorldkernelError`.
 */
import { WorldkernelError, type ErrorFields } from "../../air/errors.js";

/** Stable codes for analysis failures. */
export type AnalysisErrorCode =
  /** A line of an NDJSON export is not JSON, or not an entry (its `line` names it). */
  | "analysis.bad_line"
  /** Lines of an NDJSON export do not follow each other: a seq skipped or repeated, a `prev_hash` that is not the line before's `hash`. */
  | "analysis.broken_chain"
  /** The world's journal fails verification: its findings would be about a history nobody can vouch for. */
  | "analysis.unverified"
  /** An option or a config section the analysis cannot use. */
  | "analysis.bad_config"
  /** `wk trace` / `wk explain` were asked about an entry, intent or key the journal does not hold. */
  | "analysis.not_found";

/** An analysis failure: its code, message and place (`line` for NDJSON input). */
export class AnalysisError extends WorldkernelError<AnalysisErrorCode> {
  readonly line: number | undefined;

  constructor(code: AnalysisErrorCode, message: string, fields: ErrorFields & { line?: number } = {}) {
    super(code, message, fields);
    this.name = "AnalysisError";
    this.line = fields.line;
  }
}
