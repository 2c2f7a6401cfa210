/**
 * @module `wk mcp` over Streamable HTTP, mounted in `wk serve` at `/mcp`: the same bearer tokens
 * and roles as `/v1` (a read token is offered the read tools only), the SDK's web-standard
 * transport in stateless mode with JSON responses — one server per request, so a request is
 * answered by the token it carries and nothing outlives it. GET (a server-to-client stream) and
 * DELETE (ending a session) have nothing to serve without sessions: 405.
 */
import type { Hono } from "hono";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { McpContext } from "../mcp/context.js";
import { createMcpServer, guardCalls } from "../mcp/server.js";
import type { Tokens } from "./tokens.js";

/** The largest JSON-RPC body taken (bytes): an event value's limit, and room for a patch. */
const MAX_MCP_BODY = 2 * 1024 * 1024;

/** What the route needs: the worlds (as every MCP server gets them) and the server's tokens. */
export interface McpRouteDeps extends McpContext {
  tokens: Tokens;
}

/** Mounts `/mcp`. */
export function mcpRoute(app: Hono, deps: McpRouteDeps): void {
  app.all("/mcp", async (c) => {
    const who = deps.tokens.identify(c.req.header("authorization"));
    if (c.req.method !== "POST")
      return c.json(
        {
          jsonrpc: "2.0",
          id: null,
          error: { code: -32000, message: "this MCP endpoint is stateless: POST JSON-RPC messages to it" },
        },
        405,
        { allow: "POST" },
      );
    const principal = { transport: "http" as const, token: who.name, roles: who.roles };
    const server = createMcpServer(deps, principal);
    const transport = new WebStandardStreamableHTTPServerTransport({
      enableJsonResponse: true,
      maxRequestBodySize: MAX_MCP_BODY,
    });
    await server.connect(transport);
    guardCalls(transport, principal);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      await server.close();
    }
  });
}
