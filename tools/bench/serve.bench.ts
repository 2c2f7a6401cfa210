/**
 * @module `wk serve` (`npm run bench -- serve`): HTTP ingest into a counter world through a real
 * server process (tsx over tools/cli/main.ts, as the load test runs it) on 127.0.0.1, beside
 * the same events sent in this process with `World.sendMany` to a second counter world created
 * the same way (same config: synchronous=FULL), in alternating slices of the same run
 * (`compareAsync`), so drift on this shared machine falls on both alike.
 *
 * - single events: 4 concurrent clients, each sending one event per request (JSON body,
 *   `Idempotency-Key` header), against 4 concurrent in-process callers of `sendMany` of one
 *   event. Each request is one FULL commit on either side.
 * - NDJSON batches: 4 concurrent clients, 100 events per request (a key on every line),
 *   against 4 concurrent in-process `sendMany` calls of the same 100 events.
 * Every event has its own idempotency key on both sides (the kernel looks each one up), and
 * each figure prints p50/p99 latency per request (process.hrtime.bigint around each call).
 *
 * Console first load: only when `dist/console/index.html` (the built console) and
 * /usr/bin/chromium both exist; headless Chromium through playwright-core, a fresh browser
 * context per load (a cold cache), from `page.goto` to the `load` event of `/console/`, beside
 * the same for a route of the same server that answers a small 404 JSON body (the server's and
 * the browser's fixed cost of one page). Otherwise it prints that it was skipped and why.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { packageRoot } from "../../kernel/packages.js";
import { createWorld, sourceFromAirDir, World } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { WorldkernelClient } from "../serve/client.js";
import { compareAsync, type Bench, type BenchResult, type Rate } from "./harness.js";
import { CHROMIUM, launchChromium } from "../../test/serve/chromium.js";

const ROOT = packageRoot();
const SCHEMA = "demo/CounterEvent@1";
const CLIENTS = 4;
export const TOKEN = "bench-serve-token-0123456789abcdef";
const CONSOLE_INDEX = join(ROOT, "dist/console/index.html");
const CONSOLE_LOADS = 7;
/** A safety net against a server that never starts, never a timing check. */
const START_CAP_MS = 120_000;

/** The counter event number `n` (50 cells, so steps read and write existing cells). */
const valueOf = (n: number) => ({ key: `k${n % 50}`, by: 1 + (n % 7) });

const children = new Set<ChildProcess>();
const killAll = (): void => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
};

/** Spawns `wk serve` on a free port; resolves with its URL once it prints `listening`. */
export async function startServe(
  dir: string,
  tokens: string,
): Promise<{ url: string; child: ChildProcess; exited: Promise<number | null> }> {
  const cli = join(ROOT, "tools/cli/main.ts");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", cli, "serve", "--world", dir, "--port", "0", "--tokens", tokens],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NODE_NO_WARNINGS: "1" } },
  );
  children.add(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve.bench: wk serve did not listen: ${stderr}`)), START_CAP_MS);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const r = JSON.parse(line) as { event: string; url?: string };
      if (r.event === "listening") {
        clearTimeout(timer);
        resolve(r.url!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve.bench: wk serve exited ${code} before listening: ${stderr}`));
    });
  });
  return { url, child, exited };
}

/** Latencies of one side, in ns, recorded only while `on`. */
export class Latencies {
  on = false;
  readonly ns: bigint[] = [];
  async time<T>(fn: () => Promise<T>): Promise<T> {
    const t = process.hrtime.bigint();
    const r = await fn();
    if (this.on) this.ns.push(process.hrtime.bigint() - t);
    return r;
  }
  /** The q-quantile in ms (nearest rank). */
  ms(q: number): string {
    const s = [...this.ns].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (s.length === 0) return "n/a";
    return (Number(s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!) / 1e6).toFixed(2);
  }
}

/** One figure: HTTP against in-process `sendMany`, `perRequest` events per request, CLIENTS at once on each side. */
async function ingest(
  client: WorldkernelClient,
  id: string,
  local: World,
  perRequest: number,
  sequential: number,
  sliceMs: number,
): Promise<BenchResult> {
  let n = 0;
  const batchOf = (prefix: string) =>
    Array.from({ length: perRequest }, () => {
      const i = n++;
      return { key: `${prefix}/e${i}`, value: valueOf(i) };
    });
  const http = new Latencies();
  const inProcess = new Latencies();
  // Each call of a side: CLIENTS loops at once, each sending `sequential` requests one after another.
  const clients = async (one: () => Promise<unknown>) =>
    Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let r = 0; r < sequential; r++) await one();
      }),
    );
  const httpOne = () => {
    const b = batchOf("http");
    return http.time<unknown>(() =>
      perRequest === 1
        ? client.send(id, { schema: SCHEMA, value: b[0]!.value }, { idempotencyKey: b[0]!.key })
        : client.sendMany(
            id,
            b.map((e) => ({ schema: SCHEMA, value: e.value, idempotency_key: e.key })),
          ),
    );
  };
  const localOne = () => {
    const b = batchOf("local");
    return inProcess.time(() =>
      local.sendMany(b.map((e) => ({ schema: SCHEMA, json: e.value, idempotencyKey: e.key }))),
    );
  };
  const events = CLIENTS * sequential * perRequest;
  // Warm both sides (connections, module instances, page cache) before anything is counted.
  for (let i = 0; i < 5; i++) {
    await clients(httpOne);
    await clients(localOne);
  }
  http.on = inProcess.on = true;
  const what = perRequest === 1 ? "single-event JSON requests" : `NDJSON, ${perRequest} events per request`;
  const [figure, baseline] = await compareAsync(
    { label: `HTTP ${what}, ${CLIENTS} clients, events/s`, fn: () => clients(httpOne), batch: events },
    {
      label: `in-process World.sendMany of ${perRequest}, ${CLIENTS} callers`,
      fn: () => clients(localOne),
      batch: events,
    },
    { rounds: 6, sliceMs, warmup: 0 },
  );
  return {
    name: `wk serve: ingest, ${what} (synchronous=FULL, one commit per request)`,
    figure,
    baseline,
    extra: {
      http_p50_ms: http.ms(0.5),
      http_p99_ms: http.ms(0.99),
      in_process_p50_ms: inProcess.ms(0.5),
      in_process_p99_ms: inProcess.ms(0.99),
      requests: http.ns.length,
    },
  };
}

