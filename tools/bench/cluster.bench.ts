/**
 * @module Many worlds, many nodes (issue 13): `wk worker` processes (bin/wk.js over a freshly
 * built dist/) sharing out the 100 counter worlds of a PostgreSQL database, on a private,
 * durable cluster (fsync on; test/pg/cluster.ts).
 *
 * Aggregate throughput on K = 1, 2, 3 nodes over 100 worlds, with the same worlds and work for
 * every K (fresh events with unique idempotency keys, 50 per world per round), timed two ways
 * and both printed, nothing subtracted:
 * - cold: 5,000 events are in the inboxes before the nodes start; from spawning the K processes
 *   until every inbox is empty — Node start-up, taking the leases (each world opened and its
 *   mirror loaded), the first step's module instantiation and the journaling.
 * - warm: the same nodes, once they hold a balanced share, are SIGSTOPped while the next 5,000
 *   events are enqueued, then SIGCONTed: from SIGCONT until every inbox is empty; four such
 *   rounds per K, summed, interleaved across K (1, 2, 3, 3, 2, 1, ...) so drift falls on all.
 * Each K has its own database of 100 worlds (nodes share out the worlds of their database), so
 * every group stays up, paused, while the others run.
 * K = 1 is the baseline of K = 2 and 3 (the scaling ratio); K = 1 is itself beside the same
 * kind of events sent in process with `World.sendMany` to the same worlds, opened one at a time
 * (the format's own ceiling on one process: the cold figure beside open + sendMany, the warm
 * one beside sendMany alone), measured once before the nodes' rounds and once after.
 * Extras: cores busy machine-wide and each node's CPU over the warm windows and over a second
 * of idling (/proc), and the connections the nodes opened for leases they were refused
 * (pg_stat_database.sessions). WK_BENCH_CLUSTER_TRACE=<file> logs every node's stdout line.
 *
 * Lease takeover: two nodes with --ttl 2000 over 10 worlds; once both hold five, one is
 * SIGKILLed, and the time from the kill until the survivor has acquired every world the dead
 * node held is set beside the TTL. Three kills (the victim restarted in between), median.
 *
 * One node holds one PostgreSQL connection per world it holds: 100 worlds on one node plus its
 * inbox connection (and the bench's own) would exceed the cluster's max_connections=100, so the
 * bench restarts its private server with more (see raiseMaxConnections).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { PgInbox, type InboxEvent } from "../../kernel/journal/pg-inbox.js";
import { packageRoot } from "../../kernel/packages.js";
import { createWorld, World } from "../../kernel/world/index.js";
import {
  clusterUnavailable,
  databaseUrl,
  findPgBinaries,
  startCluster,
  type PgCluster,
} from "../../test/pg/cluster.js";
import { counterSource, repoWasm } from "../../test/world/fixtures/counter-source.js";
import type { Bench, BenchResult, Rate } from "./harness.js";

const ROOT = packageRoot();
const BIN = join(ROOT, "bin/wk.js");
const WORLDS = 100;
const EVENTS = 50;
const NODES = [1, 2, 3];
/** Throughput nodes: a TTL far above the time a group sits paused while the others run, so no lease moves meanwhile. */
const THROUGHPUT_TTL_MS = 600_000;
const TAKEOVER_WORLDS = 10;
const TAKEOVER_TTL_MS = 2000;
const KILLS = 3;
/** Warm rounds per K (each 50 events per world), interleaved across K and summed: one round is about a second, too short alone on this machine. */
const WARM_ROUNDS = 4;
const POLL_MS = 20;
const MAX_CONNECTIONS = 400;
/** A safety net against a hung run, never a timing check. */
const CAP_MS = 120_000;

const EVENT_JSON = JSON.stringify({ key: "a", by: 1 });
const eventsOf = (round: string, world: number): InboxEvent[] =>
  Array.from({ length: EVENTS }, (_, j) => ({
    idempotencyKey: `${round}/w${world}/e${j}`,
    schema: "demo/CounterEvent@1",
    json: EVENT_JSON,
  }));

/**
 * Restarts the private server with `max_connections = n` (command-line settings outrank
 * ALTER SYSTEM, so it is a restart with the options startCluster gave, plus this one).
 */
