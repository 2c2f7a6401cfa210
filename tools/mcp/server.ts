/**
 * @module `wk mcp`'s server: an `McpServer` (the official SDK) over the hosted worlds, for one
 * caller. Which tools it offers depends on the caller's roles (over stdio, the operator who
 * started it: all of them; over HTTP, the bearer token's): a tool the caller may not call is
 * absent from tools/list, and a call of it is refused with `auth.forbidden` before the SDK
 * dispatches it. Every tool's failure is a typed tool error (errors.ts).
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import type { CallToolResult, JSONRPCMessage, MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js";
import { ownManifest } from "../../kernel/packages.js";
import { LIMITS, may, type McpContext, type Principal } from "./context.js";
import { McpServerError, toolError, toolResult } from "./errors.js";
import { PENDING_TOOLS } from "./pending.js";
import { READ_TOOLS } from "./read-tools.js";
import { registerResources } from "./resources.js";
import type { AnyTool, Call } from "./tool.js";
import { WRITE_TOOLS } from "./write-tools.js";

/** Every tool, in the order tools/list shows them. */
export const TOOLS: readonly AnyTool[] = [...READ_TOOLS, ...PENDING_TOOLS, ...WRITE_TOOLS];

const INSTRUCTIONS =
  "worldkernel worlds: event-sourced, replayable, signed agent worlds. Start with list_worlds and describe_world (the events a world takes, with their JSON Schema); send_event appends one and waits for what it caused; get_state, query_journal, trace and explain read what happened; list_pending shows what waits for an approver's signature, which this server never makes.";

/** The package's version, read once (a server is made per HTTP request). */
let version: string | undefined;

/** One JSON Schema validator for every server: the SDK would build a new Ajv per server, per HTTP request. */
let validator: AjvJsonSchemaValidator | undefined;

/** Registers one tool, its run wrapped so every failure is a typed tool error. */
function register(server: McpServer, t: AnyTool, call: Call): void {
  const readOnly = t.role === "read";
  server.registerTool(
    t.name,
    {
      title: t.title,
      description: t.description,
      inputSchema: t.schema,
      annotations: { readOnlyHint: readOnly, destructiveHint: false, idempotentHint: readOnly, openWorldHint: false },
    },
    (args: Record<string, unknown>): Promise<CallToolResult> => {
      const run = (async () => {
        try {
          return toolResult(await t.run(args, call));
        } catch (e) {
          return toolError(e, call.ctx.log);
        }
      })();
      call.ctx.track?.(run);
      return run;
    },
  );
}

/** An MCP server for one caller: the tools (and, for a reader, the resources) its roles allow. */
export function createMcpServer(ctx: McpContext, who: Principal): McpServer {
  const server = new McpServer(
    { name: "worldkernel", version: (version ??= ownManifest().version) },
    {
      capabilities: { tools: {}, resources: {} },
      instructions: INSTRUCTIONS,
      maxToolInputElements: LIMITS.maxInputElements,
      jsonSchemaValidator: (validator ??= new AjvJsonSchemaValidator()),
    },
  );
  for (const t of TOOLS) if (may(who, t.role)) register(server, t, { ctx, who });
  if (may(who, "read")) registerResources(server, ctx);
  return server;
}

/** The refusal of a tools/call the caller's roles do not allow, or null (any other message, an unknown tool). */
function forbidden(msg: JSONRPCMessage, who: Principal): CallToolResult | null {
  if (!("method" in msg) || msg.method !== "tools/call" || !("id" in msg)) return null;
  const name = (msg.params as { name?: unknown } | undefined)?.name;
  const t = TOOLS.find((x) => x.name === name);
  if (t === undefined || may(who, t.role)) return null;
  const e = new McpServerError(
    "auth.forbidden",
    who.transport === "stdio"
      ? `${t.name} writes, and this wk mcp was started with --read-only`
      : `this token lacks the ${t.role} role that ${t.name} needs`,
  );
  return toolError(e, () => undefined);
}

/**
 * Answers a tools/call of a tool the caller may not call with `auth.forbidden` instead of the
 * SDK's "not found" (call after `server.connect(transport)`, which installs the handler wrapped).
 */
export function guardCalls(transport: Transport, who: Principal): void {
  const inner = transport.onmessage;
  const guarded = (msg: JSONRPCMessage, extra?: MessageExtraInfo): void => {
    const refusal = forbidden(msg, who);
    if (refusal === null) return inner?.(msg, extra);
    void transport.send({ jsonrpc: "2.0", id: (msg as { id: string | number }).id, result: refusal });
  };
  transport.onmessage = guarded as Transport["onmessage"];
}
