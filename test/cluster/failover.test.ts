/**
 * @module Failover (issue 13): three `wk worker` processes over one PostgreSQL database own 20
 * worlds by lease while a client enqueues events; at seeded moments (counted in events, never
 * in wall-clock time) a node is SIGKILLed and restarted, or SIGSTOPped until the others have
 * taken its worlds and then resumed with a stale lease. Afterwards: every acknowledged event
 * is in its world exactly once (client retries included), no world ever had two writers (the
 * fencing tokens recorded with the entries never go back), every intent has exactly one
 * receipt, and every world verifies and replays. Real processes, real PostgreSQL, real WASM.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { decodeStored } from "../../air/index.js";
import { PgInbox } from "../../kernel/journal/pg-inbox.js";
import { PgJournalStore } from "../../kernel/journal/pg-store.js";
import { PgWorldJournal } from "../../kernel/journal/pg-world-journal.js";
import { createWorld, replayWorld, verifyWorldDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { below, mulberry32, reproduce, testSeed } from "../seeded.js";
import { emitEvent, emitterSource, TIMER_SPEC } from "../world/fixtures/emitter.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);

const ROOT = new URL("../../", import.meta.url).pathname;
const SEED = testSeed();
const WORLDS = 20;
const NODES = 3;
const EVENTS = 400;
const TTL_MS = 1500;
const CHAOS_EVERY = 40;
const HERE = "test/cluster/failover.test.ts";

interface Node {
  name: string;
  child: ChildProcess;
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
  stopped: boolean;
}

const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
});

/** Polls `cond` every 25 ms until it holds; fails naming `what` after `capMs` (a safety net, not a timing check). */
async function until(
  what: string,
  cond: () => Promise<boolean>,
  capMs = 60_000,
  state: () => Promise<string> = async () => "",
): Promise<void> {
  const deadline = Date.now() + capMs;
  while (!(await cond())) {
    if (Date.now() > deadline)
      throw new Error(`seed ${SEED}: gave up waiting for ${what} (${reproduce(SEED, HERE)})${await state()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe.skipIf(url === null)(
  `failover across three nodes (seed ${SEED}; skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)`,
  () => {
    it("loses no acknowledged event, never has two writers, and every world verifies and replays", async () => {
      const random = mulberry32(SEED);
      const base = mkdtempSync(join(tmpdir(), "wk-failover-"));
      const parent = join(base, "worlds");
      const mirrors = join(base, "mirrors");
      mkdirSync(parent);
      mkdirSync(mirrors);
      const source = await emitterSource(TIMER_SPEC);
      const ids: string[] = [];
      for (let i = 0; i < WORLDS; i++) {
        const w = await createWorld(join(parent, `w${String(i).padStart(2, "0")}`), source, {
          store: url!,
          adapters: defaultAdapters(),
          checkpointEvery: 50,
        });
        ids.push(w.id);
        await w.close();
      }

      const nodes: Node[] = [];
      let generation = 0;
      const startNode = (): Node => {
        const name = `node${generation++}`;
        const child = spawn(
          process.execPath,
          [join(ROOT, "bin/wk.js"), "worker", "--store", url!, "--worlds", parent, "--holder", name].concat([
            "--ttl",
            String(TTL_MS),
            "--poll",
            "20",
            "--batch",
            "20",
            "--mirror-dir",
            mirrors,
          ]),
          { stdio: ["ignore", "pipe", "inherit"] },
        );
        children.push(child);
        const lines: Record<string, unknown>[] = [];
        createInterface({ input: child.stdout! }).on("line", (l) =>
          lines.push(JSON.parse(l) as Record<string, unknown>),
        );
        const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
        const n = { name, child, lines, exited, stopped: false };
        nodes.push(n);
        return n;
      };
      for (let i = 0; i < NODES; i++) startNode();
      const running = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null && !n.stopped);

      const inbox = await PgInbox.open(url!);
      const db = new pg.Client({ connectionString: url! });
      await db.connect();
      const acked = new Map<string, Set<string>>(ids.map((id) => [id, new Set()]));
      const chaos: string[] = [];
      // Worlds a paused node held and, resumed, found taken (it must report each as lost).
      let paused = 0;
      // Other suites share the database and may leave events in their worlds' inboxes: count only ours.
      const pending = async () => new Map([...(await inbox.pending())].filter(([w]) => acked.has(w)));
      const event = (n: number) => JSON.stringify(emitEvent("timer.set", "ok", { deliver_at_ns: n + 1, key: null }));
      try {
        for (let sent = 0; sent < EVENTS;) {
          // Bounded: enqueue only while the nodes keep up, so the chaos lands while they work.
          await until(
            "the inbox to drain below 40",
            async () => [...(await pending()).values()].reduce((a, b) => a + b, 0) < 40,
          );
          const world = ids[below(random, ids.length)]!;
          const batch = Array.from({ length: 5 }, (_, j) => ({
            idempotencyKey: `${world}/e${sent + j}`,
            schema: "t/Emit@1",
            json: event(sent + j),
          }));
          // A client retry of something already acknowledged: the same key, the same event, appended once.
          const done = [...acked.get(world)!];
          if (done.length > 0 && random() < 0.2) {
            const k = done[below(random, done.length)]!;
            batch.push({ idempotencyKey: k, schema: "t/Emit@1", json: event(Number(k.split("/e")[1])) });
          }
          await inbox.enqueue(world, batch);
          for (const b of batch) acked.get(world)!.add(b.idempotencyKey);
          sent += 5;
          if (sent % CHAOS_EVERY !== 0 || sent >= EVENTS) continue;
          const live = running();
          if (live.length < 2) continue; // never leave no node working
          const victim = live[below(random, live.length)]!;
          if (random() < 0.5) {
            chaos.push(`SIGKILL ${victim.name} at event ${sent}`);
            victim.child.kill("SIGKILL");
            await victim.exited;
            startNode();
          } else {
            chaos.push(`SIGSTOP ${victim.name} at event ${sent}`);
            const held = async () =>
              (await inbox.leases())
                .filter((l) => l.holder === victim.name && l.expires_at_ms > 0)
                .map((l) => l.world_id);
            const before = await held();
            victim.child.kill("SIGSTOP");
            victim.stopped = true;
            // Resume it only once every world it held has been taken by another node: it comes back fenced.
            await until(`the worlds of ${victim.name} to be taken over`, async () => (await held()).length === 0);
            victim.child.kill("SIGCONT");
            victim.stopped = false;
            if (before.length > 0) {
              await until(`${victim.name} to notice it lost its leases`, async () =>
                before.every((w) => victim.lines.some((l) => l.event === "lost" && l.world === w)),
              );
              paused += before.length;
            }
          }
        }
        // On a loaded CI machine the drain can take minutes; if it never ends, say what is stuck where.
        await until(
          "every inbox to drain",
          async () => (await pending()).size === 0,
          200_000,
          async () => {
            const stuck = [...(await pending())];
            const leases = await inbox.leases();
            const live = running().map((n) => n.name);
            const last = nodes.map((n) => `${n.name}: ${JSON.stringify(n.lines.slice(-3))}`);
            return `\npending ${JSON.stringify(stuck)}\nleases ${JSON.stringify(leases.filter((l) => stuck.some(([w]) => w === l.world_id)))}\nrunning ${live.join(", ")}\n${last.join("\n")}`;
          },
        );
        // Settled: every world held by a running node (a world last held by a killed node waits out its TTL).
        await until("every world to be held by a running node", async () => {
          const live = new Set(running().map((n) => n.name));
          const leases = await inbox.leases();
          return ids.every((id) =>
            leases.some((l) => l.world_id === id && live.has(l.holder) && l.expires_at_ms > Date.now()),
          );
        });
        for (const n of nodes) if (n.child.exitCode === null && n.child.signalCode === null) n.child.kill("SIGTERM");
        for (const n of nodes) await n.exited;
        for (const n of nodes.filter((x) => x.child.signalCode !== "SIGKILL"))
          expect(n.child.exitCode, `seed ${SEED}: ${n.name} drains and exits 0`).toBe(0);
      } finally {
        await inbox.close();
      }

      const why = `seed ${SEED}, chaos: ${chaos.join("; ")} (${reproduce(SEED, HERE)})`;
      expect(chaos.length, why).toBeGreaterThan(0);
      let takeovers = 0;
      for (const [i, id] of ids.entries()) {
        const dir = join(parent, `w${String(i).padStart(2, "0")}`);
        // No two writers: the fencing token recorded with each entry never goes back.
        const fences = (
          await db.query<{ fence: string | null }>(
            "SELECT fence FROM worldkernel.entries WHERE world_id = $1 ORDER BY seq",
            [id],
          )
        ).rows.map((r) => Number(r.fence));
        takeovers += new Set(fences).size - 1;
        expect(
          fences.every((f, j) => f > 0 && (j === 0 || f >= fences[j - 1]!)),
          `${id}: fences ${why}`,
        ).toBe(true);
        const store = await PgJournalStore.open(url!, id, { readonly: true });
        const keys: string[] = [];
        const intents = new Map<string, number>();
        try {
          for await (const e of store.iterate(0)) {
            const b = decodeStored(e.body) as { origin?: { idempotency_key?: string }; intent_id?: string };
            if (e.kind === "event" && b.origin?.idempotency_key !== undefined) keys.push(b.origin.idempotency_key);
            if (e.kind === "effect_intent") intents.set(b.intent_id!, intents.get(b.intent_id!) ?? 0);
            if (e.kind === "effect_receipt") intents.set(b.intent_id!, (intents.get(b.intent_id!) ?? 0) + 1);
          }
        } finally {
          await store.close();
        }
        expect(keys.length, `${id}: no event twice, ${why}`).toBe(new Set(keys).size);
        expect(new Set(keys), `${id}: every acknowledged event, ${why}`).toEqual(acked.get(id));
        expect(
          [...intents.values()].filter((n) => n !== 1),
          `${id}: one receipt per intent, ${why}`,
        ).toEqual([]);
        const v = await verifyWorldDir(dir);
        expect(v, `${id}: verify ${JSON.stringify(v)}, ${why}`).toMatchObject({ ok: true });
        expect(await replayWorld(dir), `${id}: replay, ${why}`).toMatchObject({ ok: true });
      }
      await db.end();
      // Mirrors of killed nodes are swept by the next open in their directory; closed ones are gone.
      await (await PgWorldJournal.open(url!, ids[0]!, { readonly: true, mirrorDir: mirrors })).close();
      expect(readdirSync(mirrors), why).toEqual([]);
      // The chaos moved worlds between writers: each move is a new token in some world's journal.
      expect(takeovers, why).toBeGreaterThan(0);
      process.stdout.write(
        `failover: ${why}; ${paused} world(s) taken from paused nodes; ${takeovers} writer change(s) in the journals\n`,
      );
    }, 400_000);
  },
);
