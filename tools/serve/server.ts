/**
 * @module `wk serve` as a library: opens the worlds, starts the HTTP server on 127.0.0.1 (by
 * default), and drains on `close()`: new writes get 503, requests in hand finish, event
 * streams end, then every world is closed (snapshot and sealing checkpoint). Acknowledged
 * writes are durable before their response, so a SIGKILL loses none of them.
 */
import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "@hono/node-server";
import type { Server } from "node:http";
import { readConfig } from "../../kernel/world/config.js";
import { worldPaths } from "../../kernel/journal/world-paths.js";
import { createApp } from "./app.js";
import { HttpError } from "./errors.js";
import { Limiter } from "./limiter.js";
import { ServerMetrics } from "./metrics.js";
import { ServerOversight } from "./oversight.js";
import { registerOversightGauges } from "./oversight-gauges.js";
import { Tokens } from "./tokens.js";
import type { WorldHost } from "./world-host.js";
import { openHosts } from "./hosts.js";
import { startTracing } from "./tracing.js";

/** How to serve. */
export interface ServeOptions {
  /** World directories to host. */
  worlds: readonly string[];
  /** Only worlds whose journal is in this PostgreSQL database (a postgres:// URL). */
  store?: string;
  /** Interface to bind (default 127.0.0.1: loopback only). */
  hostname?: string;
  /** Port (0: any free one; default 7070). */
  port?: number;
  /** The tokens file (0600); default `serve-tokens.json` beside the first world, created with an admin token if absent. */
  tokensFile?: string;
  /** Adapter calls in flight per world, and overall (defaults 8 and 32). */
  perWorld?: number;
  overall?: number;
  /** The kernel's wall clock in ns (injected by tests). */
  clock?: () => bigint;
  /** One JSON record per notable event (listening, background errors). */
  log?: (record: Record<string, unknown>) => void;
  /** Event-stream keep-alive interval in ms (default 15 s). */
  keepAliveMs?: number;
  /**
   * The built console's directory (null: none). Default: env `WK_CONSOLE_DIR` (for tests and
   * console development), else `defaultConsoleDir()`.
   */
  consoleDir?: string | null;
  /** How long a drain waits for requests in hand before it closes their connections (default 30 s). */
  drainMs?: number;
  /** Export OpenTelemetry spans to this OTLP/HTTP endpoint (off when absent). */
  otlpEndpoint?: string;
}

const DRAIN_MS = 30_000;

/** A running server. */
export interface RunningServer {
  url: string;
  hosts: ReadonlyMap<string, WorldHost>;
  tokensFile: string;
  /** True when this start wrote a new tokens file (its admin token is in it, never printed). */
  createdTokens: boolean;
  /** Drains and closes (idempotent). */
  close(): Promise<void>;
}

/** The built console beside the compiled server (dist/console), or null when it was not built. */
export function defaultConsoleDir(): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const dir of [join(here, "../../console"), join(here, "../../dist/console")])
    if (existsSync(join(dir, "index.html"))) return dir;
  return null;
}

/** Where the console is served from: the option, else `WK_CONSOLE_DIR`, else beside the build. */
function consoleDirOf(opts: ServeOptions): string | null {
  const dir = opts.consoleDir !== undefined ? opts.consoleDir : process.env.WK_CONSOLE_DIR || defaultConsoleDir();
  // Absolute and normalized: the file route confines requests to paths under it.
  return dir === null ? null : resolve(dir);
}

