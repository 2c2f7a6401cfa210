/**
 * @module Crash-and-restart load test of `wk serve`: 16 concurrent clients send 2,000 counter
 * events each (32,000 in all, each under its own idempotency key `c<client>/e<n>`) over real
 * HTTP on 127.0.0.1 to a real server process (tsx over tools/cli/main.ts, SQLite with
 * synchronous=FULL), which the test SIGKILLs and restarts on the same port three times, at
 * seeded moments counted in acknowledged events (never in wall-clock time).
 *
 * Batching: each client's events go out in requests of a seeded size from 1 to 20 (10.5 on
 * average, ≈ 3,050 requests): a size-1 request is a single JSON event with an
 * `Idempotency-Key` header, the others NDJSON with a key on every line. One request is one
 * FULL commit, and the kernel serializes writers, so single-event requests alone (32,000
 * fsyncs) would take minutes on a noisy 2-core machine; these batches keep the whole test
 * near a minute there (≈ 40 s of load) and still cover both body forms.
 *
 * Clients are bounded (one request in flight each) and keep retrying (up to a safety cap).
 * On a connection error or a 503 a client waits until the test says the next server is
 * listening (same port; a new one only if another process took it meanwhile). It then first
 * re-sends its last acknowledged request: acknowledged before the SIGKILL means durable, so it
 * must come back as duplicates with the first results. Then it retries the failed request
 * with the same keys. Every 2xx answer is checked against the first answer for its key.
 * Afterwards every client re-sends every request once more (all duplicates, all first
 * results), the server is stopped with SIGTERM (exit 0), and the journal must hold every key
 * exactly once at the seq its acknowledgement named, with the event that was sent under it;
 * the world verifies, replays to the same state root, and each client's counter cell holds
 * the sum of its `by`s and its 2,000 events.
 *
 * The seed (WK_TEST_SEED to reproduce) is in the describe title and every failure message.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { afterAll, describe, expect, it } from "vitest";
import { decodeStored } from "../../air/cbor/decode.js";
import type { CborObject } from "../../air/cbor/value.js";
import { cellKeyText } from "../../kernel/core/cells.js";
import {
  createWorld,
  openWorldJournalReadonly,
  replayWorld,
  sourceFromAirDir,
  verifyWorldDir,
} from "../../kernel/world/index.js";
import { readSealedState } from "../../kernel/world/state-view.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { ApiError, WorldkernelClient, type SendResult } from "../../tools/serve/client.js";
import { below, mulberry32, reproduce, testSeed } from "../seeded.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const HERE = "test/serve/load.test.ts";
const SEED = testSeed();
const WHY = `seed ${SEED} (${reproduce(SEED, HERE)})`;
const CLIENTS = 16;
const EVENTS = 2000;
const TOTAL = CLIENTS * EVENTS;
const KILLS = 3;
const MAX_BATCH = 20;
const SCHEMA = "demo/CounterEvent@1";
const MODULE = "demo/Counter@1";
const TOKEN = "load-test-token-0123456789abcdef";
/** Safety nets against a hung run (generous for a loaded 2-core CI machine), never timing checks. */
const START_CAP_MS = 120_000;
const MAX_ATTEMPTS = 2000;

const children = new Set<ChildProcess>();
const dirs: string[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A port that was free a moment ago (listen on 0, read it, close), reused by every restart. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** One `wk serve` process. */
interface Serve {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `wk serve` and resolves once it prints its `listening` line (rejects if it exits first). */
async function spawnServe(dir: string, port: number, tokens: string): Promise<Serve> {
  const args = ["--import", "tsx", join(ROOT, "tools/cli/main.ts"), "serve", "--world", dir, "--port", String(port)];
  const child = spawn(process.execPath, [...args, "--tokens", tokens], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_NO_WARNINGS: "1" },
  });
  children.add(child);
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.once("exit", (code, signal) => r({ code, signal })),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${WHY}: wk serve did not listen: ${stderr}`)), START_CAP_MS);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const r = JSON.parse(line) as { event: string; url?: string };
      if (r.event === "listening") {
        clearTimeout(timer);
        resolve(r.url!);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${WHY}: wk serve exited ${code ?? signal} before listening: ${stderr}`));
    });
  });
  return { child, url, stderr: () => stderr, exited };
}

