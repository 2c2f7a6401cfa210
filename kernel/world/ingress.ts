/**
 * @module Ingress admission: one check of a batch of events before anything is stamped, stepped
 * or journaled — the schema is known, the value canonicalizes under it, idempotency keys agree
 * within the batch and with the journal. Every refused event is an issue with its index, so a
 * caller refuses the batch, names the line, or commits the rest; `World.sendMany`,
 * `wk send --file`, `wk serve` and `wk shadow --events` all admit through `admit`.
 */
import type { AirCatalog } from "../../air/loader.js";
import type { CborValue } from "../../air/cbor/value.js";
import { canonicalizeJson } from "../../air/values/canonicalize.js";
import { parseJsonLossless } from "../../air/json.js";
import { hashValue, type HashText } from "../../air/hash.js";
import { KernelError, isEventRefusal } from "../core/errors.js";

/**
 * Who handed an event in, beyond "ingress": the channel (`mcp/http`) and the caller it
 * authenticated (a bearer token's name). Journaled in the event's `origin` as `via` and
 * `token`; never part of the event's identity or of an idempotency key's request hash, so a
 * retry through another channel is still the same request.
 */
export interface IngressSource {
  via: string;
  token?: string | undefined;
}

/** One event offered at ingress; a `json` that is text is JSON to parse (`wk send` passes text), unless `textIsJson: false`. */
export interface IngressEvent {
  schema: string;
  json: unknown;
  idempotencyKey?: string | undefined;
  /** Where it came from, recorded in its origin (absent: plain ingress, as the CLI and `/v1` send). */
  source?: IngressSource | undefined;
}

/** Where an idempotency key was first used: at a journal seq, by an earlier event of the batch, or on an earlier line of the caller's input. */
export type FirstUse = { seq: number } | { index: number } | { line: number };

/** An earlier use of an idempotency key outside the batch: the request it was for, and where. */
export interface PriorUse<W extends FirstUse = { seq: number }> {
  requestHash: string;
  first: W;
}

/** Finds an idempotency key's use outside the batch (the journal, earlier input), or null. */
export type KeyLookup<W extends FirstUse = { seq: number }> = (key: string) => PriorUse<W> | null;

/**
 * Why an event was refused (at most one issue per event, in the order checked: schema, value,
 * key). `path` is the place inside the event request (`$.schema`, `$.value.by`,
 * `$.idempotency_key`); `message` is the kernel's, as `World.sendMany` reports it.
 */
export type AdmissionIssue<W extends FirstUse = { seq: number }> =
  | { index: number; code: "kernel.unknown_schema"; path: "$.schema"; message: string; schema: string }
  | {
      index: number;
      code: "kernel.bad_event";
      path: string;
      message: string;
      schema: string;
      /** What the value's check said, without its ` (at $.x)` suffix (the path says where). */
      detail: string;
      cause: unknown;
    }
  | {
      index: number;
      code: "kernel.idempotency_conflict";
      path: "$.idempotency_key";
      message: string;
      idempotencyKey: string;
      first: W | { index: number };
    };

/** An admitted event: its canonical value, its key's request hash, and, for a repeat of the same request, where it was first admitted. */
export interface AdmittedEvent<W extends FirstUse = { seq: number }> {
  index: number;
  schema: string;
  value: CborValue;
  idempotency?: { key: string; requestHash: HashText };
  duplicateOf?: W | { index: number };
}

/** The outcome of admitting a batch: every event admitted, or every issue found. */
export type Admission<W extends FirstUse = { seq: number }> =
  { ok: true; events: AdmittedEvent<W>[] } | { ok: false; issues: AdmissionIssue<W>[] };

/** How to admit. */
export interface AdmitOptions {
  /** A text `json` is JSON to parse first (default true: the library's `send` takes text); false checks it as the value itself. */
  textIsJson?: boolean;
}

const AT_SUFFIX = / \(at [^)]*\)$/;

