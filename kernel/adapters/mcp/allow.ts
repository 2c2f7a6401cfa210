/**
 * @module Pure checks of an `mcp.call` against its `mcp` grant, shared by the kernel's gate
 * (mcp-v1: a refusal is a journaled `denied` at stage `grant`) and the adapter, which runs
 * them again at perform. The grant decides, never the server: the server must be a key of the
 * grant's `servers`, the tool one of that server's `tools`, an IP-literal address private or
 * loopback only when `allow_private` names it (host names are checked once resolved, at
 * connect), the arguments canonical CBOR with a JSON form, and every `{secret:NAME}` in a
 * header listed for that header in the grant's `secrets.headers`. No DNS, no I/O.
 */
import type { CborValue } from "../../../air/cbor/value.js";
import type { GrantSecrets } from "../../../air/schemas/defs.js";
import { AdapterError } from "../errors.js";
import { allowlist, bytes, record, text, textMap } from "../params.js";
import { parseIp } from "../http/address.js";
import { HOP_HEADERS, checkAddress, normalHost } from "../http/allow.js";
import { disallowedRef, headerSecretRefs } from "../secrets/headers.js";
import { readArguments } from "./arguments.js";
import { grantedServer, parseServer } from "./servers.js";

const KIND = "mcp.call";

/** Why an `mcp.call` is not allowed, with a stable code. */
export interface McpDenial {
  code:
    | "invalid_params"
    | "invalid_server"
    | "server_not_allowed"
    | "private_address_denied"
    | "tool_not_allowed"
    | "invalid_arguments"
    | "secret_not_allowed";
  message: string;
}

/**
 * Headers the transport sets itself (framing, the MCP session and protocol version, content
 * negotiation) or that could smuggle a request: a module may not send them.
 */
const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  ...HOP_HEADERS,
  "content-type",
  "accept",
  "mcp-session-id",
  "mcp-protocol-version",
  "last-event-id",
]);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The params of an `mcp.call`, as the checks and the adapter read them. */
export interface McpCall {
  server: string;
  tool: string;
  arguments: Uint8Array;
  headers: Record<string, string>;
}

/** Reads an `mcp.call`'s params; throws `AdapterError` for a wrong shape. */
export function readCall(params: CborValue): McpCall {
  const p = record(KIND, params);
  return {
    server: text(KIND, p, "server"),
    tool: text(KIND, p, "tool"),
    arguments: bytes(KIND, p, "arguments"),
    headers: textMap(KIND, p, "headers"),
  };
}

/** Null when the grant allows the call, else the first refusal. `secrets` is the grant's, `grantName` for messages. */
export function checkMcpAllowed(
  params: CborValue,
  grantParams: CborValue,
  secrets?: GrantSecrets,
  grantName = "?",
): McpDenial | null {
  try {
    return check(readCall(params), grantParams, secrets, grantName);
  } catch (e) {
    if (e instanceof AdapterError) return { code: "invalid_params", message: e.message };
    throw e;
  }
}

function check(call: McpCall, grantParams: CborValue, secrets: GrantSecrets | undefined, grantName: string) {
  const parsed = parseServer(call.server);
  if (!parsed.ok) return deny("invalid_server", parsed.message);
  const ref = parsed.ref;
  const granted = grantedServer(grantParams, ref);
  if (!granted) return deny("server_not_allowed", `server ${ref.key} is not in the servers of grant ${grantName}`);
  if (ref.kind === "http") {
    // A literal IP needs no DNS to classify, so the gate itself refuses private and loopback
    // literals; host names are checked again after resolution, at connect time.
    const host = normalHost(ref.url);
    if (parseIp(host) !== null) {
      const a = checkAddress(host, host, allowlist(KIND, grantParams, "allow_private", "string") ?? []);
      if (!a.ok) return deny("private_address_denied", a.denial.message);
    }
  }
  if (!granted.tools.includes(call.tool))
    return deny(
      "tool_not_allowed",
      `tool ${JSON.stringify(call.tool)} is not in the tools grant ${grantName} allows on ${granted.name}`,
    );
  const args = readArguments(call.arguments);
  if (!args.ok) return deny("invalid_arguments", args.message);
  const names = Object.keys(call.headers);
  if (ref.kind === "stdio" && names.length > 0)
    return deny("invalid_params", "a stdio server takes no headers (its command is the operator's)");
  for (const [k, v] of Object.entries(call.headers)) {
    if (!HEADER_NAME.test(k) || /[\r\n\0]/.test(v))
      return deny("invalid_params", `header ${JSON.stringify(k)} has an invalid name or value`);
    if (RESERVED_HEADERS.has(k.toLowerCase()))
      return deny("invalid_params", `header ${k} is set by the MCP transport; a module may not send it`);
  }
  const bad = disallowedRef(headerSecretRefs(call.headers), secrets);
  if (bad)
    return deny(
      "secret_not_allowed",
      `secret ${bad.secret} is not allowed in header ${bad.header} by grant ${grantName} (secrets.headers)`,
    );
  return null;
}

function deny(code: McpDenial["code"], message: string): McpDenial {
  return { code, message };
}
