/**
 * @module The `mcp.call` adapter (MCP tools as gated effects), its pure grant checks (reused
 * by the gate under mcp-v1) and the policy-condition view of its arguments.
 */
export { createMcpAdapter } from "./adapter.js";
export type { McpAdapterConfig } from "./adapter.js";
export type { McpStdioServer } from "./session.js";
export { checkMcpAllowed, readCall } from "./allow.js";
export type { McpDenial, McpCall } from "./allow.js";
export { readArguments, conditionView } from "./arguments.js";
export type { Json, ReadArguments } from "./arguments.js";
export { parseServer, grantedServer } from "./servers.js";
export type { McpServerRef, GrantedServer } from "./servers.js";
