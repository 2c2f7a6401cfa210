/**
 * @module `wk send --file <events.jsonl>` (or `--file -` for stdin): bulk ingest of NDJSON,
 * one `{"schema": "…", "value": {…}, "idempotency_key"?: "…"}` object per line, through
 * the library's group commit (`World.sendMany`, one transaction per batch).
 *
 * Semantics:
 * - A regular file is checked whole before anything is appended (JSON, shape, the event
 *   against its schema, idempotency keys against the file and the journal), so a bad file
 *   appends nothing. Standard input (or a named pipe) cannot be read twice: its lines are
 *   checked as they come, the valid lines before a bad one are committed, and ingest stops
 *   at the bad line (nothing after it is read).
 * - A bad line is an `IngestLineError` naming its 1-based line number, with the JSON path
 *   inside the line where there is one (`$.value.by`); the command exits 1 and reports how
 *   many events were appended before it. Blank lines are skipped (they still count for
 *   line numbers).
 * - Acknowledged means committed: the progress bar and every count reported move only after
 *   a batch's transaction returned (synchronous=FULL fsyncs it; a world created with
 *   `--normal` may lose the last commits on power loss, never on a crash).
 * - A batch closes at `batchSize` events, or, on a stream, when the input has been idle for
 *   `idleMs` (a slow producer on a pipe still sees its events committed).
 * - A step that fails is not a bad line: it is journaled like any other; the summary counts
 *   it and the command exits 1, as `wk send` does.
 */
import { createReadStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import cliProgress from "cli-progress";
import { WorldkernelError, jsonPath } from "../../../air/errors.js";
import { parseJsonLossless } from "../../../air/json.js";
import { cascadeReport, type StepFailure } from "../../../kernel/world/cascade-report.js";
import { admit, journalKeys } from "../../../kernel/world/ingress.js";
import type { World } from "../../../kernel/world/world.js";
import { CliExit, EXIT, printJson } from "../io.js";

/** Codes of a bad line: the parse and shape codes here, or the kernel's for the event itself. */
export type IngestLineCode =
  | "ingest.invalid_json"
  | "ingest.invalid_unicode"
  | "ingest.bad_line"
  | "ingest.line_too_long"
  | "kernel.unknown_schema"
  | "kernel.bad_event"
  | "kernel.idempotency_conflict";

/** A line of the input that is not an event this world accepts. */
export class IngestLineError extends WorldkernelError<IngestLineCode> {
  /** What to do next (set once ingest knows what was committed). */
  hint: string | undefined;
  constructor(
    code: IngestLineCode,
    /** The 1-based line number. */
    readonly line: number,
    detail: string,
    /** JSON path inside the line's object (`$.value.by`), or a byte offset (`@12`) for bad UTF-8. */
    path?: string,
  ) {
    super(code, `line ${line}${path === undefined ? "" : ` at ${path}`}: ${detail}`, { path });
    this.name = "IngestLineError";
  }
}

/** One event of the input, checked. */
export interface IngestEvent {
  line: number;
  schema: string;
  json: unknown;
  idempotencyKey?: string;
}

/** What an ingest did; every count is of committed work. */
export interface IngestSummary {
  ok: boolean;
  /** The file read, or "-" for standard input. */
  source: string;
  /** Event lines read (blank lines not counted); for a bad file, the lines checked. */
  lines: number;
  /** Events appended (not counting duplicates). */
  events: number;
  /** Lines whose idempotency key was already used for the same request: nothing appended. */
  duplicates: number;
  steps: number;
  failures: number;
  /** The first failed steps (at most 100), as `wk send` reports them. */
  failed_steps: StepFailure[];
  /** Journal entries appended (events, steps, intents, automatic checkpoints, …). */
  entries: number;
  /** The seq range appended (before the closing snapshot and checkpoint); null when nothing was. */
  seq: { first: number; last: number } | null;
  batches: number;
  batch_size: number;
  duration_ms: number;
  events_per_s: number;
  state_root: string;
  /** Why ingest stopped early (a bad line). */
  error?: { code: string; message: string; line: number; path?: string; hint: string };
  /** For a file: it was checked whole first, so a bad file appended nothing. */
  checked_first: boolean;
}

/** How to ingest. */
export interface IngestOptions {
  /** Events per group commit. */
  batchSize: number;
  /** The source can be read only once (stdin, a pipe): check lines as they come and stop at a bad one. Default: only for "-". */
  stream?: boolean;
  /** A stream only: close a batch early when no input arrived for this long (ms; default 200). */
  idleMs?: number;
  /** Show progress bars on stderr (the caller decides: only on a TTY). */
  progress?: boolean;
}

const MAX_LINE_BYTES = 32 << 20;
const MAX_LISTED_FAILURES = 100;
const IDLE = Symbol("idle");

/** A line of input: its 1-based number and bytes (without the newline and a trailing CR). */
interface RawLine {
  line: number;
  bytes: Uint8Array;
}

function isBlank(b: Uint8Array): boolean {
  for (const c of b) if (c !== 0x20 && c !== 0x09 && c !== 0x0d) return false;
  return true;
}

/**
 * Splits a byte stream into lines. `onIdle` runs whenever the next chunk has not arrived
 * within `idleMs` (the caller commits what it holds).
 */
async function* lines(
  input: Readable,
  opts: { idleMs: number; onIdle?: () => Promise<void>; onBytes?: (n: number) => void },
): AsyncGenerator<RawLine> {
  const it = input[Symbol.asyncIterator]() as AsyncIterator<Buffer | string>;
  let carry: Buffer[] = [];
  let carried = 0;
  let n = 0;
  const take = (b: Buffer): RawLine => {
    n++;
    const end = b.length > 0 && b[b.length - 1] === 0x0d ? b.length - 1 : b.length;
    return { line: n, bytes: b.subarray(0, end) };
  };
  try {
    for (;;) {
      let next: IteratorResult<Buffer | string> | typeof IDLE;
      const pending = it.next();
      if (opts.onIdle) {
        let timer: NodeJS.Timeout | undefined;
        next = await Promise.race([
          pending,
          new Promise<typeof IDLE>((res) => (timer = setTimeout(() => res(IDLE), opts.idleMs))),
        ]);
        clearTimeout(timer);
        if (next === IDLE) {
          await opts.onIdle();
          next = await pending;
        }
      } else next = await pending;
      if (next.done) break;
      const chunk = typeof next.value === "string" ? Buffer.from(next.value) : next.value;
      opts.onBytes?.(chunk.length);
      let from = 0;
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, from)) {
        const piece = chunk.subarray(from, i);
        from = i + 1;
        if (carried + piece.length > MAX_LINE_BYTES)
          throw new IngestLineError("ingest.line_too_long", n + 1, `a line is limited to ${MAX_LINE_BYTES} bytes`);
        const whole = carry.length === 0 ? piece : Buffer.concat([...carry, piece]);
        carry = [];
        carried = 0;
        yield take(whole);
      }
      if (from < chunk.length) {
        carried += chunk.length - from;
        if (carried > MAX_LINE_BYTES)
          throw new IngestLineError("ingest.line_too_long", n + 1, `a line is limited to ${MAX_LINE_BYTES} bytes`);
        // Copy: the stream may reuse its buffer.
        carry.push(Buffer.from(chunk.subarray(from)));
      }
    }
    if (carried > 0) yield take(Buffer.concat(carry));
  } finally {
    await it.return?.();
  }
}

const ALLOWED_KEYS = new Set(["schema", "value", "idempotency_key"]);

