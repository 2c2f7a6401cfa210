/**
 * @module The `http.request` adapter. SSRF-safe by construction: we resolve the host once
 * ourselves, check every resolved address, then connect to the checked address (custom
 * `lookup`) while keeping the original Host header and TLS SNI — a DNS answer that changes
 * between check and connect (rebinding) cannot redirect us. Redirects are never followed:
 * a 3xx comes back as the payload and a new request passes the gate again. Secret references
 * in headers are expanded at dispatch (secret-headers.ts); what comes back is redacted of
 * them before it is recorded (so `body_size` is the stored, redacted body's size).
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { isIP } from "node:net";
import type { CborValue } from "../../../air/cbor/value.js";
import { failed, finish, type EffectAdapter, type EffectOutcome, type EffectRequest } from "../adapter.js";
import { hashOut, optHash, readParams, text, textMap } from "../params.js";
import { HOP_HEADERS, allowPrivateEntries, checkAddress, checkHttpAllowed, normalHost } from "./allow.js";
import { resolveHeaderSecrets } from "./secret-headers.js";

/** Limits of the HTTP adapter. */
export interface HttpAdapterConfig {
  /** Largest request body sent (bytes). */
  maxRequestBytes?: number;
  /** Largest response body accepted (bytes); past it the request is aborted. */
  maxResponseBytes?: number;
  /** Whole-request deadline in milliseconds. */
  timeoutMs?: number;
  /** Extra trusted CA certificates (PEM), e.g. for tests against a local TLS server. */
  ca?: string | Buffer;
  /** Resolves a host name to every address (default `dns.lookup({all: true})`); injectable for tests of the rebinding guard. */
  resolve?: (host: string) => Promise<{ address: string; family: number }[]>;
}

const systemResolve = (host: string) => dnsLookup(host, { all: true, verbatim: true });

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Creates the `http.request` adapter. */
export function createHttpAdapter(config: HttpAdapterConfig = {}): EffectAdapter {
  const limits = {
    maxRequestBytes: config.maxRequestBytes ?? 10 << 20,
    maxResponseBytes: config.maxResponseBytes ?? 10 << 20,
    timeoutMs: config.timeoutMs ?? 30_000,
  };
  return {
    id: "worldkernel.http",
    version: "1.0.0",
    kinds: ["http.request"],
    perform: (req) => performHttp(req, limits, config.ca, config.resolve ?? systemResolve),
  };
}

type Limits = Required<Omit<HttpAdapterConfig, "ca" | "resolve">>;

