/**
 * @module `wk serve`: worlds as a running service: the HTTP API under /v1, the console at
 * /console/, Prometheus metrics at /metrics. It prints JSON lines (listening, errors,
 * stopped) and drains on SIGTERM or SIGINT.
 */
import type { Command } from "commander";
import { startServer, type RunningServer } from "../../serve/server.js";
import { worldDirsIn } from "../../../kernel/world/worker.js";
import { CliExit, EXIT, worldDir } from "../io.js";

const collect = (v: string, all: string[]) => [...all, v];

function port(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0 || n > 65535)
    throw new CliExit(EXIT.usage, `--port must be an integer from 0 to 65535, got "${v}"`);
  return n;
}

function positive(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new CliExit(EXIT.usage, `${name} must be a positive integer, got "${v}"`);
  return n;
}

/** Registers `wk serve`. */
export function registerServe(program: Command): void {
  program
    .command("serve")
    .description("host worlds as a service: HTTP API, timers on time, approval console, Prometheus metrics")
    .option("--world <dir>", "a world directory to host (repeatable)", collect, [])
    .option("--worlds <parent>", "host every world directory under this one")
    .option("--store <url>", "host only the worlds whose journal is in this PostgreSQL database")
    .option("--host <address>", "interface to bind (anything but loopback exposes the API to the network)", "127.0.0.1")
    .option("--port <n>", "port (0: any free port)", "7070")
    .option(
      "--tokens <file>",
      "bearer tokens by role, JSON of mode 0600 (default: serve-tokens.json beside the first world, created with an admin token)",
    )
    .option("--per-world <n>", "effect calls in flight per world", "8")
    .option("--overall <n>", "effect calls in flight in all", "32")
    .option(
      "--otlp-endpoint <url>",
      "export OpenTelemetry spans over OTLP/HTTP to this base URL (default: $OTEL_EXPORTER_OTLP_ENDPOINT; off when neither is set)",
    )
    .option("--json", "errors as JSON too (what the server does is always JSON lines)")
    .action(
      async (opts: {
        world: string[];
        worlds?: string;
        store?: string;
        host: string;
        port: string;
        tokens?: string;
        perWorld: string;
        overall: string;
        otlpEndpoint?: string;
      }) => {
        const dirs = [
          ...opts.world.map((d) => worldDir(d)),
          ...(opts.worlds ? worldDirsIn(worldDir(opts.worlds)) : []),
        ];
        if (dirs.length === 0 && !opts.worlds) dirs.push(worldDir(undefined));
        const otlp = opts.otlpEndpoint ?? process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
        const print = (r: Record<string, unknown>) => process.stdout.write(JSON.stringify(r) + "\n");
        // The signal handlers go in before the server starts: a SIGTERM that arrives as soon as
        // it listens (or while worlds open) still drains instead of killing the process.
        let stopped: () => void = () => undefined;
        const done = new Promise<void>((resolve) => (stopped = resolve));
        let server: RunningServer | undefined;
        let stopping = false;
        const stop = () => {
          stopping = true;
          if (server) void server.close().then(stopped);
        };
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
        server = await startServer({
          worlds: [...new Set(dirs)],
          ...(opts.store ? { store: opts.store } : {}),
          hostname: opts.host,
          port: port(opts.port),
          ...(opts.tokens ? { tokensFile: opts.tokens } : {}),
          perWorld: positive(opts.perWorld, "--per-world"),
          overall: positive(opts.overall, "--overall"),
          log: print,
          ...(otlp ? { otlpEndpoint: otlp } : {}),
        });
        if (server.createdTokens)
          process.stderr.write(`wk serve: wrote a new admin token to ${server.tokensFile} (mode 0600)\n`);
        if (stopping) void server.close().then(stopped);
        await done;
      },
    );
}
