/**
 * @module The `mcp.call` adapter: a module uses a tool of an MCP server as a gated effect, so
 * the call gets what every effect gets — the grant decides (servers, tools, addresses,
 * budgets), a signed receipt records the result, replay and shadow read that receipt and never
 * call the server. At perform it checks the grant again, connects (the SDK's Client over
 * Streamable HTTP through the guarded fetch, or stdio for a command the operator allowlists),
 * fetches the server's tool list and refuses a tool the server does not advertise (the list
 * can only narrow what the grant allows, never widen it), calls the tool under one deadline
 * and a size limit, and records the redacted result. A slow or lying server costs a world at
 * most the deadline: every failure is a typed receipt, never a hang or a throw.
 */
import { lookup as dnsLookup } from "node:dns/promises";
import { failed, finish, NO_COST, type EffectAdapter, type EffectOutcome, type EffectRequest } from "../adapter.js";
import { resolveHeaderSecrets } from "../http/secret-headers.js";
import { allowlist } from "../params.js";
import type { Redactor } from "../secrets/redact.js";
import { checkMcpAllowed, readCall } from "./allow.js";
import { readArguments } from "./arguments.js";
import { guardedFetch, newWireState, type Resolve, type WireState } from "./fetch.js";
import { clip, storeResult, toolErrorText } from "./result.js";
import { parseServer } from "./servers.js";
import { newSession, sdk, type McpSession, type McpStdioServer } from "./session.js";

/** Operator configuration of the MCP adapter (never journaled). */
export interface McpAdapterConfig {
  /** stdio servers a grant may name as `stdio:NAME` (config.json `adapters.mcp.stdio`). */
  stdio?: Readonly<Record<string, McpStdioServer>>;
  /** One deadline for the whole call: connect, tool list and tool call (ms, default 30 s). */
  timeoutMs?: number;
  /** Largest result recorded, as canonical CBOR, and largest HTTP response read (bytes, default 10 MiB). */
  maxResultBytes?: number;
  /** Largest result kept in the receipt itself; a larger one goes to the CAS (bytes, default 4 KiB). */
  inlineResultBytes?: number;
  /** Pages of the server's tool list read before giving up on finding the tool (default 20). */
  maxToolPages?: number;
  /** Extra trusted CA certificates (PEM), e.g. for tests against a local TLS server. */
  ca?: string | Buffer;
  /** Resolves a host name to every address (default `dns.lookup({all: true})`). */
  resolve?: Resolve;
}

const systemResolve: Resolve = (host) => dnsLookup(host, { all: true, verbatim: true });

type Limits = Required<Pick<McpAdapterConfig, "timeoutMs" | "maxResultBytes" | "inlineResultBytes" | "maxToolPages">>;

/** Creates the `mcp.call` adapter. */
export function createMcpAdapter(config: McpAdapterConfig = {}): EffectAdapter {
  const limits: Limits = {
    timeoutMs: config.timeoutMs ?? 30_000,
    maxResultBytes: config.maxResultBytes ?? 10 << 20,
    inlineResultBytes: config.inlineResultBytes ?? 4096,
    maxToolPages: config.maxToolPages ?? 20,
  };
  return {
    id: "worldkernel.mcp",
    version: "1.0.0",
    kinds: ["mcp.call"],
    perform: (req) => performMcp(req, limits, config),
  };
}

/** Where a call was when it failed. */
type Phase = "connect" | "list_tools" | "call_tool";

