/**
 * @module Typed errors of the adapter layer. Outside failures never throw (they become
 * error/timeout outcomes); these are for bad params, bad config and programming errors.
 * Identify them by `code`.
 */
import { WorldkernelError } from "../../air/errors.js";

/** Stable codes for what the adapter layer can reject. */
export type AdapterErrorCode =
  "adapter.invalid_params" | "adapter.invalid_config" | "adapter.unknown_kind" | "adapter.duplicate_kind";

/** An adapter-layer error naming the effect kind and the params path at fault. */
export class AdapterError extends WorldkernelError<AdapterErrorCode> {
  /** The effect kind, e.g. `http.request`. */
  readonly kind: string;
  /** JSON path inside the params (`$` for the whole). */
  declare readonly path: string;

  constructor(code: AdapterErrorCode, kind: string, message: string, path = "$", options?: { cause?: unknown }) {
    super(code, `${kind}: ${message}${path === "$" ? "" : ` (at ${path})`}`, { path, cause: options?.cause });
    this.name = "AdapterError";
    this.kind = kind;
  }
}
