/**
 * @module Typed errors of the journal. Identify them by `code`, never by `instanceof`.
 * Each names its place: the file, the seq, the blob hash or the JSON path in a body.
 */

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
  | "journal.erase_refused";

/** Structured fields an error may carry. */
export interface JournalErrorFields {
  path?: string;
  seq?: number;
  kind?: string;
  /** JSON path inside an entry body, e.g. `$.world_public_key`. */
  body_path?: string;
  blob_hash?: string;
  expected?: string;
  actual?: string;
  /** The verify fault behind `journal.verify_failed`. */
  fault?: string;
  cause?: unknown;
}

/** An error with a stable code and the place it concerns. */
export class JournalError extends Error {
  readonly code: JournalErrorCode;
  readonly path: string | undefined;
  readonly seq: number | undefined;
  readonly kind: string | undefined;
  readonly body_path: string | undefined;
  readonly blob_hash: string | undefined;
  readonly expected: string | undefined;
  readonly actual: string | undefined;
  readonly fault: string | undefined;

  constructor(code: JournalErrorCode, message: string, fields: JournalErrorFields = {}) {
    const where = [fields.path, fields.seq === undefined ? undefined : `seq ${fields.seq}`, fields.body_path].filter((x) => x !== undefined);
    super(where.length ? `${message} (${where.join(", ")})` : message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = "JournalError";
    this.code = code;
    this.path = fields.path;
    this.seq = fields.seq;
    this.kind = fields.kind;
    this.body_path = fields.body_path;
    this.blob_hash = fields.blob_hash;
    this.expected = fields.expected;
    this.actual = fields.actual;
    this.fault = fields.fault;
  }
}

/** A blob whose bytes were erased; `erasure_seq` is the seq of the `erasure` entry. */
export class ErasedError extends JournalError {
  readonly erasure_seq: number;

  constructor(blobHash: string, erasureSeq: number) {
    super("journal.blob_erased", `blob ${blobHash} was erased by the erasure entry at seq ${erasureSeq}`, { blob_hash: blobHash });
    this.name = "ErasedError";
    this.erasure_seq = erasureSeq;
  }
}

/** True when `e` is a journal error with the given code (works across realms). */
export function isJournalError(e: unknown, code?: JournalErrorCode): e is JournalError {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string" && (code === undefined || (e as { code: string }).code === code);
}