async function performHttp(
  req: EffectRequest,
  limits: Limits,
  ca: string | Buffer | undefined,
  resolveHost: NonNullable<HttpAdapterConfig["resolve"]>,
): Promise<EffectOutcome> {
  const started = req.nowNs();
  const denial = checkHttpAllowed(req.params, req.grant.params);
  if (denial) return failed(req, started, denial.code, denial.message);
  const read = readParams(req.kind, req.params, (p) => ({
    method: text(req.kind, p, "method").toUpperCase(),
    url: new URL(text(req.kind, p, "url")),
    headers: textMap(req.kind, p, "headers"),
    bodyRef: optHash(req.kind, p, "body_ref"),
  }));
  if (!read.ok) return failed(req, started, "invalid_params", read.message);
  const { method, url, bodyRef } = read.value;
  // Secret references are expanded here, at dispatch, and only where the grant allows them;
  // from now on everything this adapter records passes through the redactor.
  const expanded = resolveHeaderSecrets(req, started, read.value.headers);
  if (!expanded.ok) return expanded.outcome;
  const { headers, redact } = expanded;
  let body: Uint8Array | null = null;
  if (bodyRef) {
    try {
      body = req.blobs.get(bodyRef);
    } catch (e) {
      return failed(
        req,
        started,
        "blob_not_found",
        `request body ${bodyRef} is not in the CAS: ${(e as Error).message}`,
      );
    }
    if (body.length > limits.maxRequestBytes)
      return failed(
        req,
        started,
        "request_too_large",
        `request body is ${body.length} bytes; the limit is ${limits.maxRequestBytes}`,
      );
  }

  const deadline = AbortSignal.any([req.signal, AbortSignal.timeout(limits.timeoutMs)]);
  const host = normalHost(url);
  let addresses: { address: string; family: number }[];
  try {
    const addrs = isIP(host) ? [{ address: host, family: isIP(host) }] : await raceAbort(resolveHost(host), deadline);
    if (addrs.length === 0) return failed(req, started, "dns_failed", `${host} has no addresses`);
    const allow = allowPrivateEntries(req.grant.params);
    for (const a of addrs) {
      const c = checkAddress(host, a.address, allow);
      if (!c.ok)
        return failed(req, started, c.denial.code, c.denial.message, { address: a.address, address_class: c.cls });
    }
    addresses = addrs;
  } catch (e) {
    if (deadline.aborted) return abortedOutcome(req, started, limits.timeoutMs);
    return failed(req, started, "dns_failed", `cannot resolve ${host}: ${(e as Error).message}`);
  }

  const outHeaders: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    // Reject what would split or smuggle headers before anything reaches the socket.
    if (!HEADER_NAME.test(k) || /[\r\n\0]/.test(v))
      return failed(req, started, "invalid_params", `header ${JSON.stringify(k)} has an invalid name or value`);
    if (!HOP_HEADERS.has(k.toLowerCase())) outHeaders[k] = v;
  }
  outHeaders["Idempotency-Key"] = req.idempotencyKey;
  if (body) outHeaders["Content-Length"] = String(body.length);

  // Connect only to the addresses we checked, whatever DNS would say now; with
  // autoSelectFamily Node asks for all of them and tries each (happy eyeballs).
  const pinned: LookupFunction = (_h, opts, cb) => {
    const o = opts as { all?: boolean };
    if (o.all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, addresses);
    else cb(null, addresses[0]!.address, addresses[0]!.family);
  };
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  try {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const r = send(
        url,
        { method, headers: outHeaders, lookup: pinned, signal: deadline, agent: false, ...(ca ? { ca } : {}) },
        resolve,
      );
      r.on("error", reject);
      r.end(body ?? undefined);
    });
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limits.maxResponseBytes) {
        res.destroy();
        return failed(req, started, "response_too_large", `response body exceeds ${limits.maxResponseBytes} bytes`, {
          status: res.statusCode ?? 0,
        });
      }
      chunks.push(chunk);
    }
    // An upstream may echo a secret back: it is redacted before the body reaches the CAS.
    const bytes = redact.bytes(new Uint8Array(Buffer.concat(chunks)));
    const bodyHash = req.blobs.put(bytes);
    const end = req.nowNs();
    const payload: CborValue = {
      status: res.statusCode ?? 0,
      headers: redact.value(responseHeaders(res)),
      body_ref: hashOut(bodyHash),
      body_size: bytes.length,
      timings: { start_ns: started, end_ns: end },
    };
    return {
      status: "ok",
      payload,
      cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
      startedNs: started,
      finishedNs: end,
    };
  } catch (e) {
    if (deadline.aborted) return abortedOutcome(req, started, limits.timeoutMs);
    return failed(req, started, "connection_failed", redact.text(`${method} ${url.origin}: ${(e as Error).message}`));
  }
}

/** Response headers as map<text,text>: lowercased names, repeated values joined with ", ". */
function responseHeaders(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/** An aborted request: `timeout` when our deadline fired, `error`/aborted when the kernel cancelled. */
function abortedOutcome(req: EffectRequest, started: bigint, timeoutMs: number): EffectOutcome {
  if (req.signal.aborted) return failed(req, started, "aborted", "the kernel cancelled the request");
  return finish(req, started, "timeout", {
    code: "timeout",
    message: `no complete response within ${timeoutMs} ms`,
    timeout_ms: timeoutMs,
  });
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => (signal.removeEventListener("abort", onAbort), resolve(v)),
      (e) => (signal.removeEventListener("abort", onAbort), reject(e)),
    );
  });
}
