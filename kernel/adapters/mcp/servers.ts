/**
 * @module The MCP servers an `mcp.call` may name, and the grant's entry for one. A server is a
 * Streamable HTTP endpoint (an absolute `http:`/`https:` URL without credentials) or
 * `stdio:NAME`, a command the operator allowlists in the world's config.json. The grant's
 * `servers` map is keyed the same way; URLs compare in their WHATWG-normalized form, so
 * `HTTP://Example.com:80/mcp` and `http://example.com/mcp` are one server. Pure.
 */
import type { CborValue } from "../../../air/cbor/value.js";
import { AdapterError } from "../errors.js";
import { record } from "../params.js";

const KIND = "mcp.call";

/** `stdio:NAME`: a name of the operator's `adapters.mcp.stdio` config. */
const STDIO = /^stdio:([A-Za-z0-9_.-]{1,64})$/;

/** A parsed server reference, with the key it is compared by. */
export type McpServerRef = { kind: "http"; url: URL; key: string } | { kind: "stdio"; name: string; key: string };

/** Parses a server reference; a message says why it is not one. */
export function parseServer(server: string): { ok: true; ref: McpServerRef } | { ok: false; message: string } {
  const m = STDIO.exec(server);
  if (m) return { ok: true, ref: { kind: "stdio", name: m[1]!, key: server } };
  if (server.startsWith("stdio:"))
    return { ok: false, message: `${JSON.stringify(server)}: a stdio server is stdio:NAME (letters, digits, _ . -)` };
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    return { ok: false, message: `${JSON.stringify(server)} is neither an absolute URL nor stdio:NAME` };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    return { ok: false, message: `scheme ${url.protocol} is not supported (http, https, stdio)` };
  // Credentials in a URL would land in the journal in clear text: a secret goes in a header.
  if (url.username || url.password)
    return { ok: false, message: "credentials in the URL are not allowed; send them in a header by secret reference" };
  return { ok: true, ref: { kind: "http", url, key: url.href } };
}

/** What a grant allows on one server. */
export interface GrantedServer {
  /** The server as the grant names it. */
  name: string;
  tools: string[];
}

/**
 * The grant's entry for `ref`, or null when the grant does not list it. Keys that are not
 * server references never match. Throws `AdapterError` for grant params of the wrong shape.
 */
export function grantedServer(grantParams: CborValue, ref: McpServerRef): GrantedServer | null {
  const servers = grantParams === null ? {} : record(KIND, grantParams, "$grant").servers;
  if (servers === undefined || servers === null) return null;
  for (const [name, entry] of Object.entries(record(KIND, servers, "$grant.servers"))) {
    const parsed = parseServer(name);
    if (!parsed.ok || parsed.ref.key !== ref.key) continue;
    const tools = record(KIND, entry, `$grant.servers.${name}`).tools;
    if (!Array.isArray(tools) || tools.some((t) => typeof t !== "string"))
      throw new AdapterError("adapter.invalid_params", KIND, "tools must be a set of text", `$grant.servers.${name}`);
    return { name, tools: tools as string[] };
  }
  return null;
}
