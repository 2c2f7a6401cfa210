/**
 * @module One MCP tool as data: its name, what it is for, the role a caller needs, its zod input
 * (the SDK turns it into the JSON Schema `tools/list` shows and checks every call against it)
 * and what it does. Registration (server.ts) wraps every run so a refusal is a typed tool error.
 */
import { z } from "zod";
import type { Role } from "../serve/tokens.js";
import type { McpContext, Principal } from "./context.js";

/** What a tool's run gets besides its arguments: the server's worlds and who calls. */
export interface Call {
  ctx: McpContext;
  who: Principal;
}

/** A tool, typed by its input shape. */
export interface ToolDef<S extends z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  /** `read` for tools that only read; `ingest` for tools that append to a world. */
  role: Extract<Role, "read" | "ingest">;
  input: S;
  run(args: z.output<z.ZodObject<S>>, call: Call): Promise<Record<string, unknown>> | Record<string, unknown>;
}

/**
 * A tool with its input type erased, as the tool table holds it, and its input as one strict
 * object schema built once: an argument the tool does not take is refused, and a server made per
 * HTTP request does not build its zod objects again.
 */
export type AnyTool = ToolDef<z.ZodRawShape> & { schema: z.ZodObject };

/** Checks a tool against its own input shape, then erases the type for the table. */
export const defineTool = <S extends z.ZodRawShape>(t: ToolDef<S>): AnyTool => ({
  ...(t as unknown as ToolDef<z.ZodRawShape>),
  schema: z.strictObject(t.input),
});

/** The `world` argument every tool but list_worlds takes. */
export const worldArg = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe("the world's id (list_worlds); may be left out when the server hosts one world");

/** A journal seq argument. */
export const seqArg = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