/** Opens every world and starts serving them. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const log = opts.log ?? (() => undefined);
  const dirs = opts.worlds.filter(
    (d) => opts.store === undefined || readConfig(worldPaths(d).config).store === opts.store,
  );
  if (dirs.length === 0)
    throw new HttpError(500, "serve.no_worlds", "no world to serve: name one with --world or a parent with --worlds");
  const tokensFile = opts.tokensFile ?? join(dirs[0]!, "serve-tokens.json");
  let createdTokens = false;
  let tokens: Tokens;
  if (opts.tokensFile === undefined && !existsSync(tokensFile)) {
    tokens = Tokens.create(tokensFile).tokens;
    createdTokens = true;
  } else tokens = Tokens.load(tokensFile);

  const perWorld = opts.perWorld ?? 8;
  const overall = new Limiter(opts.overall ?? 32);
  let metrics: ServerMetrics | undefined;
  const oversight = new ServerOversight((h, e) =>
    log({
      event: "error",
      world: h.id,
      code: (e as { code?: string }).code ?? "serve.oversight",
      message: `oversight metrics stopped: ${(e as Error).message}`,
    }),
  );
  const tracing = await startTracing(opts.otlpEndpoint);
  const hostOptions = {
    ...(opts.clock ? { clock: opts.clock } : {}),
    overall,
    onEntries: (h: WorldHost, entries: readonly import("../../kernel/journal/index.js").JournalEntry[]) => {
      metrics?.observe(h.id, entries);
      tracing?.receipts(h.id, entries);
    },
    onError: (h: WorldHost, e: unknown) =>
      log({
        event: "error",
        world: h.id,
        code: (e as { code?: string }).code ?? "kernel.internal",
        message: (e as Error).message,
      }),
  };
  // A world that cannot be served (a copy of another, so the same id; a journal that will not
  // open) is skipped and said so; the others are served. None at all is an error.
  const skipped: string[] = [];
  const hosts = await openHosts(
    dirs,
    () => ({ ...hostOptions, perWorld: new Limiter(perWorld) }),
    (s) => {
      skipped.push(`${s.dir}: ${s.code}: ${s.message}`);
      log({ event: "skipped", ...s });
    },
  );
  if (hosts.size === 0) throw new HttpError(500, "serve.no_worlds", `no world could be served: ${skipped.join("; ")}`);
  // Read at scrape time from seq 0: a restarted server reports the whole history.
  for (const h of hosts.values()) oversight.follow(h);
  metrics = new ServerMetrics(() => [...hosts.values()].map((h) => h.gauges()));
  registerOversightGauges(metrics.registry, () => oversight.reports());

  let draining = false;
  let inflight = 0;
  let idle: (() => void) | undefined;
  const app = createApp({
    hosts,
    tokens,
    metrics,
    draining: () => draining,
    tracing,
    consoleDir: consoleDirOf(opts),
    ...(opts.keepAliveMs !== undefined ? { keepAliveMs: opts.keepAliveMs } : {}),
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = serve(
      {
        fetch: async (req: Request) => {
          // Streams stay open until the drain ends them; only ordinary requests hold the drain.
          const counted = !new URL(req.url).pathname.endsWith("/stream");
          if (counted) inflight++;
          try {
            return await app.fetch(req);
          } finally {
            if (counted && --inflight === 0) idle?.();
          }
        },
        hostname: opts.hostname ?? "127.0.0.1",
        port: opts.port ?? 7070,
      },
      () => resolve(s as Server),
    ) as Server;
    s.once("error", reject);
  });
  const a = server.address() as AddressInfo;
  const url = `http://${a.family === "IPv6" ? `[${a.address}]` : a.address}:${a.port}`;
  log({ event: "listening", url, worlds: [...hosts.keys()], tokens: tokensFile, created_tokens: createdTokens });

  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      draining = true;
      server.close();
      // Requests in hand finish; one that hangs (a client that never sends the rest of its body)
      // is cut off after DRAIN_MS, and its writes, if any, were never acknowledged.
      if (inflight > 0)
        await new Promise<void>((r) => {
          idle = r;
          setTimeout(r, opts.drainMs ?? DRAIN_MS).unref();
        });
      server.closeAllConnections();
      for (const h of hosts.values())
        await h.close().catch((e: unknown) => log({ event: "error", world: h.id, message: (e as Error).message }));
      await tracing
        ?.shutdown()
        .catch((e: unknown) => log({ event: "error", code: "serve.tracing", message: (e as Error).message }));
      log({ event: "stopped" });
    })());
  return { url, hosts, tokensFile, createdTokens, close };
}
