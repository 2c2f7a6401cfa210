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

/** Stable codes for why a secret could not be used; none of them carries the value. */
export type SecretErrorCode =
  | "secret.unknown"
  | "secret.not_allowed"
  | "secret.unavailable"
  | "secret.bad_binding"
  | "secret.bad_file"
  | "secret.file_permissions"
  | "secret.digest_mismatch"
  | "secret.bad_value";

/**
 * A secret that cannot be resolved or used, naming the secret (never its value). Adapters turn
 * it into an `error` receipt (`secret_unavailable` or `secret_not_allowed`), never a crash.
 */
export class SecretError extends WorldkernelError<SecretErrorCode> {
  /** The defsecret name, e.g. `acme/doc_api@1` (or the binding id for a store-level fault). */
  readonly secret: string;

  constructor(code: SecretErrorCode, secret: string, message: string, fields: { path?: string } = {}) {
    super(code, `${secret}: ${message}`, fields);
    this.name = "SecretError";
    this.secret = secret;
  }
}