/** Median of a list of ms. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Console first load in headless Chromium against a 404 JSON route of the same server, alternating. */
async function consoleLoad(url: string): Promise<BenchResult> {
  const browser = await launchChromium();
  try {
    const load = async (path: string): Promise<number> => {
      // A fresh context: no cache, no storage, as a first visit.
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        const t = process.hrtime.bigint();
        await page.goto(url + path, { waitUntil: "load" });
        return Number(process.hrtime.bigint() - t) / 1e6;
      } finally {
        await context.close();
      }
    };
    const blankPath = "/v1/no-such-route";
    await load("/console/");
    await load(blankPath);
    const consoleMs: number[] = [];
    const blankMs: number[] = [];
    for (let i = 0; i < CONSOLE_LOADS; i++) {
      for (const k of i % 2 === 0 ? [0, 1] : [1, 0]) {
        if (k === 0) consoleMs.push(await load("/console/"));
        else blankMs.push(await load(blankPath));
      }
    }
    const rate = (label: string, ms: number): Rate => ({ label, opsPerSec: 1000 / ms });
    return {
      name: `wk serve: console first load in headless Chromium (fresh context each, goto → load; median of ${CONSOLE_LOADS})`,
      figure: rate("/console/, loads/s", median(consoleMs)),
      baseline: rate(`${blankPath} (404 JSON, same server)`, median(blankMs)),
      extra: {
        console_ms: median(consoleMs).toFixed(1),
        blank_ms: median(blankMs).toFixed(1),
        console_samples_ms: consoleMs.map((m) => m.toFixed(0)).join("/"),
      },
    };
  } finally {
    await browser.close();
  }
}

/** A temporary directory with a tokens file and one counter world per name; `done` removes it. */
export async function setup(
  names: string[],
): Promise<{ base: string; tokens: string; ids: string[]; done: () => void }> {
  const base = mkdtempSync(join(tmpdir(), "wk-bench-serve-"));
  process.once("exit", killAll);
  const tokens = join(base, "tokens.json");
  writeFileSync(tokens, JSON.stringify({ tokens: [{ token: TOKEN, roles: ["admin"] }] }), { mode: 0o600 });
  const source = sourceFromAirDir(join(ROOT, "worlds/counter"));
  const ids: string[] = [];
  for (const name of names) {
    const w = await createWorld(join(base, name), source, { adapters: defaultAdapters() });
    ids.push(w.id);
    await w.close();
  }
  const done = () => {
    killAll();
    process.removeListener("exit", killAll);
    rmSync(base, { recursive: true, force: true });
  };
  return { base, tokens, ids, done };
}

/** SIGTERM drains the server; it must leave with exit 0. */
export async function stop(server: { child: ChildProcess; exited: Promise<number | null> }): Promise<void> {
  server.child.kill("SIGTERM");
  const code = await server.exited;
  if (code !== 0) throw new Error(`serve.bench: wk serve exited ${code} on SIGTERM`);
}

const ingestBench: Bench = {
  name: "wk serve: HTTP ingest",
  async run(): Promise<BenchResult[]> {
    const s = await setup(["http", "local"]);
    const out: BenchResult[] = [];
    let local: World | undefined;
    try {
      const server = await startServe(join(s.base, "http"), s.tokens);
      // With the server's own options: it answers once durable and dispatches afterwards.
      local = await World.open(join(s.base, "local"), {
        adapters: defaultAdapters(),
        dispatchAfterWrite: false,
      });
      const client = new WorldkernelClient({ baseUrl: server.url, token: TOKEN });
      out.push(await ingest(client, s.ids[0]!, local, 1, 10, 1500));
      out.push(await ingest(client, s.ids[0]!, local, 100, 1, 1000));
      await stop(server);
    } finally {
      await local?.close();
      s.done();
    }
    return out;
  },
};

const consoleBench: Bench = {
  name: "wk serve: console first load",
  async run(): Promise<BenchResult[]> {
    const missing = !existsSync(CONSOLE_INDEX)
      ? `${CONSOLE_INDEX} does not exist (the console is not built: npm run build:dist)`
      : !existsSync(CHROMIUM)
        ? `${CHROMIUM} does not exist`
        : undefined;
    if (missing !== undefined) {
      console.log(`wk serve: console first load in Chromium — skipped: ${missing}`);
      return [];
    }
    const s = await setup(["console"]);
    try {
      const server = await startServe(join(s.base, "console"), s.tokens);
      const r = await consoleLoad(server.url);
      await stop(server);
      return [r];
    } finally {
      s.done();
    }
  },
};

export const benchmarks: Bench[] = [ingestBench, consoleBench];