/** Parses one line into an event (shape only). */
export function parseLine(raw: RawLine): IngestEvent {
  let v: unknown;
  try {
    // A UTF-8 BOM at the very start of the input is tolerated, as editors write one.
    const bytes =
      raw.line === 1 && raw.bytes[0] === 0xef && raw.bytes[1] === 0xbb && raw.bytes[2] === 0xbf
        ? raw.bytes.subarray(3)
        : raw.bytes;
    v = parseJsonLossless(bytes);
  } catch (e) {
    const err = e as { code?: string; path?: string; message: string };
    if (err.code === "air.invalid_unicode")
      throw new IngestLineError(
        "ingest.invalid_unicode",
        raw.line,
        `invalid UTF-8 at byte ${String(err.path ?? "").replace(/^@/, "")} of the line`,
        err.path,
      );
    throw new IngestLineError("ingest.invalid_json", raw.line, `not valid JSON: ${err.message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    throw new IngestLineError(
      "ingest.bad_line",
      raw.line,
      `expected an object {"schema": "…", "value": {…}}, got ${Array.isArray(v) ? "an array" : v === null ? "null" : typeof v}`,
      "$",
    );
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!ALLOWED_KEYS.has(k))
      throw new IngestLineError(
        "ingest.bad_line",
        raw.line,
        `unknown field ${JSON.stringify(k)} (a line holds schema, value and optionally idempotency_key)`,
        jsonPath([k]),
      );
  }
  if (typeof o.schema !== "string" || o.schema.length === 0)
    throw new IngestLineError("ingest.bad_line", raw.line, "schema must be a non-empty string", "$.schema");
  if (!("value" in o)) throw new IngestLineError("ingest.bad_line", raw.line, "value is missing", "$.value");
  const key = o.idempotency_key;
  if (key !== undefined && (typeof key !== "string" || key.length === 0))
    throw new IngestLineError(
      "ingest.bad_line",
      raw.line,
      "idempotency_key must be a non-empty string",
      "$.idempotency_key",
    );
  return { line: raw.line, schema: o.schema, json: o.value, ...(key === undefined ? {} : { idempotencyKey: key }) };
}

/**
 * Reads a regular NDJSON file (or its bytes) of events as `wk send --file` reads it (blank lines skipped, each
 * line parsed by `parseLine`) without checking the events against a world: `wk shadow --events`
 * checks them under the proposed manifest. Throws the first bad line (`IngestLineError`).
 */
export async function readNdjsonEvents(source: string | Uint8Array): Promise<IngestEvent[]> {
  const out: IngestEvent[] = [];
  const input = typeof source === "string" ? createReadStream(source) : Readable.from([Buffer.from(source)]);
  for await (const raw of lines(input, { idleMs: 0 })) {
    if (isBlank(raw.bytes)) continue;
    out.push(parseLine(raw));
  }
  return out;
}

/** Idempotency keys this input used so far: the line each was first used on and its request hash. */
type SeenKeys = Map<string, { line: number; requestHash: string }>;

/**
 * Admits one event against the world (ingress.ts): its schema and value, and its idempotency
 * key against earlier lines (`seen`) and the journal. Throws `IngestLineError`.
 */
function checkEvent(w: World, e: IngestEvent, seen: SeenKeys): void {
  const journal = journalKeys(w.store);
  const r = admit<{ seq: number } | { line: number }>(w.catalog, [e], (key) => {
    const earlier = seen.get(key);
    return earlier === undefined ? journal(key) : { requestHash: earlier.requestHash, first: { line: earlier.line } };
  });
  if (!r.ok) {
    const issue = r.issues[0]!;
    // The path names the place, so the message drops the value check's ` (at $.x)`.
    const detail =
      issue.code === "kernel.bad_event" ? `event does not match ${issue.schema}: ${issue.detail}` : issue.message;
    throw new IngestLineError(issue.code, e.line, detail, issue.path);
  }
  const a = r.events[0]!;
  // A key first seen in this input (or repeating the journal's request) is named by its line from here on.
  if (a.idempotency !== undefined && (a.duplicateOf === undefined || "seq" in a.duplicateOf))
    seen.set(a.idempotency.key, { line: e.line, requestHash: a.idempotency.requestHash });
}

/** A bar on stderr, or nothing. */
function bar(show: boolean, format: string): cliProgress.SingleBar | undefined {
  return show
    ? new cliProgress.SingleBar(
        { format, stream: process.stderr, clearOnComplete: true, hideCursor: true },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
}

/**
 * Checks every line of a file against the world without appending anything; returns the
 * number of event lines. Throws the first bad line.
 */
async function checkFile(w: World, path: string, opts: IngestOptions, onGood: () => void): Promise<void> {
  const { size } = statSync(path);
  const b = bar(opts.progress === true && size > 1 << 20, "check [{bar}] {percentage}% of the file");
  b?.start(size, 0);
  let read = 0;
  const seen: SeenKeys = new Map();
  try {
    for await (const raw of lines(createReadStream(path), { idleMs: 0, onBytes: (n) => b?.update((read += n)) })) {
      if (isBlank(raw.bytes)) continue;
      checkEvent(w, parseLine(raw), seen);
      onGood();
    }
  } finally {
    b?.stop();
  }
}

/**
 * Ingests NDJSON events from `source` (a path, or "-" for standard input) into the open
 * world `w`. Never throws for a bad line: the summary carries it (`ok: false`, `error`),
 * after everything before it was committed. Other errors (I/O, the journal) propagate.
 */
export async function ingestNdjson(w: World, source: string, opts: IngestOptions): Promise<IngestSummary> {
  return (await ingest(w, source, opts)).summary;
}

async function ingest(
  w: World,
  source: string,
  opts: IngestOptions,
): Promise<{ summary: IngestSummary; error?: IngestLineError }> {
  const started = performance.now();
  const stdin = opts.stream ?? source === "-";
  const firstSeq = w.store.countSync();
  const summary: IngestSummary = {
    ok: true,
    source,
    lines: 0,
    events: 0,
    duplicates: 0,
    steps: 0,
    failures: 0,
    failed_steps: [],
    entries: 0,
    seq: null,
    batches: 0,
    batch_size: opts.batchSize,
    duration_ms: 0,
    events_per_s: 0,
    state_root: "",
    checked_first: !stdin,
  };
  const finish = (): { summary: IngestSummary } => {
    const count = w.store.countSync();
    summary.entries = count - firstSeq;
    summary.seq = count > firstSeq ? { first: firstSeq, last: count - 1 } : null;
    summary.duration_ms = Math.round(performance.now() - started);
    summary.events_per_s = summary.duration_ms > 0 ? Math.round((summary.events * 1000) / summary.duration_ms) : 0;
    summary.state_root = w.state.cells.stateRoot();
    return { summary };
  };
  const fail = (e: IngestLineError): { summary: IngestSummary; error: IngestLineError } => {
    summary.ok = false;
    const committed = summary.events + summary.duplicates;
    // A file that changed between the check and the ingest can still stop part-way.
    e.hint =
      stdin || committed > 0
        ? `the ${committed} event line(s) before line ${e.line} were committed; fix it and send the rest from there`
        : `nothing was appended (the file is checked whole first): fix line ${e.line} and send the file again`;
    summary.error = {
      code: e.code,
      message: e.message,
      line: e.line,
      ...(e.path === undefined ? {} : { path: e.path }),
      hint: e.hint,
    };
    return { ...finish(), error: e };
  };

  let total: number | undefined;
  if (!stdin) {
    let good = 0;
    try {
      await checkFile(w, source, opts, () => good++);
    } catch (e) {
      summary.lines = good;
      if (e instanceof IngestLineError) return fail(e);
      throw e;
    }
    total = good;
  }

  const b = bar(
    opts.progress === true,
    total === undefined
      ? "send {value} events committed ({rate}/s)"
      : "send [{bar}] {value}/{total} events committed ({rate}/s)",
  );
  b?.start(total ?? 0, 0, { rate: 0 });
  const seen: SeenKeys = new Map();
  let batch: IngestEvent[] = [];
  const commit = async (): Promise<void> => {
    if (batch.length === 0) return;
    const events = batch;
    batch = [];
    const from = w.store.countSync();
    const results = await w.sendMany(
      events.map((e) => ({
        schema: e.schema,
        json: e.json,
        ...(e.idempotencyKey === undefined ? {} : { idempotencyKey: e.idempotencyKey }),
      })),
    );
    // Committed: only now does anything count as acknowledged.
    summary.batches++;
    let failed = 0;
    for (const r of results) {
      if (r.duplicate) summary.duplicates++;
      else {
        summary.events++;
        summary.steps += r.steps;
        failed += r.failures;
      }
    }
    summary.failures += failed;
    if (failed > 0 && summary.failed_steps.length < MAX_LISTED_FAILURES) {
      const listed = cascadeReport(w.store, from).failures;
      summary.failed_steps.push(...listed.slice(0, MAX_LISTED_FAILURES - summary.failed_steps.length));
    }
    const done = summary.events + summary.duplicates;
    b?.update(done, { rate: Math.round((done * 1000) / Math.max(1, performance.now() - started)) });
  };

  try {
    const input = source === "-" ? process.stdin : createReadStream(source);
    // A regular file is never idle; a stream may be: commit what a slow producer sent.
    for await (const raw of lines(input, { idleMs: opts.idleMs ?? 200, ...(stdin ? { onIdle: commit } : {}) })) {
      if (isBlank(raw.bytes)) continue;
      let e: IngestEvent;
      try {
        e = parseLine(raw);
        checkEvent(w, e, seen);
      } catch (err) {
        if (!(err instanceof IngestLineError)) throw err;
        // Everything before the bad line is valid: commit it, then stop.
        await commit();
        return fail(err);
      }
      summary.lines++;
      batch.push(e);
      if (batch.length >= opts.batchSize) await commit();
    }
    await commit();
    return finish();
  } catch (err) {
    if (err instanceof IngestLineError) {
      await commit();
      return fail(err);
    }
    throw err;
  } finally {
    b?.stop();
  }
}

/** The human report of an ingest (stdout); the error line goes to stderr. */
export function ingestText(s: IngestSummary): string {
  const secs = (s.duration_ms / 1000).toFixed(s.duration_ms < 10_000 ? 2 : 1);
  const from = s.source === "-" ? "standard input" : s.source;
  const head = s.ok
    ? `appended ${s.events} event(s) from ${from} in ${secs} s (${s.events_per_s} events/s, ${s.batches} commit(s))`
    : s.checked_first && s.events + s.duplicates === 0
      ? `nothing appended: ${from} was checked before appending and line ${s.error!.line} is bad`
      : `appended ${s.events} event(s) from ${from} before line ${s.error!.line}, where ingest stopped (${s.batches} commit(s))`;
  const detail =
    s.events + s.duplicates > 0
      ? `\n  ${s.steps} step(s), ${s.failures} failed${s.duplicates ? `, ${s.duplicates} duplicate(s) appended nothing` : ""}, ${s.entries} entries${s.seq ? ` at seq ${s.seq.first}..${s.seq.last}` : ""}`
      : "";
  const failures = s.failed_steps
    .slice(0, 10)
    .map(
      (f) =>
        `\n  FAILED step at seq ${f.seq}: ${f.module}${f.key === null ? "" : ` [${f.key}]`}: ${f.code}: ${f.message}`,
    )
    .join("");
  const more =
    s.failures > 10
      ? `\n  … and ${s.failures - 10} more failed step(s) (--json lists the first ${MAX_LISTED_FAILURES})`
      : "";
  return `${head}${detail}${failures}${more}\n`;
}

/**
 * `wk send --file`: opens the world, ingests, reports. Returns the bad line's error (for the
 * caller to raise in the CLI's one error format) or whether a step failed; the report is
 * already printed.
 */
export async function sendFileCommand(
  source: string,
  opts: { json?: boolean; batchSize: number },
  open: () => Promise<World>,
): Promise<{ stepFailed: boolean; error?: IngestLineError }> {
  // A regular file is checked whole first; anything else (stdin, a named pipe, a device) is read once.
  let stream = source === "-";
  if (!stream) {
    let st;
    try {
      st = statSync(source);
    } catch (e) {
      throw new CliExit(EXIT.check_failed, `cannot read ${source}: ${(e as Error).message}`, {
        code: "cli.bad_file",
        fields: { path: source },
      });
    }
    if (st.isDirectory())
      throw new CliExit(
        EXIT.check_failed,
        `${source} is a directory, not an NDJSON file (--file - reads standard input)`,
        { code: "cli.bad_file", fields: { path: source } },
      );
    stream = !st.isFile();
  }
  const w = await open();
  let r: { summary: IngestSummary; error?: IngestLineError };
  try {
    r = await ingest(w, source, { batchSize: opts.batchSize, stream, progress: process.stderr.isTTY === true });
  } catch (e) {
    // Not a bad line: the journal or the input failed under us. What was committed is durable;
    // the kernel may hold work of a batch that never committed, so nothing is sealed from it
    // (no snapshot, no checkpoint over its state): reopening the world re-runs and seals the tail.
    await w.abandon().catch(() => undefined);
    throw e;
  }
  await w.close();
  if (opts.json) printJson(r.summary);
  else process.stdout.write(ingestText(r.summary));
  return { stepFailed: r.summary.failures > 0, ...(r.error ? { error: r.error } : {}) };
}