function raiseMaxConnections(cluster: PgCluster, n: number): void {
  const bin = findPgBinaries()!;
  const base = dirname(cluster.dataDir);
  const settings = [
    "listen_addresses=127.0.0.1",
    `port=${cluster.port}`,
    `unix_socket_directories=${base}`,
    `max_connections=${n}`,
  ];
  const args = ["-D", cluster.dataDir, "-l", join(base, "server.log"), "-w", "-t", "60"];
  args.push("-o", settings.map((s) => `-c ${s}`).join(" "), "restart");
  const root = process.getuid?.() === 0;
  const r = spawnSync(root ? "runuser" : bin.pg_ctl, root ? ["-u", "postgres", "--", bin.pg_ctl, ...args] : args, {
    cwd: base,
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C" },
  });
  if (r.status !== 0) throw new Error(`pg_ctl restart failed: ${r.stdout}${r.stderr}`);
}

/** One `wk worker` process and what its stdout said, each line stamped on arrival. */
interface Node {
  name: string;
  child: ChildProcess;
  held: Set<string>;
  /** When each world was last acquired (performance.now() at the line's arrival). */
  acquiredAt: Map<string, number>;
  startedAt: number | undefined;
  journaled: number;
  duplicates: number;
  moves: number;
  acquiredCount: number;
  lastMoveAt: number;
  errors: string[];
  stderr: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** WK_BENCH_CLUSTER_TRACE=<file>: every node's stdout line, stamped with ms since the bench began. */
const TRACE = process.env.WK_BENCH_CLUSTER_TRACE;
const T0 = performance.now();

const children = new Set<ChildProcess>();
const killAll = (): void => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
};

