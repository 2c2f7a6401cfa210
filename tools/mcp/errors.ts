/**
 * @module How `wk mcp` refuses: every failure of a tool is a tool result with `isError` and the
 * one error shape of worldkernel (`{"error": {"code", "message", "path"?}}`) as its structured
 * content and, as JSON, its text — so an agent branches on `code` and reads `path` — and nothing
 * is written. The MCP SDK's own refusals (arguments that do not fit a tool's input schema, an
 * unknown tool) come as its `MCP error -32602: …` text, naming the argument's path.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { WorldkernelError } from "../../air/errors.js";
import { errorBody, statusOf } from "../serve/errors.js";

/** Codes the MCP layer raises itself (the kernel's, the journal's and governance's pass through as they are). */
export type McpErrorCode =
  | "mcp.no_world"
  | "mcp.no_worlds"
  | "mcp.no_cell"
  | "mcp.no_receipt"
  | "mcp.no_entry"
  | "mcp.too_large"
  | "mcp.bad_argument"
  | "mcp.draining"
  | "auth.forbidden";

/** A refusal of the MCP layer: a stable code, and the argument it concerns as a JSON path (`$.value.by`). */
export class McpServerError extends WorldkernelError<McpErrorCode> {
  constructor(code: McpErrorCode, message: string, fields: { path?: string } = {}) {
    super(code, message, fields);
    this.name = "McpServerError";
  }
}

/** A tool's answer: the value as structured content and, for clients that read text only, as JSON text. */
export function toolResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value) }], structuredContent: value };
}

/**
 * A refusal as a tool result. An error with no code is the server's fault: `log` gets it whole,
 * the caller only `kernel.internal` (as `/v1` answers a 500).
 */
export function toolError(e: unknown, log: (record: Record<string, unknown>) => void): CallToolResult {
  if (statusOf(e) >= 500 && !(e instanceof McpServerError))
    log({
      event: "error",
      code: (e as { code?: string }).code ?? "kernel.internal",
      message: String((e as Error).stack ?? e),
    });
  const body = errorBody(e);
  return { content: [{ type: "text", text: JSON.stringify(body) }], structuredContent: body, isError: true };
}
