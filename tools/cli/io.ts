/**
 * @module Shared CLI plumbing: exit codes (0 ok, 1 a check failed or bad input, 2 usage),
 * JSON or human output, and the one error format every command ends with:
 * `error: <code>: <message>` and a `hint:` line on stderr, or with `--json`
 * `{"ok": false, "code", "message", "hint", …fields}` on stdout; the exit code is the same.
 */
import { resolve } from "node:path";

/** Exit codes every `wk` command uses. */
export const EXIT = { ok: 0, check_failed: 1, usage: 2 } as const;

/** What an error carries besides its message. */
export interface ErrorInfo {
  /** Stable code (`cli.usage`, `kernel.bad_world`, …); defaults by exit code. */
  code?: string;
  /** What to do next. */
  hint?: string;
}

/**
 * Thrown by command handlers to end with a given exit code. An empty message means the
 * command has already reported (a failed check prints its own report).
 */
export class CliExit extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(
    readonly exitCode: number,
    message: string,
    info: ErrorInfo = {},
  ) {
    super(message);
    this.code = info.code ?? (exitCode === EXIT.usage ? "cli.usage" : "cli.bad_input");
    this.hint = info.hint;
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
  if (!(e instanceof Error) && !(e && typeof e === "object")) return { code: "cli.internal", message: String(e), hint: hintFor("cli.internal")! };
  const o = e as Record<string, unknown>;
  const code = typeof o.code === "string" && /^[a-z_]+\.[a-z0-9_.]+$/.test(o.code) ? o.code : e instanceof CliExit ? e.code : "cli.internal";
  const message = typeof o.message === "string" ? o.message : String(e);
  const rec: ErrorRecord = { code, message };
  for (const [k, v] of Object.entries(o)) if (!NOT_FIELDS.has(k) && v !== undefined && typeof v !== "function") rec[k] = v;
  const hint = typeof o.hint === "string" ? o.hint : hintFor(code);
  if (hint !== undefined) rec.hint = hint;
  return rec;
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
    "kernel.config_mismatch": "the world's config.json contradicts its genesis: restore config.json, or fork the world",
    "kernel.undeclared_key": "the adapter key file is not one the journal declares: restore it, or rotate with `wk keys rotate-adapter`",
    "kernel.not_a_boundary": "drop --exact to stop at the batch boundary before this seq",
    "kernel.idempotency_conflict": "this idempotency key was used for a different event: use a fresh key",
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
