/**
 * @module Shared CLI plumbing: exit codes (0 ok, 1 a check failed or bad input, 2 usage, 3 refused),
 * JSON or human output, and the one error format every command ends with:
 * `error: <code>: <message>` and a `hint:` line on stderr, or with `--json`
 * `{"ok": false, "code", "message", "hint", …fields}` on stdout; the exit code is the same.
 */
import { resolve } from "node:path";
import { WorldkernelError } from "../../air/errors.js";

/**
 * Exit codes every `wk` command uses. `wk analyze` is a CI gate with its own meaning for 1 and 2
 * (warnings, critical findings), so an input it cannot analyze (a world that fails verification,
 * a bad NDJSON line, a missing file) ends with `refused`, which no finding ever gives.
 */
export const EXIT = { ok: 0, check_failed: 1, usage: 2, refused: 3 } as const;

/** What an error carries besides its message. */
export interface ErrorInfo {
  /** Stable code (`cli.usage`, `kernel.bad_world`, …); defaults by exit code. */
  code?: string;
  /** What to do next. */
  hint?: string;
  /** More fields for the error record (`--json`), e.g. the `fault` a command's report names. */
  fields?: Record<string, unknown>;
}

/**
 * Thrown by command handlers to end with a given exit code. An empty message means the
 * command has already reported (a failed check prints its own report).
 */
export class CliExit extends WorldkernelError {
  readonly hint: string | undefined;

  constructor(
    readonly exitCode: number,
    message: string,
    info: ErrorInfo = {},
  ) {
    super(info.code ?? (exitCode === EXIT.usage ? "cli.usage" : "cli.bad_input"), message);
    this.name = "CliExit";
    this.hint = info.hint;
    if (info.fields)
      for (const [k, v] of Object.entries(info.fields))
        if (!NOT_FIELDS.has(k)) Object.defineProperty(this, k, { value: v, enumerable: true });
  }
}

/**
 * Any thrown value as a CliExit ending with `exitCode`, its record (code, message, hint,
 * fields) kept and `fields` added: for a command whose `--json` report named the failure
 * (`fault`) before it became an error, so JSON readers of either shape keep working.
 */
export function exitWith(e: unknown, exitCode: number, fields: Record<string, unknown> = {}): CliExit {
  const { code, message, hint, ...rest } = errorRecord(e);
  return new CliExit(exitCode, message, {
    code,
    ...(hint === undefined ? {} : { hint }),
    fields: { ...rest, ...fields },
  });
}

/** A Node system error (ENOENT, EACCES, EISDIR, …): it has an errno code and names its syscall. */
function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return (
    e instanceof Error &&
    typeof (e as NodeJS.ErrnoException).syscall === "string" &&
    /^E[A-Z0-9]+$/.test(String((e as NodeJS.ErrnoException).code))
  );
}

/**
 * Runs a file operation of a command; a file-system failure ends it as `cli.bad_file` (exit 1)
 * naming the file the user gave: `cannot write out.wasm: ENOENT: no such file or directory`.
 */
export function onFile<T>(verb: "read" | "write", file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    // "ENOENT: no such file or directory, open '…'" without the syscall and path: the message names the file given.
    if (isSystemError(e))
      throw new CliExit(EXIT.check_failed, `cannot ${verb} ${file}: ${e.message.replace(/, \w+ '.*'$/s, "")}`, {
        code: "cli.bad_file",
        fields: { path: file },
      });
    throw e;
  }
}

/** The world directory from `--world`, defaulting to `./.wk/world`. */
export function worldDir(opt: string | undefined): string {
  return resolve(opt ?? ".wk/world");
}

/** Writes JSON (bigints as strings, bytes as hex) followed by a newline. */
export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, jsonReplacer, 2) + "\n");
}

/** JSON replacer for kernel values: bigint → string, bytes → hex, Map → entries. */
export function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v === "bigint") return v.toString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (v instanceof Map) return [...v.entries()];
  return v;
}

/** The one shape of a reported error. */
export interface ErrorRecord {
  code: string;
  message: string;
  hint?: string;
  [field: string]: unknown;
}

const NOT_FIELDS = new Set(["stack", "message", "name", "cause", "code", "hint", "exitCode"]);

