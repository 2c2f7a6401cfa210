/**
 * @module Typed errors of the journal. Identify them by `code`, never by `instanceof`.
 * Each names its place: the file, the seq, the blob hash or the JSON path in a body.
 */
import { WorldkernelError, hasCode, type ErrorFields } from "../../air/errors.js";

/** Stable codes for everything the journal can refuse. */
export type JournalErrorCode =
  | "journal.not_found"
  | "journal.exists"
  | "journal.locked"
  | "journal.corrupt"
  | "journal.not_a_journal"
  | "journal.unsupported_version"
  | "journal.bad_body"
  | "journal.bad_kind"
  | "journal.bad_sequence"
  | "journal.readonly"
  | "journal.closed"
  | "journal.blob_not_found"
  | "journal.blob_erased"
  | "journal.out_of_range"
  | "journal.bad_anchor"
  | "journal.no_signing_key"
  | "journal.wrong_key"
  | "journal.duplicate_receipt"
  | "journal.duplicate_ingress"
  | "journal.blob_hash_mismatch"
  | "journal.verify_failed"
  | "journal.verify_lane_failed"
  | "journal.erase_refused"
  | "journal.lease_held"
  | "journal.lease_lost";

/** Structured fields an error may carry: the base ones (`path` is the journal file) and the journal's own. */
export interface JournalErrorFields extends ErrorFields {
  kind?: string | undefined;
  /** JSON path inside an entry body, e.g. `$.world_public_key`. */
  body_path?: string | undefined;
  blob_hash?: string | undefined;
  /** The verify fault behind `journal.verify_failed`. */
  fault?: string | undefined;
}

/** An error with a stable code and the place it concerns. */
export class JournalError extends WorldkernelError<JournalErrorCode> {
  readonly kind: string | undefined;
  readonly body_path: string | undefined;
  readonly blob_hash: string | undefined;
  readonly fault: string | undefined;

  constructor(code: JournalErrorCode, message: string, fields: JournalErrorFields = {}) {
    const where = [fields.path, fields.seq === undefined ? undefined : `seq ${fields.seq}`, fields.body_path].filter(
      (x) => x !== undefined,
    );
    super(code, where.length ? `${message} (${where.join(", ")})` : message, fields);
    this.name = "JournalError";
    this.kind = fields.kind;
    this.body_path = fields.body_path;
    this.blob_hash = fields.blob_hash;
    this.fault = fields.fault;
  }
}

/** A blob whose bytes were erased; `erasure_seq` is the seq of the `erasure` entry. */
export class ErasedError extends JournalError {
  readonly erasure_seq: number;

  constructor(blobHash: string, erasureSeq: number) {
    super("journal.blob_erased", `blob ${blobHash} was erased by the erasure entry at seq ${erasureSeq}`, {
      blob_hash: blobHash,
    });
    this.name = "ErasedError";
    this.erasure_seq = erasureSeq;
  }
}

/** True when `e` is a journal error with the given code (works across realms). */
export function isJournalError(e: unknown, code?: JournalErrorCode): e is JournalError {
  return hasCode(e, code);
}
