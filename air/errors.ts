/**
 * @module The one error base of worldkernel (`WorldkernelError`: a stable `code`, a message and
 * the place: `path`, `seq`, `expected`, `actual`, `cause`) and the typed errors of the AIR layer.
 * Identify errors by `code`, never by `instanceof`: they cross worker and WASM boundaries.
 */

/**
 * Structured fields any worldkernel error may carry. Field names are snake_case, as in the
 * JSON the CLI prints (`first_bad_seq`, `blob_hash`), so an error serializes the same way.
 */
export interface ErrorFields {
  /** The place: a file path, or a JSON path such as `$.abi.workflow.state`. */
  path?: string | undefined;
  /** The journal entry the error concerns. */
  seq?: number | undefined;
  /** What was expected and what was found (hashes, roots, names), as text. */
  expected?: string | undefined;
  actual?: string | undefined;
  cause?: unknown;
}

/** An error as data: what `toJSON` gives (what `--json` output and logs show). */
export interface ErrorData {
  code: string;
  message: string;
  path?: string;
  seq?: number;
  expected?: string;
  actual?: string;
  [field: string]: unknown;
}

/**
 * The base of every worldkernel error. Each folder's `errors.ts` extends it with its own
 * code union (`"journal.hash_mismatch"`, `"kernel.bad_event"`, …) and extra snake_case fields.
 */
export class WorldkernelError<C extends string = string> extends Error {
  readonly code: C;
  readonly path: string | undefined;
  readonly seq: number | undefined;
  readonly expected: string | undefined;
  readonly actual: string | undefined;

  constructor(code: C, message: string, fields: ErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = "WorldkernelError";
    this.code = code;
    this.path = fields.path;
    this.seq = fields.seq;
    this.expected = fields.expected;
    this.actual = fields.actual;
  }

  /** The error as data: code, message and every field that is set (a coded `cause` as its code and message). */
  toJSON(): ErrorData {
    const out: ErrorData = { code: this.code, message: this.message };
    for (const [k, v] of Object.entries(this)) if (v !== undefined && k !== "name" && k !== "code") out[k] = v;
    const c = this.cause;
    if (c !== undefined)
      out.cause = c instanceof WorldkernelError ? c.toJSON() : { message: c instanceof Error ? c.message : String(c) };
    return out;
  }
}

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
  | "air.patch_conflict"
  /** Two def sets differ in a way no patch operation expresses (air/patch-diff.ts). */
  | "air.patch_inexpressible"
  | "air.bad_bundle"
  /** A policy condition (CEL) that does not parse, names an unknown variable or cannot give a bool. */
  | "air.bad_condition"
  | "air.manifest_mismatch";

/** A problem found at one place; `path` is a JSON path such as `$.abi.workflow.state`. */
export interface AirIssue {
  code: AirErrorCode;
  message: string;
  path: string;
  file?: string;
}

/** An AIR error: a stable code, the JSON path it was found at, and every issue found. */
export class AirError extends WorldkernelError<AirErrorCode> {
  declare readonly path: string;
  readonly issues: AirIssue[];

  constructor(
    code: AirErrorCode,
    message: string,
    path = "$",
    issues?: AirIssue[],
    fields: Omit<ErrorFields, "path"> = {},
  ) {
    super(code, path === "$" || path === "" ? message : `${message} (at ${path})`, { ...fields, path });
    this.name = "AirError";
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

/** True when `e` carries a string `code` (this one, if given): identification that works across realms and workers. */
export function hasCode(e: unknown, code?: string): e is { code: string; message?: string } {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as { code?: unknown }).code === "string" &&
    (code === undefined || (e as { code: string }).code === code)
  );
}
