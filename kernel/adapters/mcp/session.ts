/**
 * @module One MCP client session per call, over the official SDK: a `Client` on a Streamable
 * HTTP transport (through the guarded fetch) or a stdio transport (a command the operator
 * allowlists). The SDK is loaded on first use, so a kernel whose worlds never call MCP never
 * loads it. The client offers no capabilities (no sampling, roots or elicitation: a server
 * cannot call back into the kernel) and validates no server-supplied schema: compiling a
 * schema a server sends would run its code generator on untrusted input, and the grant, not
 * the server's tool list, decides what may be called. The negotiated protocol version is
 * the SDK's (it offers its latest and accepts the versions it supports).
 */
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import type { FetchLike } from "./fetch.js";
import type { McpServerRef } from "./servers.js";

/** A stdio server the operator allowlists (config.json `adapters.mcp.stdio.NAME`). */
export interface McpStdioServer {
  command: string;
  args?: readonly string[] | undefined;
  cwd?: string | undefined;
}

/** What a session needs: where, with which headers (secrets expanded), and the guarded fetch. */
export interface SessionOptions {
  ref: McpServerRef;
  headers: Record<string, string>;
  stdio?: McpStdioServer | undefined;
  fetch: FetchLike;
}

/** A client not yet connected, its transport, and the protocol version it negotiates. */
export interface McpSession {
  client: Client;
  transport: Transport;
  /** The version the server agreed to once connected ("" before). */
  protocolVersion(): string;
  /** The JSON-RPC error code of an `McpError` (a server's error answer, or the SDK's own), else null. */
  rpcCode(e: unknown): number | null;
  /** The HTTP status of a Streamable HTTP request the server refused, else null. */
  httpStatus(e: unknown): number | null;
  /** `McpError`'s codes for a closed connection and a request timeout. */
  readonly codes: { connectionClosed: number; requestTimeout: number };
}

/** The client's name and version in the MCP handshake. */
export const CLIENT_INFO = { name: "worldkernel", version: "1.0.0" };

/** Accepts whatever the server sends: see the module comment. */
const NO_SCHEMA_VALIDATION = {
  getValidator: () => (input: unknown) => ({ valid: true as const, data: input as never, errorMessage: undefined }),
};

let loaded: Promise<Sdk> | undefined;
/** The SDK pieces the adapter uses. */
export interface Sdk {
  Client: typeof Client;
  Http: typeof StreamableHTTPClientTransport;
  HttpError: typeof StreamableHTTPError;
  Stdio: typeof StdioClientTransport;
  McpError: typeof McpError;
  ErrorCode: typeof ErrorCode;
}

/** Loads the SDK's client side once per process (the deadline of a call starts after it). */
export function sdk(): Promise<Sdk> {
  loaded ??= Promise.all([
    import("@modelcontextprotocol/sdk/client/index.js"),
    import("@modelcontextprotocol/sdk/client/streamableHttp.js"),
    import("@modelcontextprotocol/sdk/client/stdio.js"),
    import("@modelcontextprotocol/sdk/types.js"),
  ]).then(([c, h, s, t]) => ({
    Client: c.Client,
    Http: h.StreamableHTTPClientTransport,
    HttpError: h.StreamableHTTPError,
    Stdio: s.StdioClientTransport,
    McpError: t.McpError,
    ErrorCode: t.ErrorCode,
  }));
  return loaded;
}

/** A client and transport for one call (connect it with `client.connect(transport)`). */
export async function newSession(o: SessionOptions): Promise<McpSession> {
  const m = await sdk();
  const client = new m.Client(CLIENT_INFO, { capabilities: {}, jsonSchemaValidator: NO_SCHEMA_VALIDATION });
  let transport: Transport;
  if (o.ref.kind === "http") {
    transport = new m.Http(o.ref.url, {
      fetch: o.fetch,
      requestInit: { headers: o.headers },
      // One call, one session: never reconnect a dropped stream in the background.
      reconnectionOptions: {
        maxRetries: 0,
        initialReconnectionDelay: 1000,
        maxReconnectionDelay: 1000,
        reconnectionDelayGrowFactor: 1,
      },
    });
  } else {
    const s = o.stdio!;
    // The SDK's default environment (HOME, PATH, USER, …): nothing else of the kernel's leaks in.
    transport = new m.Stdio({
      command: s.command,
      args: [...(s.args ?? [])],
      ...(s.cwd === undefined ? {} : { cwd: s.cwd }),
      stderr: "ignore",
    });
  }
  // The HTTP transport keeps the negotiated version; record it for the receipt whatever the transport.
  let version = "";
  const set = transport.setProtocolVersion?.bind(transport);
  transport.setProtocolVersion = (v: string) => {
    version = v;
    set?.(v);
  };
  return {
    client,
    transport,
    protocolVersion: () => version,
    rpcCode: (e) => (e instanceof m.McpError ? e.code : null),
    httpStatus: (e) => (e instanceof m.HttpError ? (e.code ?? null) : null),
    codes: { connectionClosed: m.ErrorCode.ConnectionClosed, requestTimeout: m.ErrorCode.RequestTimeout },
  };
}
