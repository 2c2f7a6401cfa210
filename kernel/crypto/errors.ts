/**
 * @module Typed errors of the crypto layer (keys, signatures, proofs). Identify them by
 * `code`, never by `instanceof`; secret key material never appears in a message.
 */
import { WorldkernelError, type ErrorFields } from "../../air/errors.js";

/** Stable codes for everything the crypto layer can reject. */
export type CryptoErrorCode =
  | "crypto.key_not_found"
  | "crypto.key_exists"
  | "crypto.bad_key_file"
  | "crypto.key_permissions"
  | "crypto.no_secret_key"
  | "crypto.bad_key"
  | "crypto.bad_purpose"
  | "crypto.bad_signature";

/** An error with a stable code and, when it concerns a file, its path. */
export class CryptoError extends WorldkernelError<CryptoErrorCode> {
  constructor(code: CryptoErrorCode, message: string, fields: ErrorFields = {}) {
    super(code, fields.path === undefined ? message : `${message} (${fields.path})`, fields);
    this.name = "CryptoError";
  }
}
