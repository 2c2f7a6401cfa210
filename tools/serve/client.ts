/**
 * @module A small typed client for the `wk serve` API (`worldkernel/client`): fetch only, so
 * it runs in Node and in the browser (the console uses it). A refusal throws `ApiError` with
 * the server's `code`, `message`, `path` and HTTP status; nothing is retried behind the
 * caller's back, but an `idempotencyKey` makes a retry safe.
 */
import type { Explanation } from "../../kernel/analysis/explain.js";
import type { Trace } from "../../kernel/analysis/trace-of.js";

export type { Explanation, Trace };

/** A refusal from the server, as typed as the server sent it. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** What one appended event produced (a retry under its key: the first result, `duplicate: true`). */
export interface SendResult {
  seq: number;
  entries: number;
  steps: number;
  failures: number;
  duplicate?: boolean;
  /** With `wait`: whether the cascade settled within the wait. */
  settled?: boolean;
  /** With `wait`: the intents the event caused that still wait (for an approver, a timer). */
  pending?: { intent_id: string; kind: string; module: string; waiting: string }[];
}

/** A journal entry as JSON: body decoded, bytes hex, big integers as text. */
export interface EntryJson {
  seq: number;
  kind: string;
  hash: string;
  prev_hash: string;
  body: Record<string, unknown>;
}

/** Pending work of a world. */
export interface Pending {
  pendingIntents: number;
  pendingApprovals: number;
  lease?: number;
}

/** A hosted world as the list shows it. */
export interface WorldSummary {
  id: string;
  dir: string;
  height: number;
  head: { seq: number; hash: string } | null;
  checkpoint: { seq: number } | null;
  manifest_hash: string;
  pending: Pending;
}

/** The world's cells (the same JSON as `wk state`). */
export interface StateJson {
  state_root: string;
  cells: { module: string; key: string | null; state_hash: string; state: unknown }[];
}

/** An intent with its gate decision and receipt. */
export interface IntentRow {
  intent_id: string;
  kind: string;
  module: string;
  seq: number;
  decision: string | null;
  reason: string | null;
  receipt: { seq: number; status: string; adapter: string } | null;
}

/** A held intent waiting for an approver. */
export interface HeldIntent {
  intent_id: string;
  kind: string;
  module: string;
  seq: number;
  valid_until_ns: string | null;
}

/** A proposal with its latest shadow report. */
export interface ProposalSummary {
  proposal_id: string;
  base_manifest_hash: string;
  patch_ref: string;
  status: "filed" | "shadowed" | "approved" | "applied";
  approvers: string[];
  threshold: number;
  latest_report_hash: string | null;
  report: Record<string, unknown> | null;
  failures: number;
}

/** `wk verify`'s result. */
export interface VerifyJson {
  ok: boolean;
  entries: number;
  checkpoints: number;
  first_bad_seq?: number;
  fault?: string;
  message?: string;
}

/** The bytes an approver signs (hex), and for which purpose. */
export interface SigningRequest {
  purpose: string;
  message_hex: string;
}

/** One event to append. */
export interface EventInput {
  schema: string;
  value: unknown;
  idempotency_key?: string;
}

/** How to reach a server. */
export interface ClientOptions {
  /** The server's base URL (`http://127.0.0.1:7070`); "" for the same origin (the console). */
  baseUrl: string;
  token: string;
  fetch?: typeof fetch;
}

/** The `wk serve` API. */
export class WorldkernelClient {
  private readonly base: string;
  private readonly f: typeof fetch;

  constructor(private readonly opts: ClientOptions) {
    this.base = opts.baseUrl.replace(/\/$/, "");
    this.f = opts.fetch ?? fetch.bind(globalThis);
  }

  /** Sends one request; a non-2xx answer throws `ApiError`. */
  async request<T>(
    method: string,
    path: string,
    body?: { json?: unknown; text?: string; type?: string },
    headers: Record<string, string> = {},
  ): Promise<T> {
    const h: Record<string, string> = { authorization: `Bearer ${this.opts.token}`, ...headers };
    let payload: string | undefined;
    if (body?.json !== undefined) {
      payload = JSON.stringify(body.json);
      h["content-type"] = "application/json";
    } else if (body?.text !== undefined) {
      payload = body.text;
      h["content-type"] = body.type ?? "text/plain";
    }
    const res = await this.f(`${this.base}${path}`, {
      method,
      headers: h,
      ...(payload === undefined ? {} : { body: payload }),
    });
    const text = await res.text();
    const data: unknown = text === "" ? null : JSON.parse(text);
    if (!res.ok) {
      const e = (data as { error?: { code?: string; message?: string; path?: string } } | null)?.error;
      throw new ApiError(res.status, e?.code ?? `http.${res.status}`, e?.message ?? res.statusText, e?.path);
    }
    return data as T;
  }

