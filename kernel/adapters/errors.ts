/**
 * @module Typed errors of the adapter layer. Outside failures never throw (they become
 * error/timeout outcomes); these are for bad params, bad config and programming errors.
 * Identify them by `code`.
 */

/** Stable codes for what the adapter layer can reject. */
export type AdapterErrorCode = "adapter.invalid_params" | "adapter.invalid_config" | "adapter.unknown_kind" | "adapter.duplicate_kind";

/** An adapter-layer error naming the effect kind and the params path at fault. */
export class AdapterError extends Error {
  readonly code: AdapterErrorCode;
  readonly kind: string;
  readonly path: string;

  constructor(code: AdapterErrorCode, kind: string, message: string, path = "$", options?: { cause?: unknown }) {
    super(`${kind}: ${message}${path === "$" ? "" : ` (at ${path})`}`, options);
    this.name = "AdapterError";
    this.code = code;
    this.kind = kind;
    this.path = path;
  }
}