/** Any thrown value as an ErrorRecord: its code, message, hint and typed fields (path, seq, …). */
export function errorRecord(e: unknown): ErrorRecord {
  if (!(e instanceof Error) && !(e && typeof e === "object"))
    return { code: "cli.internal", message: String(e), hint: hintFor("cli.internal")! };
  const o = e as Record<string, unknown>;
  // A file-system failure nothing turned into a CliExit (onFile) is still about a file, not a bug.
  const fallback = isSystemError(e) ? "cli.io_error" : "cli.internal";
  const code =
    typeof o.code === "string" && /^[a-z_]+\.[a-z0-9_.]+$/.test(o.code)
      ? o.code
      : e instanceof CliExit
        ? e.code
        : fallback;
  const message = typeof o.message === "string" ? o.message : String(e);
  const rec: ErrorRecord = { code, message };
  for (const [k, v] of Object.entries(o))
    if (!NOT_FIELDS.has(k) && v !== undefined && typeof v !== "function" && !isEmptyObject(v)) rec[k] = v;
  const hint = typeof o.hint === "string" ? o.hint : hintFor(code);
  if (hint !== undefined) rec.hint = hint;
  return rec;
}

/** `{}` (an error's empty `details`): not worth a field. */
function isEmptyObject(v: unknown): boolean {
  return (
    typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype && Object.keys(v).length === 0
  );
}

/** Prints an error in the one CLI format (stderr text, or a JSON record on stdout). */
export function reportError(e: unknown, json: boolean): void {
  const rec = errorRecord(e);
  if (json) {
    printJson({ ok: false, ...rec });
    return;
  }
  const lines = [`error: ${rec.code}: ${rec.message}`];
  if (rec.hint) lines.push(`hint: ${rec.hint}`);
  process.stderr.write(lines.join("\n") + "\n");
}

/** The `code: message` of any thrown value, for lines inside a report. */
export function describeError(e: unknown): string {
  const rec = errorRecord(e);
  return `${rec.code}: ${rec.message}`;
}

/** What to do next, by code or by the code's area. */
function hintFor(code: string): string | undefined {
  const exact: Record<string, string> = {
    "cli.usage": "see `wk <command> --help`",
    "cli.internal": "this is a bug in worldkernel: please report it with the command you ran",
    "cli.io_error": "check the path and its permissions",
    "journal.not_found": "check --world (default ./.wk/world); `wk create <air-dir> --world DIR` makes a world",
    "crypto.key_not_found": "check the key file's path; `wk keys new FILE` makes a key pair",
    "kernel.config_mismatch": "the world's config.json contradicts its genesis: restore config.json, or fork the world",
    "kernel.undeclared_key":
      "the adapter key file is not one the journal declares: restore it, or rotate with `wk keys rotate-adapter`",
    "kernel.not_a_boundary": "drop --exact to stop at the batch boundary before this seq",
    "kernel.idempotency_conflict": "this idempotency key was used for a different event: use a fresh key",
    "journal.lease_held":
      "another process or `wk worker` node writes this world: hand it events with `wk enqueue`, or wait for its lease to expire",
    "journal.lease_lost": "another node took this world's lease; nothing was written after that",
    "journal.locked":
      "another process writes this world (`wk serve`, `wk mcp`, or a command still running): send it events through that server (POST /v1/worlds/ID/events, or MCP's send_event), or stop it first; read-only commands (`wk log`, `wk info`, `wk verify`, `wk trace`, `wk analyze`) work beside it. Nothing was written",
    "kernel.same_store": "the world is already there; `wk info` shows where its journal lives",
    "compile.toolchain_missing": "install the package named above (an optional peer of worldkernel)",
    "module.toolchain_missing": "install the package named above (an optional peer of worldkernel)",
  };
  if (exact[code]) return exact[code];
  const area = code.slice(0, code.indexOf("."));
  const byArea: Record<string, string> = {
    journal: "run `wk verify --world DIR` for the full report; the journal was not changed",
    air: "run `wk air check DIR` to see every problem with its JSON path",
    governance: "see `wk shadow`, `wk approve` and `wk apply --help`; docs/governance.md explains who may sign what",
  };
  return byArea[area];
}
