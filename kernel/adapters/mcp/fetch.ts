/**
 * @module The `fetch` the MCP adapter hands the SDK's Streamable HTTP transport, so a server
 * is reached under the same address rules as `http.request`: each request resolves the host
 * once, checks every address (private, loopback, link-local and metadata addresses only when
 * the grant's `allow_private` names them) and connects to the checked address (a DNS answer
 * that changes in between cannot redirect it); redirects are never followed here; and each
 * response body is cut off past a byte limit, so a lying server cannot fill the kernel's
 * memory. What went wrong on the wire is noted in a `WireState` for the adapter's error codes.
 */
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { checkAddress, normalHost } from "../http/allow.js";
import type { AddressClass } from "../http/address.js";

/** Resolves a host name to every address. */
export type Resolve = (host: string) => Promise<{ address: string; family: number }[]>;

/** What happened on the wire, for the adapter's error codes. */
export interface WireState {
  /** A response body passed the byte limit. */
  tooLarge: boolean;
  /** A connection could not be made or broke. */
  networkError: string | null;
  /** A resolved address the grant does not allow. */
  denied: { message: string; address: string; cls: AddressClass } | null;
}

/** The fetch signature the SDK's transport takes. */
export type FetchLike = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** How the guarded fetch connects. */
export interface GuardedFetchOptions {
  allowPrivate: readonly string[];
  resolve: Resolve;
  /** Largest response body accepted, per response (bytes). */
  maxBytes: number;
  /** Aborts every request (the call's deadline). */
  signal: AbortSignal;
  /**
   * Called when a response body breaks off (past the limit, or the connection dropped): the
   * SDK does not fail a request whose answer broke off, so the caller stops the call.
   */
  onBroken: () => void;
  /** Extra trusted CA certificates (PEM), e.g. for a local TLS server in tests. */
  ca?: string | Buffer | undefined;
  wire: WireState;
}

/** A fresh wire state. */
export function newWireState(): WireState {
  return { tooLarge: false, networkError: null, denied: null };
}

/** A fetch that connects only to addresses the grant allows and limits every response body. */
export function guardedFetch(o: GuardedFetchOptions): FetchLike {
  return async (input, init = {}) => {
    const url = new URL(typeof input === "string" ? input : input.href);
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`scheme ${url.protocol} is not allowed`);
    const host = normalHost(url);
    let addresses: { address: string; family: number }[];
    try {
      addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await o.resolve(host);
    } catch (e) {
      o.wire.networkError = `cannot resolve ${host}: ${(e as Error).message}`;
      throw e;
    }
    if (addresses.length === 0) {
      o.wire.networkError = `${host} has no addresses`;
      throw new Error(o.wire.networkError);
    }
    for (const a of addresses) {
      const c = checkAddress(host, a.address, o.allowPrivate);
      if (!c.ok) {
        o.wire.denied = { message: c.denial.message, address: a.address, cls: c.cls };
        throw new Error(c.denial.message);
      }
    }
    const pinned: LookupFunction = (_h, opts, cb) => {
      if ((opts as { all?: boolean }).all)
        (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, addresses);
      else cb(null, addresses[0]!.address, addresses[0]!.family);
    };
    const signal = init.signal ? AbortSignal.any([init.signal, o.signal]) : o.signal;
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((v, k) => (headers[k] = v));
    if (init.body !== undefined && init.body !== null && typeof init.body !== "string")
      throw new Error("the MCP transport sent a request body that is not text");
    // As bytes: Node writes a text first chunk together with the headers in the chunk's encoding
    // (UTF-8), so header values would go out differently than `http.request` sends them (latin1).
    const body = init.body === undefined || init.body === null ? undefined : Buffer.from(init.body, "utf8");
    if (body !== undefined) headers["content-length"] = String(body.length);
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    let res: IncomingMessage;
    try {
      res = await new Promise<IncomingMessage>((resolve, reject) => {
        const r = send(
          url,
          {
            method: init.method ?? "GET",
            headers,
            lookup: pinned,
            signal,
            agent: false,
            ...(o.ca ? { ca: o.ca } : {}),
          },
          resolve,
        );
        r.on("error", reject);
        r.end(body);
      });
    } catch (e) {
      if (!signal.aborted) o.wire.networkError = `${url.origin}: ${(e as Error).message}`;
      throw e;
    }
    return toResponse(res, o, signal);
  };
}

/**
 * The web `Response` for a node response, its body cut off past `maxBytes`. A body that ends
 * early — past the limit, or the connection dropped — calls `onBroken`; one the SDK cancels
 * (it is done with it) does not.
 */
function toResponse(res: IncomingMessage, o: GuardedFetchOptions, signal: AbortSignal): Response {
  const status = res.statusCode ?? 0;
  if (status < 200 || status > 599) {
    res.destroy();
    throw new Error(`the server answered with HTTP status ${status}`);
  }
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (v === undefined) continue;
    for (const x of Array.isArray(v) ? v : [v]) headers.append(k, x);
  }
  const init = { status, statusText: res.statusMessage ?? "", headers };
  if ([204, 205, 304].includes(status)) {
    res.resume();
    return new Response(null, init);
  }
  let size = 0;
  let done = false;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      const broken = (why: string) => {
        if (done) return;
        done = true;
        res.destroy();
        controller.error(new Error(why));
        if (!signal.aborted) o.onBroken();
      };
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size <= o.maxBytes) return controller.enqueue(new Uint8Array(chunk));
        o.wire.tooLarge = true;
        broken(`a response from the server exceeds ${o.maxBytes} bytes`);
      });
      res.on("end", () => {
        if (done) return;
        done = true;
        controller.close();
      });
      res.on("error", () => undefined); // 'close' below decides
      res.on("close", () => {
        if (done || signal.aborted) return;
        o.wire.networkError = "the server's answer broke off";
        broken(o.wire.networkError);
      });
    },
    cancel() {
      done = true;
      res.destroy();
    },
  });
  return new Response(body, init);
}