/** One request a client makes: its events, in order, each under its own key. */
interface Req {
  client: number;
  first: number;
  events: { key: string; by: number }[];
}

const keyOf = (client: number, n: number) => `c${client}/e${n}`;
const sameResult = (a: SendResult, b: SendResult) =>
  a.seq === b.seq && a.entries === b.entries && a.steps === b.steps && a.failures === b.failures;

describe(`wk serve: 16 clients × 2,000 events while SIGKILLed and restarted three times (seed ${SEED})`, () => {
  it("acknowledges every event exactly once, retries get their first results, and the world verifies and replays", async () => {
    const random = mulberry32(SEED);
    const base = mkdtempSync(join(tmpdir(), "wk-serve-load-"));
    dirs.push(base);
    const dir = join(base, "world");
    const tokens = join(base, "tokens.json");
    writeFileSync(tokens, JSON.stringify({ tokens: [{ token: TOKEN, roles: ["admin"] }] }), { mode: 0o600 });
    const created = await createWorld(dir, sourceFromAirDir(join(ROOT, "worlds/counter")), {
      adapters: defaultAdapters(),
    });
    const id = created.id;
    await created.close();

    // Every client's plan, drawn up front so the seed alone decides it (not the interleaving).
    const plans: Req[][] = [];
    const byOf = new Map<string, number>();
    for (let c = 0; c < CLIENTS; c++) {
      const reqs: Req[] = [];
      for (let n = 0; n < EVENTS;) {
        const size = Math.min(EVENTS - n, 1 + below(random, MAX_BATCH));
        const events = Array.from({ length: size }, (_, j) => ({ key: keyOf(c, n + j), by: 1 + below(random, 9) }));
        for (const e of events) byOf.set(e.key, e.by);
        reqs.push({ client: c, first: n, events });
        n += size;
      }
      plans.push(reqs);
    }
    // Kill moments: one seeded threshold of acknowledged events in each of three spans of the run.
    const thresholds = Array.from({ length: KILLS }, (_, k) => Math.floor(TOTAL * (0.05 + 0.3 * k + 0.25 * random())));

    const port = await freePort();
    let server = await spawnServe(dir, port, tokens);
    // Clients read the URL at each attempt: a restart keeps the port unless another process took it meanwhile.
    let url = server.url;
    const restart = async (): Promise<Serve> => {
      for (let i = 0; ; i++) {
        try {
          return await spawnServe(dir, i < 3 ? port : 0, tokens);
        } catch (e) {
          if (i >= 3 || !String(e).includes("EADDRINUSE")) throw e;
          await sleep(200);
        }
      }
    };
    // Clients wait on `up` after a failure; the test swaps in a pending one just before each SIGKILL.
    let up: Promise<void> = Promise.resolve();
    let markUp: () => void = () => undefined;

    const acks = new Map<string, SendResult>();
    const failures: string[] = [];
    const fail = (m: string) => {
      if (failures.length < 50) failures.push(m);
    };
    let ackWaiter: { at: number; resolve: () => void } | undefined;
    const stats = { requests: 0, connectionErrors: 0, unavailable: 0, recoveredUnacked: 0, resentAcked: 0 };

    /** Checks one 2xx answer key by key against the first answer for each key, and records new ones. */
    const record = (req: Req, status: number, results: SendResult[], what: string) => {
      const where = `${what} c${req.client} e${req.first}..${req.first + req.events.length - 1}`;
      if (results.length !== req.events.length) {
        fail(`${where}: ${results.length} results for ${req.events.length} events`);
        return;
      }
      const allDuplicate = results.every((r) => r.duplicate === true);
      if (status !== (allDuplicate ? 200 : 201)) fail(`${where}: status ${status}, all duplicate: ${allDuplicate}`);
      for (const [i, r] of results.entries()) {
        const key = req.events[i]!.key;
        const first = acks.get(key);
        if (first !== undefined) {
          if (r.duplicate !== true || !sameResult(first, r))
            fail(`${where}: ${key} was acknowledged as ${JSON.stringify(first)}, a retry got ${JSON.stringify(r)}`);
          continue;
        }
        // A first acknowledgement marked duplicate: an earlier attempt was committed, its answer lost in a crash.
        if (r.duplicate === true) stats.recoveredUnacked++;
        acks.set(key, { seq: r.seq, entries: r.entries, steps: r.steps, failures: r.failures });
      }
      if (ackWaiter !== undefined && acks.size >= ackWaiter.at) {
        ackWaiter.resolve();
        ackWaiter = undefined;
      }
    };

    /** Posts one request once; a non-2xx answer throws ApiError, a dead server a fetch error. */
    const post = async (req: Req): Promise<{ status: number; results: SendResult[] }> => {
      let status = 0;
      const client = new WorldkernelClient({
        baseUrl: url,
        token: TOKEN,
        fetch: async (input, init) => {
          const res = await fetch(input, init);
          status = res.status;
          return res;
        },
      });
      stats.requests++;
      const value = (e: { key: string; by: number }) => ({ key: `c${req.client}`, by: e.by });
      if (req.events.length === 1) {
        const e = req.events[0]!;
        const r = await client.send(id, { schema: SCHEMA, value: value(e) }, { idempotencyKey: e.key });
        return { status, results: [r] };
      }
      const lines = req.events.map((e) => ({ schema: SCHEMA, value: value(e), idempotency_key: e.key }));
      const results = await client.sendMany(id, lines);
      return { status, results };
    };

    /** Sends `req` until a 2xx answer: after a dead server or a 503, waits for the next one and retries the same keys. */
    const deliver = async (req: Req, what: string, afterFailure: () => Promise<void>): Promise<void> => {
      for (let attempt = 1; ; attempt++) {
        try {
          const r = await post(req);
          record(req, r.status, r.results, what);
          return;
        } catch (e) {
          if (e instanceof ApiError && e.status !== 503)
            throw new Error(`${WHY}: c${req.client} e${req.first}: ${e.status} ${e.code}: ${e.message}`);
          if (e instanceof ApiError) stats.unavailable++;
          else stats.connectionErrors++;
          if (attempt >= MAX_ATTEMPTS)
            throw new Error(`${WHY}: c${req.client} e${req.first}: gave up after ${attempt} attempts: ${String(e)}`);
          await up;
          await sleep(5);
          await afterFailure();
        }
      }
    };

    const runClient = async (c: number) => {
      let last: Req | undefined;
      for (const req of plans[c]!) {
        await deliver(req, "send", async () => {
          // Acknowledged before the crash means durable: the same request again must be all duplicates, first results.
          if (last === undefined) return;
          stats.resentAcked++;
          await deliver(last, "re-send of the last acknowledged request", async () => undefined);
        });
        last = req;
      }
    };

    const chaos: string[] = [];
    const killer = async () => {
      for (const at of thresholds) {
        await new Promise<void>((resolve) => {
          if (acks.size >= at) resolve();
          else ackWaiter = { at, resolve };
        });
        up = new Promise<void>((r) => (markUp = r));
        server.child.kill("SIGKILL");
        const { signal } = await server.exited;
        chaos.push(`SIGKILL at ${acks.size} acknowledged events (threshold ${at}), exit ${signal}`);
        server = await restart();
        url = server.url;
        markUp();
      }
    };

    // Wall-clock phases, printed for the record only.
    const phases: string[] = [];
    let mark = Date.now();
    const phase = (name: string) => {
      phases.push(`${name} ${((Date.now() - mark) / 1000).toFixed(1)} s`);
      mark = Date.now();
    };
    try {
      await Promise.all([killer(), ...Array.from({ length: CLIENTS }, (_, c) => runClient(c))]);
      phase("load with kills");
      // Every request once more, all clients at once: every key already acknowledged, so all first results.
      await Promise.all(
        plans.map(async (reqs) => {
          for (const req of reqs) await deliver(req, "final retry", async () => undefined);
        }),
      );
      phase("final retry of every request");
      server.child.kill("SIGTERM");
      const { code, signal } = await server.exited;
      phase("drain");
      expect({ code, signal }, `${WHY}: wk serve drains on SIGTERM: ${server.stderr()}`).toEqual({
        code: 0,
        signal: null,
      });
    } finally {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
    }
    const why = `${WHY}; ${chaos.join("; ")}; ${JSON.stringify(stats)}`;
    expect(failures, why).toEqual([]);
    expect(chaos.length, why).toBe(KILLS);
    expect(stats.connectionErrors, `${why}: the kills landed while clients were sending`).toBeGreaterThan(0);
    expect(acks.size, why).toBe(TOTAL);

    // The journal: every acknowledged key exactly once, at its acknowledged seq, holding what was sent.
    const store = await openWorldJournalReadonly(dir);
    const seen = new Map<string, number>();
    const twice: string[] = [];
    const wrong: string[] = [];
    try {
      for await (const e of store.iterate(0)) {
        if (e.kind !== "event") continue;
        const b = decodeStored(e.body) as CborObject;
        const origin = b.origin as { kind?: string; idempotency_key?: string };
        if (origin.kind !== "ingress") continue;
        // Journaled per token (tools/serve/idempotency.ts): `token:<name>:<key as sent>`.
        const key = origin.idempotency_key?.replace(/^token:[^:]*:/, "");
        if (key === undefined) {
          wrong.push(`seq ${e.seq}: an ingress event without a key`);
          continue;
        }
        if (seen.has(key)) twice.push(`${key} at ${seen.get(key)} and ${e.seq}`);
        seen.set(key, e.seq);
        const v = b.value as { key: string; by: number | bigint };
        const client = key.slice(1, key.indexOf("/"));
        if (b.schema !== SCHEMA || v.key !== `c${client}` || Number(v.by) !== byOf.get(key))
          wrong.push(`seq ${e.seq}: ${key} holds ${b.schema as string} ${JSON.stringify({ ...v, by: Number(v.by) })}`);
        if (acks.get(key)?.seq !== e.seq)
          wrong.push(`${key} is at seq ${e.seq}, acknowledged at ${acks.get(key)?.seq}`);
      }
    } finally {
      await store.close();
    }
    expect(twice.slice(0, 20), `${why}: no key twice`).toEqual([]);
    expect(wrong.slice(0, 20), `${why}: every event where its acknowledgement said`).toEqual([]);
    expect(seen.size, `${why}: 32,000 ingress events`).toBe(TOTAL);
    expect([...acks.keys()].filter((k) => !seen.has(k)).slice(0, 20), `${why}: no acknowledged key lost`).toEqual([]);

    phase("journal read");
    const v = await verifyWorldDir(dir);
    expect(v, `${why}: verify ${JSON.stringify(v)}`).toMatchObject({ ok: true });
    const replay = await replayWorld(dir);
    expect(replay, `${why}: replay`).toMatchObject({ ok: true });
    // The state `wk state` reads (the sealed head after the SIGTERM close): each client's cell sums its events.
    const state = readSealedState(dir);
    expect(state, `${why}: the SIGTERM close sealed the head`).toBeDefined();
    expect(replay.state_root, why).toBe(state!.stateRoot);
    const cells = new Map(
      state!.cells
        .filter((c) => c.module === MODULE)
        .map((c) => [
          cellKeyText(c.key),
          state!.json(MODULE, decodeStored(c.bytes)) as { count: unknown; events: unknown },
        ]),
    );
    for (let c = 0; c < CLIENTS; c++) {
      const sum = plans[c]!.flatMap((r) => r.events).reduce((a, e) => a + e.by, 0);
      expect(cells.get(`c${c}`), `${why}: cell c${c}`).toEqual({ count: sum, events: EVENTS });
    }
    expect(cells.size, why).toBe(CLIENTS);
    phase("journal, verify, replay, state");
    process.stdout.write(`serve load: ${why}; ${phases.join(", ")}\n`);
  }, 600_000);
});