async function performMcp(req: EffectRequest, limits: Limits, config: McpAdapterConfig): Promise<EffectOutcome> {
  const started = req.nowNs();
  const denial = checkMcpAllowed(req.params, req.grant.params, req.grant.secrets, req.grant.name);
  if (denial) return failed(req, started, denial.code, denial.message);
  const call = readCall(req.params);
  const args = readArguments(call.arguments);
  const parsed = parseServer(call.server);
  // The grant check has read both already; this only narrows their types.
  if (!args.ok || !parsed.ok)
    return failed(req, started, "invalid_params", "params the grant check accepted do not read");
  const ref = parsed.ref;
  const at = { server: ref.key, tool: call.tool };
  const stdio = ref.kind === "stdio" ? config.stdio?.[ref.name] : undefined;
  if (ref.kind === "stdio" && stdio === undefined)
    return failed(req, started, "server_not_configured", `no stdio server ${ref.name} in this kernel's config`, at);
  // Secrets are expanded here, at dispatch, where the grant allows them; a grant always names
  // its servers, so the secret only goes to a server the grant chose. Everything recorded
  // from now on passes through the redactor.
  const expanded = resolveHeaderSecrets(req, started, call.headers, () => null);
  if (!expanded.ok) return expanded.outcome;
  const { redact } = expanded;

  await sdk(); // loading code is not the server's time: the deadline starts after it
  const stop = new AbortController();
  const deadline = AbortSignal.any([req.signal, AbortSignal.timeout(limits.timeoutMs), stop.signal]);
  const wire = newWireState();
  const fetch = guardedFetch({
    allowPrivate: allowlist(req.kind, req.grant.params, "allow_private", "string") ?? [],
    resolve: config.resolve ?? systemResolve,
    maxBytes: limits.maxResultBytes,
    signal: deadline,
    onBroken: () => stop.abort(),
    ca: config.ca,
    wire,
  });
  const session = await newSession({
    ref,
    headers: { ...expanded.headers, "Idempotency-Key": req.idempotencyKey },
    stdio,
    fetch,
  });
  const opts = { signal: deadline, timeout: limits.timeoutMs };
  let phase: Phase = "connect";
  try {
    await session.client.connect(session.transport, opts);
    phase = "list_tools";
    if (!(await advertises(session, call.tool, opts, limits.maxToolPages)))
      return failed(req, started, "tool_not_advertised", `server ${ref.key} does not advertise tool ${call.tool}`, at);
    phase = "call_tool";
    const result = await session.client.callTool({ name: call.tool, arguments: args.value }, undefined, opts);
    const stored = storeResult(result, redact, req.blobs, {
      inlineBytes: limits.inlineResultBytes,
      maxBytes: limits.maxResultBytes,
    });
    if (!stored.ok) return failed(req, started, stored.code, stored.message, at);
    if (result.isError === true)
      return failed(req, started, "tool_error", toolErrorText(result, redact), { ...at, ...stored.fields });
    const end = req.nowNs();
    return {
      status: "ok",
      payload: {
        ...at,
        ...stored.fields,
        protocol_version: session.protocolVersion(),
        timings: { start_ns: started, end_ns: end },
      },
      cost: NO_COST,
      startedNs: started,
      finishedNs: end,
    };
  } catch (e) {
    return fault(req, started, e, { phase, wire, deadline, session, redact, at, limits });
  } finally {
    await session.client.close().catch(() => undefined);
  }
}

/** True when the server's tool list (read page by page, at most `pages`) names `tool`. */
async function advertises(
  s: McpSession,
  tool: string,
  opts: { signal: AbortSignal; timeout: number },
  pages: number,
): Promise<boolean> {
  let cursor: string | undefined;
  for (let page = 0; page < pages; page++) {
    const r = await s.client.listTools(cursor === undefined ? undefined : { cursor }, opts);
    if (r.tools.some((t) => t.name === tool)) return true;
    if (r.nextCursor === undefined) return false;
    cursor = r.nextCursor;
  }
  return false;
}

interface FaultContext {
  phase: Phase;
  wire: WireState;
  deadline: AbortSignal;
  session: McpSession;
  redact: Redactor;
  at: { server: string; tool: string };
  limits: Limits;
}

/**
 * The receipt of a failed call: `aborted` (the kernel cancelled), `private_address_denied` (a
 * resolved address the grant does not allow), `result_too_large`, `timeout` (status timeout),
 * `server_unreachable` (no connection, a dropped one, or no MCP endpoint there), or
 * `protocol_error` (the server answered, but not as MCP allows, or with a JSON-RPC error).
 */
function fault(req: EffectRequest, started: bigint, e: unknown, c: FaultContext): EffectOutcome {
  const at = { ...c.at, phase: c.phase };
  if (req.signal.aborted) return failed(req, started, "aborted", "the kernel cancelled the call", at);
  if (c.wire.denied)
    return failed(req, started, "private_address_denied", c.wire.denied.message, {
      ...at,
      address: c.wire.denied.address,
      address_class: c.wire.denied.cls,
    });
  if (c.wire.tooLarge)
    return failed(
      req,
      started,
      "result_too_large",
      `a response from the server exceeds ${c.limits.maxResultBytes} bytes`,
      at,
    );
  const rpc = c.session.rpcCode(e);
  if (c.deadline.aborted || rpc === c.session.codes.requestTimeout)
    return finish(req, started, "timeout", {
      ...at,
      code: "timeout",
      message: `no answer within ${c.limits.timeoutMs} ms`,
      timeout_ms: c.limits.timeoutMs,
    });
  const message = c.redact.text(clip(e instanceof Error ? e.message : String(e)));
  const status = c.session.httpStatus(e);
  const errno = typeof (e as { code?: unknown })?.code === "string";
  if (
    c.wire.networkError !== null ||
    rpc === c.session.codes.connectionClosed ||
    (c.phase === "connect" && (status !== null || errno))
  )
    return failed(req, started, "server_unreachable", message, {
      ...at,
      ...(status === null ? {} : { http_status: status }),
    });
  return failed(req, started, "protocol_error", message, {
    ...at,
    ...(rpc === null ? {} : { rpc_code: rpc }),
    ...(status === null ? {} : { http_status: status }),
  });
}
