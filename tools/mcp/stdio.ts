/**
 * @module `wk mcp` over stdio, for a desktop client that starts it as a subprocess: opens the
 * worlds (this process becomes their one writer, as `wk serve` is), answers MCP on stdin/stdout
 * with every tool — no token: the operator who launched it has full rights, or read rights only
 * with `readOnly` — and logs JSON lines on stderr (stdout is the protocol's). It ends when the
 * client closes stdin or on SIGTERM/SIGINT: worlds are closed (snapshot and sealing checkpoint).
 */
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { openHosts } from "../serve/hosts.js";
import { Limiter } from "../serve/limiter.js";
import type { Role } from "../serve/tokens.js";
import type { Principal } from "./context.js";
import { McpServerError } from "./errors.js";
import { createMcpServer, guardCalls } from "./server.js";

/** How to run. */
export interface StdioOptions {
  worlds: readonly string[];
  /** Offer the read tools only. */
  readOnly?: boolean;
  /** Adapter calls in flight per world and overall (defaults 8 and 32, as `wk serve`). */
  perWorld?: number;
  overall?: number;
  /** One JSON record per notable event (default: a line on stderr). */
  log?: (record: Record<string, unknown>) => void;
}

/** The longest JSON-RPC message read from stdin (bytes); a longer one closes the transport. */
const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

/** Serves MCP on stdin/stdout until the client goes away or a signal arrives; resolves once the worlds are closed. */
export async function serveStdio(opts: StdioOptions): Promise<void> {
  const log = opts.log ?? ((r) => process.stderr.write(JSON.stringify(r) + "\n"));
  const overall = new Limiter(opts.overall ?? 32);
  const skipped: string[] = [];
  const hosts = await openHosts(
    opts.worlds,
    () => ({
      perWorld: new Limiter(opts.perWorld ?? 8),
      overall,
      onEntries: () => undefined,
      onError: (h, e) =>
        log({
          event: "error",
          world: h.id,
          code: (e as { code?: string }).code ?? "kernel.internal",
          message: (e as Error).message,
        }),
    }),
    (s) => {
      skipped.push(`${s.dir}: ${s.code}: ${s.message}`);
      log({ event: "skipped", ...s });
    },
  );
  if (hosts.size === 0)
    throw new McpServerError("mcp.no_worlds", `no world could be opened: ${skipped.join("; ") || "none given"}`);

  let draining = false;
  const roles: Role[] = opts.readOnly ? ["read"] : ["admin"];
  const who: Principal = { transport: "stdio", roles: new Set(roles) };
  // Calls in flight when the client closes stdin (a pipe of requests ends at once) are answered first.
  const inflight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const server = createMcpServer({ hosts, draining: () => draining, log, track }, who);
  const transport = new StdioServerTransport(process.stdin, process.stdout, { maxBufferSize: MAX_MESSAGE_BYTES });

  let stop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = () => stop();
  process.once("SIGTERM", onSignal);
  process.once("SIGINT", onSignal);
  process.stdin.once("end", onSignal);
  process.stdin.once("close", onSignal);
  transport.onclose = onSignal;
  await server.connect(transport);
  guardCalls(transport, who);
  log({ event: "ready", worlds: [...hosts.keys()], read_only: opts.readOnly === true });

  await stopped;
  draining = true;
  while (inflight.size > 0) await Promise.allSettled([...inflight]);
  // The SDK sends a call's answer in a continuation of the call: let it run before closing.
  await new Promise((r) => setImmediate(r));
  await server.close().catch(() => undefined);
  for (const h of hosts.values())
    await h.close().catch((e: unknown) => log({ event: "error", world: h.id, message: (e as Error).message }));
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  log({ event: "stopped" });
}
