/**
 * @module Typed errors of the crypto layer (keys, signatures, proofs). Identify them by
 * `code`, never by `instanceof`; secret key material never appears in a message.
 */

/** Stable codes for everything the crypto layer can reject. */
export type CryptoErrorCode =
  | "crypto.key_not_found"
  | "crypto.key_exists"
  | "crypto.bad_key_file"
  | "crypto.key_permissions"
  | "crypto.no_secret_key"
  | "crypto.bad_key"
  | "crypto.bad_purpose";

/** An error with a stable code and, when it concerns a file, its path. */
export class CryptoError extends Error {
  readonly code: CryptoErrorCode;
  readonly path: string | undefined;

  constructor(code: CryptoErrorCode, message: string, fields: { path?: string; cause?: unknown } = {}) {
    super(fields.path === undefined ? message : `${message} (${fields.path})`, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = "CryptoError";
    this.code = code;
    this.path = fields.path;
  }
}