  private w(id: string, rest = ""): string {
    return `/v1/worlds/${encodeURIComponent(id)}${rest}`;
  }

  /** The hosted worlds. */
  async worlds(): Promise<WorldSummary[]> {
    return (await this.request<{ worlds: WorldSummary[] }>("GET", "/v1/worlds")).worlds;
  }

  /** Everything `wk info` says of a world, with its pending work. */
  info(id: string): Promise<Record<string, unknown>> {
    return this.request("GET", this.w(id));
  }

  /**
   * Appends one event; durable when this resolves. With `wait`, resolves once what the event
   * caused has run as far as it can (at most `timeoutMs`), saying what still waits.
   */
  send(
    id: string,
    event: EventInput,
    opts: { idempotencyKey?: string; wait?: boolean; timeoutMs?: number } = {},
  ): Promise<SendResult> {
    const q = opts.wait ? `?wait=settled${opts.timeoutMs === undefined ? "" : `&timeout_ms=${opts.timeoutMs}`}` : "";
    return this.request(
      "POST",
      this.w(id, `/events${q}`),
      { json: event },
      opts.idempotencyKey ? { "idempotency-key": opts.idempotencyKey } : {},
    );
  }

  /** Appends many events in one group commit (NDJSON); line i's key is `<key>#i` unless it names its own. */
  async sendMany(
    id: string,
    events: readonly EventInput[],
    opts: { idempotencyKey?: string } = {},
  ): Promise<SendResult[]> {
    const text = events.map((e) => JSON.stringify(e)).join("\n") + "\n";
    const r = await this.request<{ results: SendResult[] }>(
      "POST",
      this.w(id, "/events"),
      { text, type: "application/x-ndjson" },
      opts.idempotencyKey ? { "idempotency-key": opts.idempotencyKey } : {},
    );
    return r.results;
  }

  /** The world's cells (optionally one module's, or one cell). */
  state(id: string, opts: { module?: string; key?: string } = {}): Promise<StateJson> {
    const q = new URLSearchParams(Object.entries(opts).filter(([, v]) => v !== undefined) as [string, string][]);
    return this.request("GET", this.w(id, `/state${q.size ? `?${q}` : ""}`));
  }

  /** A page of the journal from `from`: at most `limit` entries (of `kind`, if given); `next` continues. */
  journal(
    id: string,
    opts: { from?: number; limit?: number; kind?: string } = {},
  ): Promise<{ entries: EntryJson[]; next: number | null; height: number }> {
    const q = new URLSearchParams(
      Object.entries(opts)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    );
    return this.request("GET", this.w(id, `/journal${q.size ? `?${q}` : ""}`));
  }

  /** Every intent with its decision and receipt. */
  async receipts(id: string): Promise<IntentRow[]> {
    return (await this.request<{ intents: IntentRow[] }>("GET", this.w(id, "/receipts"))).intents;
  }

  /** An intent's receipt entry. */
  receipt(id: string, intentId: string): Promise<EntryJson> {
    return this.request("GET", this.w(id, `/receipts/${encodeURIComponent(intentId)}`));
  }

  /** A receipt bundle for offline verification (`wk receipt verify`). */
  bundle(id: string, intentId: string, opts: { payload?: boolean } = {}): Promise<Record<string, unknown>> {
    return this.request(
      "GET",
      this.w(id, `/receipts/${encodeURIComponent(intentId)}/bundle${opts.payload ? "?payload=true" : ""}`),
    );
  }

  /** The causal tree an entry belongs to (`wk trace --json`'s tree, cut to the server's limit): `target` is a seq, an intent id or an idempotency key. */
  trace(id: string, target: string | number): Promise<Trace> {
    return this.request("GET", this.w(id, `/trace/${encodeURIComponent(String(target))}`));
  }

