/**
 * @module Typed errors of the AIR layer. Identify them by `code`, never by `instanceof`:
 * they cross worker and WASM boundaries. Every error names its place (`path`, `file`, `offset`).
 */

/** Stable codes for everything the AIR layer can reject. */
export type AirErrorCode =
  | "cbor.unsupported_value"
  | "cbor.non_canonical"
  | "cbor.malformed"
  | "cbor.trailing_bytes"
  | "cbor.missing_prefix"
  | "air.invalid_json"
  | "air.invalid_unicode"
  | "air.schema_violation"
  | "air.unknown_ref"
  | "air.duplicate_name"
  | "air.type_mismatch"
  | "air.out_of_range"
  | "air.invalid_type"
  | "air.io_error"
  | "air.patch_conflict";

/** A problem found at one place; `path` is a JSON path such as `$.abi.workflow.state`. */
export interface AirIssue {
  code: AirErrorCode;
  message: string;
  path: string;
  file?: string;
}

/** An error with a stable code and the place it was found. */
export class AirError extends Error {
  readonly code: AirErrorCode;
  readonly path: string;
  readonly issues: AirIssue[];

  constructor(code: AirErrorCode, message: string, path = "$", issues?: AirIssue[], options?: { cause?: unknown }) {
    super(path === "$" || path === "" ? message : `${message} (at ${path})`, options);
    this.name = "AirError";
    this.code = code;
    this.path = path;
    this.issues = issues ?? [{ code, message, path }];
  }
}

/** Renders a JSON path segment list as `$.a[0].b`. */
export function jsonPath(segments: readonly (string | number)[]): string {
  let out = "$";
  for (const s of segments) {
    if (typeof s === "number") out += `[${s}]`;
    else if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s)) out += `.${s}`;
    else out += `[${JSON.stringify(s)}]`;
  }
  return out;
}