function startNode(name: string, url: string, parent: string, mirrors: string, ttlMs: number): Node {
  const args = ["worker", "--store", url, "--worlds", parent, "--holder", name, "--ttl", String(ttlMs)];
  args.push("--poll", String(POLL_MS), "--batch", "100", "--mirror-dir", mirrors);
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  children.add(child);
  const n: Node = {
    name,
    child,
    held: new Set(),
    acquiredAt: new Map(),
    startedAt: undefined,
    journaled: 0,
    duplicates: 0,
    moves: 0,
    acquiredCount: 0,
    lastMoveAt: 0,
    errors: [],
    stderr: "",
    exited: new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal }))),
  };
  child.stderr!.on("data", (d: Buffer) => (n.stderr = (n.stderr + d.toString()).slice(-4000)));
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const at = performance.now();
    if (TRACE) appendFileSync(TRACE, `${(at - T0).toFixed(1)} ${line}\n`);
    const e = JSON.parse(line) as { event: string; world?: string; events?: number; duplicates?: number };
    if (e.event === "started") n.startedAt = at;
    else if (e.event === "acquired") {
      n.held.add(e.world!);
      n.acquiredAt.set(e.world!, at);
      n.moves++;
      n.acquiredCount++;
      n.lastMoveAt = at;
    } else if (e.event === "released" || e.event === "lost") {
      n.held.delete(e.world!);
      n.moves++;
      n.lastMoveAt = at;
    } else if (e.event === "journaled") {
      n.journaled += e.events ?? 0;
      n.duplicates += e.duplicates ?? 0;
    } else if (e.event === "error" || e.event === "refused") n.errors.push(line);
  });
  return n;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 10 ms; fails naming `what` (and the nodes' complaints) after CAP_MS. */
async function until(what: string, cond: () => boolean | Promise<boolean>, nodes: Node[] = []): Promise<void> {
  const deadline = performance.now() + CAP_MS;
  while (!(await cond())) {
    if (performance.now() > deadline) {
      const why = nodes.map((n) => `${n.name}: ${n.errors.slice(-3).join(" ")} ${n.stderr.slice(-500)}`).join("\n");
      throw new Error(`cluster.bench: gave up waiting for ${what}\n${why}`);
    }
    await sleep(10);
  }
}

const alive = (n: Node) => n.child.exitCode === null && n.child.signalCode === null;

/** Every world held by exactly one node and no node above its fair share. */
function balanced(nodes: Node[], worlds: number): boolean {
  const share = Math.ceil(worlds / nodes.length);
  const all = nodes.flatMap((n) => [...n.held]);
  return all.length === worlds && new Set(all).size === worlds && nodes.every((n) => n.held.size <= share);
}

/** SIGTERM (drain) and wait; a node must leave with exit 0. */
async function drainAndStop(nodes: Node[]): Promise<void> {
  for (const n of nodes) if (alive(n)) n.child.kill("SIGTERM");
  for (const n of nodes) {
    const { code, signal } = await n.exited;
    if (signal !== "SIGKILL" && code !== 0)
      throw new Error(`cluster.bench: ${n.name} exited ${code ?? signal} on SIGTERM: ${n.stderr.slice(-1000)}`);
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat), for how much of the 2 cores a window used. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    const total = f.reduce((a, b) => a + b, 0);
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** A process's user + system CPU in seconds (/proc/<pid>/stat), undefined where unreadable. */
function cpuSeconds(pid: number | undefined): number | undefined {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/** K nodes over their own database of 100 worlds (a database each: nodes share worlds by database). */
interface Group {
  k: number;
  url: string;
  parent: string;
  ids: string[];
  inbox: PgInbox;
  nodes: Node[];
  sessionsBefore: number | undefined;
  coldMs: number;
  startupMs: number;
  /** Leases acquired, and released, from spawn until the cold inboxes were empty. */
  coldAcquired: number;
  coldReleased: number;
  /** The nodes' CPU over a second of idling, balanced, with empty inboxes. */
  idleCpu: string;
  warmMs: number;
  warmRounds: number;
  warmBusy: number;
  warmTotal: number;
  warmCpu: (number | undefined)[];
  warmJournaled: number[];
  warmMoves: number;
  /** Connections beyond one per lease taken and one inbox per node, over the group's life: refused lease attempts. */
  refusedOpens: number | string;
}

const pendingTotal = async (g: Group) => [...(await g.inbox.pending()).values()].reduce((a, b) => a + b, 0);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const cpuOf = (nodes: Node[]) => nodes.map((n) => cpuSeconds(n.child.pid));
const cpuText = (xs: (number | undefined)[]) => xs.map((c) => (c === undefined ? "n/a" : c.toFixed(2))).join("/");
const cpuSince = (before: (number | undefined)[], nodes: Node[]) =>
  cpuOf(nodes).map((c, i) => (c === undefined || before[i] === undefined ? undefined : c - before[i]!));

/** Cold: 50 events per world enqueued, then the K nodes spawned; until every inbox is empty. Leaves the nodes balanced and SIGSTOPped. */
async function coldRound(
  g: Group,
  mirrors: string,
  sessions: (url: string) => Promise<number | undefined>,
): Promise<void> {
  for (const [i, id] of g.ids.entries()) await g.inbox.enqueue(id, eventsOf(`k${g.k}-cold`, i));
  if ((await pendingTotal(g)) !== g.ids.length * EVENTS)
    throw new Error("cluster.bench: the cold events did not enqueue");
  g.sessionsBefore = await sessions(g.url);
  const t0 = performance.now();
  for (let i = 0; i < g.k; i++)
    g.nodes.push(startNode(`k${g.k}-node${i}`, g.url, g.parent, mirrors, THROUGHPUT_TTL_MS));
  await until(`${g.k} node(s) to drain the cold inboxes`, async () => (await pendingTotal(g)) === 0, g.nodes);
  g.coldMs = performance.now() - t0;
  g.coldAcquired = sum(g.nodes.map((n) => n.acquiredCount));
  g.coldReleased = sum(g.nodes.map((n) => n.moves)) - g.coldAcquired;
  g.startupMs = Math.max(...g.nodes.map((n) => n.startedAt ?? NaN)) - t0;
  // The last batch's "journaled" line may trail its inbox delete: count it in the cold round.
  const coldEvents = g.ids.length * EVENTS;
  await until("the cold journaled lines", () => sum(g.nodes.map((n) => n.journaled)) >= coldEvents, g.nodes);
  await until(`${g.k} node(s) to balance the leases`, () => balanced(g.nodes, g.ids.length), g.nodes);
  const cpu = cpuOf(g.nodes);
  await sleep(1000);
  g.idleCpu = cpuText(cpuSince(cpu, g.nodes));
  for (const n of g.nodes) n.child.kill("SIGSTOP");
  g.warmMoves = sum(g.nodes.map((n) => n.moves));
  g.warmJournaled = g.nodes.map((n) => -n.journaled);
  g.warmCpu = g.nodes.map(() => 0);
}

/** Warm: the paused nodes' inboxes get 50 events per world, then SIGCONT; until every inbox is empty, then SIGSTOP again. */
async function warmRound(g: Group, round: number): Promise<void> {
  for (const [i, id] of g.ids.entries()) await g.inbox.enqueue(id, eventsOf(`k${g.k}-warm${round}`, i));
  const [cpu, ticks] = [cpuOf(g.nodes), machineTicks()];
  const t1 = performance.now();
  for (const n of g.nodes) n.child.kill("SIGCONT");
  await until(`${g.k} node(s) to drain the warm inboxes`, async () => (await pendingTotal(g)) === 0, g.nodes);
  g.warmMs += performance.now() - t1;
  const after = machineTicks();
  for (const n of g.nodes) n.child.kill("SIGSTOP");
  if (ticks !== undefined && after !== undefined) {
    g.warmBusy += after.busy - ticks.busy;
    g.warmTotal += after.total - ticks.total;
  }
  cpuSince(cpu, g.nodes).forEach((c, i) => (g.warmCpu[i] = c === undefined ? undefined : g.warmCpu[i]! + c));
  g.warmRounds++;
}

/** Resumes, drains (SIGTERM, exit 0) and checks that every event was journaled once. */
async function finish(g: Group, sessions: (url: string) => Promise<number | undefined>): Promise<void> {
  for (const n of g.nodes) n.child.kill("SIGCONT");
  const expected = (1 + g.warmRounds) * g.ids.length * EVENTS;
  await until("the warm journaled lines", () => sum(g.nodes.map((n) => n.journaled)) >= expected, g.nodes);
  g.warmJournaled = g.nodes.map((n, i) => n.journaled + g.warmJournaled[i]!);
  g.warmMoves = sum(g.nodes.map((n) => n.moves)) - g.warmMoves;
  await drainAndStop(g.nodes);
  const journaled = sum(g.nodes.map((n) => n.journaled));
  const duplicates = sum(g.nodes.map((n) => n.duplicates));
  const errors = g.nodes.flatMap((n) => n.errors);
  if (journaled !== expected || duplicates !== 0 || errors.length > 0)
    throw new Error(
      `cluster.bench: ${g.k} node(s) journaled ${journaled} events (${duplicates} duplicates), expected ${expected}: ${errors.slice(0, 3).join(" ")}`,
    );
  // Ended sessions are all counted by now; give the statistics collector its flush interval.
  await sleep(1100);
  const after = await sessions(g.url);
  const acquired = sum(g.nodes.map((n) => n.acquiredCount));
  g.refusedOpens =
    after === undefined || g.sessionsBefore === undefined ? "n/a" : after - g.sessionsBefore - acquired - g.k;
}

/** The same events in process: each world opened (no lease), sent its events with one sendMany, closed. */
async function inProcess(
  parent: string,
  mirrors: string,
  ids: readonly string[],
  round: string,
): Promise<{ openMs: number; sendMs: number; closeMs: number }> {
  let [openMs, sendMs, closeMs] = [0, 0, 0];
  for (let i = 0; i < ids.length; i++) {
    const t0 = performance.now();
    const w = await World.open(join(parent, dirName(i)), { mirrorDir: mirrors });
    const t1 = performance.now();
    await w.sendMany(eventsOf(round, i));
    const t2 = performance.now();
    await w.close();
    const t3 = performance.now();
    openMs += t1 - t0;
    sendMs += t2 - t1;
    closeMs += t3 - t2;
  }
  return { openMs, sendMs, closeMs };
}

const dirName = (i: number) => `w${String(i).padStart(3, "0")}`;

/** Creates `n` counter worlds under `parent` in the database at `url`; returns their ids. */
async function createWorlds(url: string, parent: string, n: number): Promise<string[]> {
  mkdirSync(parent, { recursive: true });
  const source = counterSource(repoWasm("modules/assemblyscript/counter/counter.wasm"));
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = await createWorld(join(parent, dirName(i)), source, { store: url, checkpointEvery: 1000 });
    ids.push(w.id);
    await w.close();
  }
  return ids;
}

const rate = (label: string, events: number, ms: number): Rate => ({ label, opsPerSec: (events / ms) * 1000 });
const s = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

async function takeover(url: string, parent: string, mirrors: string): Promise<BenchResult> {
  await createWorlds(url, parent, TAKEOVER_WORLDS);
  const survivor = startNode("takeover-b", url, parent, mirrors, TAKEOVER_TTL_MS);
  const nodes = [survivor];
  const took: number[] = [];
  const first: number[] = [];
  try {
    for (let kill = 0; kill < KILLS; kill++) {
      const victim = startNode(`takeover-a${kill}`, url, parent, mirrors, TAKEOVER_TTL_MS);
      nodes.push(victim);
      const pair = [survivor, victim];
      // Settled: five each and no lease moved for 200 ms, so the kill lands on a quiet pair.
      await until(
        "both takeover nodes to hold five worlds",
        () => balanced(pair, TAKEOVER_WORLDS) && performance.now() - Math.max(...pair.map((n) => n.lastMoveAt)) > 200,
        pair,
      );
      const lost = [...victim.held];
      const at = performance.now();
      victim.child.kill("SIGKILL");
      await until(
        "the survivor to acquire the killed node's worlds",
        () => lost.every((w) => (survivor.acquiredAt.get(w) ?? 0) > at),
        pair,
      );
      const times = lost.map((w) => survivor.acquiredAt.get(w)! - at);
      took.push(Math.max(...times));
      first.push(Math.min(...times));
      await victim.exited;
    }
    await drainAndStop([survivor]);
  } finally {
    for (const n of nodes) if (alive(n)) n.child.kill("SIGKILL");
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const m = median(took);
  return {
    name: `cluster: lease takeover after SIGKILL, ${TAKEOVER_WORLDS} worlds on 2 nodes, --ttl ${TAKEOVER_TTL_MS} (median of ${KILLS}; rates are 10⁶/ms, so ratio = TTL / takeover)`,
    figure: { label: `kill → survivor holds every world of the dead node, ${Math.round(m)} ms`, opsPerSec: 1e6 / m },
    baseline: { label: `lease TTL, ${TAKEOVER_TTL_MS} ms`, opsPerSec: 1e6 / TAKEOVER_TTL_MS },
    extra: {
      takeover_ms: Math.round(m),
      takeover_over_ttl: (m / TAKEOVER_TTL_MS).toFixed(2),
      all_ms: took.map((t) => Math.round(t)).join("/"),
      first_world_ms: first.map((t) => Math.round(t)).join("/"),
    },
  };
}

const clusterBench: Bench = {
  name: "cluster: many worlds, many nodes",
  async run(): Promise<BenchResult[]> {
    const why = clusterUnavailable();
    if (why !== null) throw new Error(`cluster.bench needs a PostgreSQL server: ${why}`);
    // The nodes run the package's real entry point: bin/wk.js over dist/ (incremental tsc, a few seconds).
    const built = spawnSync(process.execPath, [join(ROOT, "tools/build/dist.mjs")], { encoding: "utf8" });
    if (built.status !== 0) throw new Error(`building dist/ failed:\n${built.stdout}${built.stderr}`);
    const cluster = await startCluster({ durable: true });
    const base = mkdtempSync(join(tmpdir(), "wk-bench-cluster-"));
    process.once("exit", killAll);
    const out: BenchResult[] = [];
    const admin = new pg.Client({ connectionString: cluster.url });
    admin.on("error", () => undefined);
    try {
      raiseMaxConnections(cluster, MAX_CONNECTIONS);
      await admin.connect();
      for (const k of NODES) await admin.query(`CREATE DATABASE wk_bench_k${k}`);
      await admin.query("CREATE DATABASE wk_bench_takeover");
      // Sessions ever opened to a database (pg_stat_database, PostgreSQL 14+), read on this one connection.
      const sessions = async (url: string): Promise<number | undefined> => {
        try {
          const r = await admin.query<{ n: string }>({
            text: "SELECT sessions AS n FROM pg_stat_database WHERE datname = $1",
            values: [new URL(url).pathname.slice(1)],
          });
          return Number(r.rows[0]!.n);
        } catch {
          return undefined;
        }
      };
      const mirrors = join(base, "mirrors");
      mkdirSync(mirrors);
      // A database of 100 worlds per K (created side by side), so every group can stay up, paused, between its rounds.
      const groups: Group[] = await Promise.all(
        NODES.map(async (k) => {
          const url = databaseUrl(cluster.url, `wk_bench_k${k}`);
          const parent = join(base, `worlds-k${k}`);
          const ids = await createWorlds(url, parent, WORLDS);
          return {
            k,
            url,
            parent,
            ids,
            inbox: await PgInbox.open(url),
            nodes: [],
            sessionsBefore: undefined,
            coldMs: 0,
            startupMs: 0,
            coldAcquired: 0,
            coldReleased: 0,
            idleCpu: "n/a",
            warmMs: 0,
            warmRounds: 0,
            warmBusy: 0,
            warmTotal: 0,
            warmCpu: [],
            warmJournaled: [],
            warmMoves: 0,
            refusedOpens: "n/a",
          };
        }),
      );
      const events = WORLDS * EVENTS;
      const warmEvents = events * WARM_ROUNDS;
      const ceilingEvents = events * 2;
      // The in-process ceiling (on the K = 1 group's worlds, while no node holds them) runs before and
      // after the nodes' rounds, so drift over the run falls on both sides.
      const ceiling = { openMs: 0, sendMs: 0, closeMs: 0 };
      const addCeiling = async (round: string) => {
        const c = await inProcess(groups[0]!.parent, mirrors, groups[0]!.ids, round);
        for (const key of ["openMs", "sendMs", "closeMs"] as const) ceiling[key] += c[key];
      };
      try {
        await addCeiling("in-process-0");
        for (const g of groups) await coldRound(g, mirrors, sessions);
        // Warm rounds interleaved across K (1, 2, 3, then 3, 2, 1, ...): each group runs alone, the others paused.
        for (let r = 0; r < WARM_ROUNDS; r++)
          for (const g of r % 2 === 0 ? groups : [...groups].reverse()) await warmRound(g, r);
        for (const g of groups) await finish(g, sessions);
        await addCeiling("in-process-1");
      } finally {
        for (const g of groups) await g.inbox.close().catch(() => undefined);
      }
      const what = `${WORLDS} worlds × ${EVENTS} events`;
      const warmWhat = `${WORLDS} worlds × ${EVENTS} events × ${WARM_ROUNDS} rounds`;
      const [one, ...more] = groups as [Group, ...Group[]];
      const extra = (g: Group) => ({
        warm_s: s(g.warmMs),
        cores_busy: g.warmTotal > 0 ? ((cpus().length * g.warmBusy) / g.warmTotal).toFixed(2) : "n/a",
        worker_cpu_s: cpuText(g.warmCpu),
        events_per_node: g.warmJournaled.join("/"),
        lease_moves: g.warmMoves,
      });
      out.push({
        name: `cluster: ${warmWhat}, 1 node, warm (worlds held; SIGCONT → every inbox empty, summed)`,
        figure: rate("wk worker ×1, events/s", warmEvents, one.warmMs),
        baseline: rate(
          "World.sendMany in process, same events, one world at a time (sendMany alone)",
          ceilingEvents,
          ceiling.sendMs,
        ),
        extra: {
          ...extra(one),
          sendMany_s: `${s(ceiling.sendMs)} for ${ceilingEvents}`,
          idle_worker_cpu_s_per_s: one.idleCpu,
        },
      });
      for (const g of more)
        out.push({
          name: `cluster: ${warmWhat}, ${g.k} nodes, warm — scaling over 1 node (rounds interleaved)`,
          figure: rate(`wk worker ×${g.k}, events/s`, warmEvents, g.warmMs),
          baseline: rate("wk worker ×1", warmEvents, one.warmMs),
          extra: { ...extra(g), idle_worker_cpu_s_per_s: g.idleCpu },
        });
      out.push({
        name: `cluster: ${what}, 1 node, cold (spawn → every inbox empty: start-up, leases, mirrors, journaling)`,
        figure: rate("wk worker ×1, events/s", events, one.coldMs),
        baseline: rate(
          "World.open + sendMany in process, one world at a time (close not counted)",
          ceilingEvents,
          ceiling.openMs + ceiling.sendMs,
        ),
        extra: {
          cold_s: s(one.coldMs),
          leases_acquired: one.coldAcquired,
          refused_lease_opens: one.refusedOpens,
          node_startup_s: s(one.startupMs),
          in_process: `open ${s(ceiling.openMs)} + sendMany ${s(ceiling.sendMs)} (+ close ${s(ceiling.closeMs)}) for ${ceilingEvents}`,
        },
      });
      for (const g of more)
        out.push({
          name: `cluster: ${what}, ${g.k} nodes, cold — scaling over 1 node`,
          figure: rate(`wk worker ×${g.k}, events/s`, events, g.coldMs),
          baseline: rate("wk worker ×1", events, one.coldMs),
          extra: {
            cold_s: s(g.coldMs),
            node_startup_s: s(g.startupMs),
            leases_acquired: g.coldAcquired,
            leases_released: g.coldReleased,
            refused_lease_opens: g.refusedOpens,
          },
        });
      out.push(
        await takeover(databaseUrl(cluster.url, "wk_bench_takeover"), join(base, "takeover"), join(base, "mirrors")),
      );
    } finally {
      await admin.end().catch(() => undefined);
      killAll();
      process.removeListener("exit", killAll);
      cluster.stop();
      rmSync(base, { recursive: true, force: true });
    }
    return out;
  },
};

export const benchmarks: Bench[] = [clusterBench];