  /** Why an intent exists and what came of it (`wk explain --json`). */
  explain(id: string, intentId: string): Promise<Explanation> {
    return this.request("GET", this.w(id, `/explain/${encodeURIComponent(intentId)}`));
  }

  /** Verifies the world's journal (signatures, chain, Merkle tree, governance). */
  verify(id: string): Promise<VerifyJson> {
    return this.request("GET", this.w(id, "/verify"));
  }

  /** Held intents waiting for an approver. */
  async heldIntents(id: string): Promise<HeldIntent[]> {
    return (await this.request<{ intents: HeldIntent[] }>("GET", this.w(id, "/approvals"))).intents;
  }

  /** The bytes to sign to decide a held intent. */
  heldIntentMessage(id: string, intentId: string, decision: "allow" | "deny"): Promise<SigningRequest> {
    return this.request(
      "GET",
      this.w(id, `/intents/${encodeURIComponent(intentId)}/approval-message?decision=${decision}`),
    );
  }

  /** Records a decision on a held intent, signed by the approver (hex signature over `heldIntentMessage`). */
  decide(
    id: string,
    intentId: string,
    d: { decision: "allow" | "deny"; public_key: string; signature: string },
  ): Promise<{ intent_id: string; decision: string; seq: number }> {
    return this.request("POST", this.w(id, `/intents/${encodeURIComponent(intentId)}/decision`), { json: d });
  }

  /** Every proposal with its status and latest shadow report. */
  async proposals(id: string): Promise<ProposalSummary[]> {
    return (await this.request<{ proposals: ProposalSummary[] }>("GET", this.w(id, "/proposals"))).proposals;
  }

  /** One proposal. */
  proposal(id: string, proposalId: string): Promise<ProposalSummary> {
    return this.request("GET", this.w(id, `/proposals/${encodeURIComponent(proposalId)}`));
  }

  /** The bytes to sign to approve a proposal's latest shadow report. */
  approvalMessage(id: string, proposalId: string, opts: { acceptFailures?: boolean } = {}): Promise<SigningRequest> {
    return this.request(
      "GET",
      this.w(
        id,
        `/proposals/${encodeURIComponent(proposalId)}/approval-message${opts.acceptFailures ? "?accept_failures=true" : ""}`,
      ),
    );
  }

  /** Records an approval signed by the approver. */
  approve(
    id: string,
    proposalId: string,
    a: { public_key: string; signature: string; accept_failures?: boolean },
  ): Promise<{ proposal_id: string; seq: number }> {
    return this.request("POST", this.w(id, `/proposals/${encodeURIComponent(proposalId)}/approvals`), { json: a });
  }

  /** The bytes to sign to deny a proposal, giving `reason` (journaled with the denial). */
  denialMessage(id: string, proposalId: string, reason: string): Promise<SigningRequest> {
    return this.request(
      "GET",
      this.w(id, `/proposals/${encodeURIComponent(proposalId)}/denial-message?reason=${encodeURIComponent(reason)}`),
    );
  }

  /** Records a denial of a proposal signed by the approver (hex signature over `denialMessage`). */
  deny(
    id: string,
    proposalId: string,
    d: { public_key: string; signature: string; reason: string },
  ): Promise<{ proposal_id: string; seq: number }> {
    return this.request("POST", this.w(id, `/proposals/${encodeURIComponent(proposalId)}/denials`), { json: d });
  }

  /** Applies an approved proposal (admin). */
  apply(id: string, proposalId: string): Promise<Record<string, unknown>> {
    return this.request("POST", this.w(id, `/proposals/${encodeURIComponent(proposalId)}/apply`));
  }

  /** The Prometheus text exposition. */
  async metrics(): Promise<string> {
    const res = await this.f(`${this.base}/metrics`, { headers: { authorization: `Bearer ${this.opts.token}` } });
    if (!res.ok) throw new ApiError(res.status, `http.${res.status}`, await res.text());
    return res.text();
  }

  /** The URL of a world's event stream (SSE; `from` seq), for EventSource or a fetch reader. */
  streamUrl(id: string, from?: number): string {
    return `${this.base}${this.w(id, `/stream${from === undefined ? "" : `?from=${from}`}`)}`;
  }
}
