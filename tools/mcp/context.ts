/**
 * @module What a `wk mcp` server works with: the hosted worlds (each held by its one writer, a
 * `WorldHost`), who is calling (the principal: transport, token name, roles), and the limits
 * that keep one call from holding the server (page sizes, value sizes, how long `send_event`
 * waits for its cascade).
 */
import { SETTLE_MS } from "../serve/settle.js";
import type { IngressSource } from "../../kernel/world/ingress.js";
import type { Role } from "../serve/tokens.js";
import type { WorldHost } from "../serve/world-host.js";
import { McpServerError } from "./errors.js";

/** Bounds on what one call may ask for or send. */
export const LIMITS = {
  /** Journal entries per `query_journal` page (default 50). */
  maxPage: 500,
  defaultPage: 50,
  /** Entries one `query_journal` call reads looking for matches before it hands back a cursor. */
  maxScan: 10_000,
  /** JSON bytes of a page's entries: the page ends early (with a cursor) past it. */
  maxPageBytes: 1024 * 1024,
  /** Cells `get_state` lists at most. */
  maxCells: 1000,
  /** JSON bytes of an event value (`send_event`) and of a patch document (`propose`). */
  maxValueBytes: 256 * 1024,
  maxPatchBytes: 1024 * 1024,
  /** Array elements and object members in one call's arguments (checked by the SDK before any tool runs). */
  maxInputElements: 50_000,
  /** How long `send_event` waits for its cascade to settle, by default and at most (ms). */
  defaultSettleMs: SETTLE_MS.default,
  maxSettleMs: SETTLE_MS.max,
  /** Entries of a trace's tree (as `/v1/…/trace`). */
  maxTraceNodes: 2000,
} as const;

/** Who calls: over stdio the operator who started `wk mcp` (every role); over HTTP a bearer token. */
export interface Principal {
  transport: "stdio" | "http";
  /** The token's name (HTTP only). */
  token?: string;
  roles: ReadonlySet<Role>;
}

/** True when `who` may call a tool that needs `role` (admin may call every tool). */
export function may(who: Principal, role: Role): boolean {
  return who.roles.has(role) || who.roles.has("admin");
}

/** What an event sent by `who` records as its origin (`via: "mcp/http"`, the token's name). */
export function sourceOf(who: Principal): IngressSource {
  return { via: `mcp/${who.transport}`, ...(who.token === undefined ? {} : { token: who.token }) };
}

/** The worlds and the server's state, shared by every call. */
export interface McpContext {
  hosts: ReadonlyMap<string, WorldHost>;
  /** True once the server is shutting down: writes are refused (`mcp.draining`). */
  draining: () => boolean;
  /** One JSON record per notable event (a server fault); never the caller's arguments. */
  log: (record: Record<string, unknown>) => void;
  /** Told of every tool call as it starts (stdio waits for those in flight before it closes). */
  track?: (call: Promise<unknown>) => void;
}

/** The world a call names (`$.world`), or the only one hosted when it names none. */
export function hostOf(ctx: McpContext, world: string | undefined): WorldHost {
  if (world === undefined) {
    if (ctx.hosts.size === 1) return [...ctx.hosts.values()][0]!;
    throw new McpServerError(
      "mcp.no_world",
      `this server hosts ${ctx.hosts.size} worlds: name one (${[...ctx.hosts.keys()].join(", ")})`,
      { path: "$.world" },
    );
  }
  const h = ctx.hosts.get(world);
  if (h === undefined)
    throw new McpServerError(
      "mcp.no_world",
      `this server hosts no world ${world} (worlds: ${[...ctx.hosts.keys()].join(", ")})`,
      { path: "$.world" },
    );
  return h;
}

/** Refuses a write while the server drains. */
export function writable(ctx: McpContext): void {
  if (ctx.draining()) throw new McpServerError("mcp.draining", "the server is shutting down; retry on its restart");
}

/** Refuses a value whose JSON is longer than `max` bytes, naming the argument. */
export function boundedJson(value: unknown, max: number, path: string): void {
  const bytes = Buffer.byteLength(JSON.stringify(value) ?? "");
  if (bytes > max)
    throw new McpServerError("mcp.too_large", `${path} is ${bytes} bytes of JSON; at most ${max} are taken`, { path });
}
