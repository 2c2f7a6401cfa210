/**
 * @module Pure allowlist checks for `http.request` (no DNS, no I/O), shared by the adapter
 * and the kernel's pure gate. Grant params of cap type `http.out`: `hosts`, `schemes`,
 * `methods`, `ports`, `path_prefixes`, `allow_private`; `null` or absent = unconstrained.
 */
import type { CborValue } from "../../../air/cbor/value.js";
import { AdapterError } from "../errors.js";
import { allowlist, record, text } from "../params.js";
import { addressMatches, classifyAddress, parseIp, type AddressClass } from "./address.js";

const KIND = "http.request";

/** Why a request is not allowed, with a stable code. */
export interface HttpDenial {
  code:
    | "invalid_params"
    | "invalid_url"
    | "unsupported_scheme"
    | "scheme_not_allowed"
    | "host_not_allowed"
    | "method_not_allowed"
    | "port_not_allowed"
    | "path_not_allowed"
    | "private_address_denied";
  message: string;
}

const DEFAULT_PORTS: Record<string, number> = { "http:": 80, "https:": 443 };

/** The URL host without brackets or a trailing dot, lowercased. */
export function normalHost(u: URL): string {
  let h = u.hostname.toLowerCase();
  if (h.startsWith("[") && h.endsWith("]")) h = h.slice(1, -1);
  return h.endsWith(".") ? h.slice(0, -1) : h;
}

/** True when `host` equals the entry or, for `*.example.com`, is a strict subdomain of it. */
export function hostMatches(host: string, entry: string): boolean {
  const e = entry.toLowerCase().replace(/\.$/, "");
  if (e.startsWith("*.")) return host.endsWith(e.slice(1)) && host.length > e.length - 1;
  const ea = parseIp(e);
  const ha = parseIp(host);
  if (ea && ha) return addressMatches(host, e);
  return host === e;
}

/** Checks scheme, host, method, port and path of `params` against grant params; null = allowed. */
export function checkHttpAllowed(params: CborValue, grantParams: CborValue): HttpDenial | null {
  let method: string, url: string;
  let hosts, schemes, methods, ports, prefixes;
  try {
    const p = record(KIND, params);
    method = text(KIND, p, "method");
    url = text(KIND, p, "url");
    hosts = allowlist(KIND, grantParams, "hosts", "string");
    schemes = allowlist(KIND, grantParams, "schemes", "string");
    methods = allowlist(KIND, grantParams, "methods", "string");
    ports = allowlist(KIND, grantParams, "ports", "number");
    prefixes = allowlist(KIND, grantParams, "path_prefixes", "string");
  } catch (e) {
    if (e instanceof AdapterError) return { code: "invalid_params", message: e.message };
    throw e;
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { code: "invalid_url", message: `not an absolute URL: ${JSON.stringify(url)}` };
  }
  if (!(u.protocol in DEFAULT_PORTS))
    return { code: "unsupported_scheme", message: `scheme ${u.protocol} is not supported (http, https)` };
  // Credentials in a URL would land in the journal in clear text: refuse them outright.
  if (u.username || u.password)
    return { code: "invalid_url", message: "credentials in the URL are not allowed; send an Authorization header" };
  const scheme = u.protocol.slice(0, -1);
  if (schemes && !schemes.some((s) => s.toLowerCase() === scheme))
    return { code: "scheme_not_allowed", message: `scheme ${scheme} is not in the grant's schemes` };
  const host = normalHost(u);
  if (hosts && !hosts.some((h) => hostMatches(host, h)))
    return { code: "host_not_allowed", message: `host ${host} is not in the grant's hosts` };
  if (!/^[A-Za-z]+$/.test(method)) return { code: "invalid_params", message: `bad method ${JSON.stringify(method)}` };
  if (methods && !methods.some((m) => m.toUpperCase() === method.toUpperCase()))
    return { code: "method_not_allowed", message: `method ${method.toUpperCase()} is not in the grant's methods` };
  const port = u.port === "" ? DEFAULT_PORTS[u.protocol]! : Number(u.port);
  if (ports && !ports.includes(port))
    return { code: "port_not_allowed", message: `port ${port} is not in the grant's ports` };
  if (prefixes && !prefixes.some((pre) => u.pathname.startsWith(pre)))
    return { code: "path_not_allowed", message: `path ${u.pathname} is not under the grant's path_prefixes` };
  // A literal IP needs no DNS to classify, so the gate itself refuses private and loopback
  // literals (and journals the denial); host names are checked again after resolution.
  if (parseIp(host) !== null) {
    let allowPrivate: string[];
    try {
      allowPrivate = allowPrivateEntries(grantParams);
    } catch (e) {
      if (e instanceof AdapterError) return { code: "invalid_params", message: e.message };
      throw e;
    }
    const a = checkAddress(host, host, allowPrivate);
    if (!a.ok) return a.denial;
  }
  return null;
}

/** The grant's `allow_private` entries (host names, IPs or CIDRs); empty when absent. */
export function allowPrivateEntries(grantParams: CborValue): string[] {
  return allowlist(KIND, grantParams, "allow_private", "string") ?? [];
}

/**
 * Decides whether connecting to `ip` (resolved for `host`) is allowed. Public addresses
 * always are; others only when allow_private names the host, the IP, or a CIDR holding it.
 */
export function checkAddress(
  host: string,
  ip: string,
  allowPrivate: readonly string[],
): { ok: true; cls: AddressClass } | { ok: false; cls: AddressClass; denial: HttpDenial } {
  const cls = classifyAddress(ip);
  if (cls === "public") return { ok: true, cls };
  const named = allowPrivate.some((e) => (parseIp(e.split("/")[0]!) ? addressMatches(ip, e) : hostMatches(host, e)));
  if (named && cls !== "invalid") return { ok: true, cls };
  return {
    ok: false,
    cls,
    denial: {
      code: "private_address_denied",
      message: `${host} resolves to ${ip} (${cls}); the grant's allow_private does not name it`,
    },
  };
}

/** Hop-by-hop and framing headers the adapter sets itself: a module may not smuggle them. */
export const HOP_HEADERS: ReadonlySet<string> = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "upgrade",
  "te",
  "trailer",
  "proxy-connection",
  "idempotency-key",
]);