/** Admits a batch: checks every event (schema, value, idempotency key within the batch and through `lookup`) and collects every issue. */
export function admit<W extends FirstUse = { seq: number }>(
  catalog: AirCatalog,
  events: readonly IngressEvent[],
  lookup?: KeyLookup<W>,
  opts: AdmitOptions = {},
): Admission<W> {
  const seen = new Map<string, PriorUse<W | { index: number }>>();
  const admitted: AdmittedEvent<W>[] = [];
  const issues: AdmissionIssue<W>[] = [];
  for (const [index, e] of events.entries()) {
    const s = catalog.schemas.get(e.schema);
    if (!s) {
      const known = [...catalog.schemas.keys()].filter((n) => !n.startsWith("sys/")).join(", ");
      const message = `schema ${e.schema} is not in the manifest (known: ${known})`;
      issues.push({ index, code: "kernel.unknown_schema", path: "$.schema", message, schema: e.schema });
      continue;
    }
    let value: CborValue;
    try {
      const json = opts.textIsJson !== false && typeof e.json === "string" ? parseJsonLossless(e.json) : e.json;
      value = canonicalizeJson(s.expanded, json);
    } catch (err) {
      const inner = (err as { path?: unknown }).path;
      const raw = String((err as Error).message);
      issues.push({
        index,
        code: "kernel.bad_event",
        path: typeof inner === "string" && inner.startsWith("$") ? `$.value${inner.slice(1)}` : "$.value",
        message: `event does not match ${e.schema}: ${raw}`,
        schema: e.schema,
        detail: raw.replace(AT_SUFFIX, ""),
        cause: err,
      });
      continue;
    }
    const key = e.idempotencyKey;
    if (key === undefined) {
      admitted.push({ index, schema: e.schema, value });
      continue;
    }
    const requestHash = hashValue({ schema: e.schema, value });
    const prior = seen.get(key) ?? lookup?.(key) ?? null;
    if (prior !== null && prior.requestHash !== requestHash) {
      issues.push({
        index,
        code: "kernel.idempotency_conflict",
        path: "$.idempotency_key",
        message: `idempotency key ${JSON.stringify(key)} was first used ${whereFirst(prior.first)} for another request`,
        idempotencyKey: key,
        first: prior.first,
      });
      continue;
    }
    if (prior === null) seen.set(key, { requestHash, first: { index } });
    admitted.push({
      index,
      schema: e.schema,
      value,
      idempotency: { key, requestHash },
      ...(prior === null ? {} : { duplicateOf: prior.first }),
    });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, events: admitted };
}

/** Where a key was first used, as the conflict's message says it. */
function whereFirst(first: FirstUse): string {
  if ("seq" in first) return `at seq ${first.seq}`;
  if ("index" in first) return `by event ${first.index} of this batch`;
  return `on line ${first.line}`;
}

/** The journal as a key lookup: a key's ingress event seq and request hash. */
export function journalKeys(store: {
  ingressKeySeq(key: string): { seq: number; request_hash: string } | null;
}): KeyLookup {
  return (key) => {
    const p = store.ingressKeySeq(key);
    return p === null ? null : { requestHash: p.request_hash, first: { seq: p.seq } };
  };
}

/** A refused batch: the first issue's code, message and fields (as a single bad event always had), and every issue. */
export class AdmissionError extends KernelError {
  /** Every issue, by index. Not enumerable: error records and HTTP bodies stay those of the first issue. */
  declare readonly issues: readonly AdmissionIssue<FirstUse>[];

  constructor(issues: readonly AdmissionIssue<FirstUse>[]) {
    super(...refusalOf(issues[0]));
    Object.defineProperty(this, "issues", { value: issues, enumerable: false });
  }
}

/** The code, message and fields `World.sendMany` has always refused a bad event with. */
function refusalOf(first: AdmissionIssue<FirstUse> | undefined): ConstructorParameters<typeof KernelError> {
  if (first === undefined) return ["kernel.internal", "an admission error needs at least one issue"];
  if (first.code === "kernel.unknown_schema") return [first.code, first.message, { schema: first.schema }];
  if (first.code === "kernel.bad_event") {
    const path = (first.cause as { path?: string } | null)?.path;
    return [first.code, first.message, { schema: first.schema, path }, { cause: first.cause }];
  }
  return [first.code, first.message, { idempotency_key: first.idempotencyKey }];
}

/** The issues of a refused batch (an `AdmissionError`, also across realms), or undefined for any other error. */
export function admissionIssues(e: unknown): readonly AdmissionIssue<FirstUse>[] | undefined {
  const issues = (e as { issues?: unknown } | null)?.issues;
  return isEventRefusal(e) && Array.isArray(issues) ? (issues as AdmissionIssue<FirstUse>[]) : undefined;
}
