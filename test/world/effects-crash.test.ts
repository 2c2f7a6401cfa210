/**
 * @module Crash between intent and receipt: a child process running a world is SIGKILLed
 * by the HTTP server itself while a request is in flight (before or just after it answers),
 * over many rounds. After every restart, each allowed intent ends with exactly one receipt,
 * and the server saw exactly one idempotency key per intent — re-dispatch reused the key.
 * The server counts every request it receives: an intent reaches it at most once per
 * process that held it pending, and never again once its receipt is in the journal.
 */
import { spawn } from "node:child_process";
import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored, type CborObject } from "../../air/index.js";
import { SqliteJournalStore, worldPaths } from "../../kernel/journal/index.js";
import { World, createWorld, replayWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";

const FETCHER = new URL("../fixtures/worlds/fetcher", import.meta.url).pathname;
const CHILD = new URL("./fixtures/effect-child.ts", import.meta.url).pathname;
const ROUNDS = 24;
// Kill timings come from a seeded generator (WK_TEST_SEED to reproduce); the seed is in the test name.
const SEED = Number(process.env.WK_TEST_SEED ?? 20261201);
function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(SEED);

/** Every request the server received for one idempotency key, by round (`ROUNDS` = the final restart). */
interface Seen {
  hits: number;
  rounds: number[];
}

/** The intents in the journal, and those of them that have a receipt. */
function journalIntents(dir: string): { intents: string[]; receipts: Map<string, number> } {
  const store = SqliteJournalStore.open(worldPaths(dir).journal, { readonly: true });
  try {
    const intents: string[] = [];
    const receipts = new Map<string, number>();
    for (let seq = 0; seq < store.countSync(); seq++) {
      const e = store.getSync(seq)!;
      if (e.kind !== "effect_intent" && e.kind !== "effect_receipt") continue;
      const id = (decodeStored(e.body) as CborObject).intent_id as string;
      if (e.kind === "effect_intent") intents.push(id);
      else receipts.set(id, (receipts.get(id) ?? 0) + 1);
    }
    return { intents, receipts };
  } finally {
    store.closeSync();
  }
}

describe("effects survive SIGKILL between intent and receipt", () => {
  it(`${ROUNDS} rounds (seed ${SEED}): every intent has exactly one receipt and one idempotency key`, async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "wk-crash-")), "w");
    const seen = new Map<string, Seen>();
    // Per intent: the round whose process created it, and the round after which its receipt was in the journal.
    const created = new Map<string, number>();
    const settled = new Map<string, number>();
    const afterReceipt: string[] = [];
    let round = 0;
    let victim: ReturnType<typeof spawn> | undefined;
    let mode: "before" | "after" | "none" = "none";
    const server: Server = createServer((req, res) => {
      const key = String(req.headers["idempotency-key"] ?? "");
      const s = seen.get(key) ?? { hits: 0, rounds: [] };
      s.hits++;
      s.rounds.push(round);
      seen.set(key, s);
      // A dispatch of an intent whose receipt an earlier process had already journaled.
      if (settled.has(key))
        afterReceipt.push(`${key} in round ${round} (receipt journaled in round ${settled.get(key)})`);
      const kill = () => victim?.kill("SIGKILL");
      if (mode === "before") {
        kill();
        mode = "none";
      }
      res.end(`ok ${req.url}`);
      if (mode === "after") {
        setTimeout(kill, Math.floor(random() * 5));
        mode = "none";
      }
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const w = await createWorld(dir, sourceFromAirDir(FETCHER), {
      adapters: defaultAdapters(),
    });
    await w.close();

    // After each process: which intents it created and which receipts it left in the journal.
    const takeStock = () => {
      const j = journalIntents(dir);
      for (const id of j.intents) if (!created.has(id)) created.set(id, round);
      for (const id of j.receipts.keys()) if (!settled.has(id)) settled.set(id, round);
    };

    try {
      for (; round < ROUNDS; round++) {
        mode = round % 3 === 2 ? "none" : round % 2 === 0 ? "before" : "after";
        const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, url, "3", `r${round}`], {
          stdio: ["ignore", "pipe", "pipe"],
        });
        victim = child;
        let err = "";
        child.stderr!.on("data", (d) => (err += String(d)));
        const code = await new Promise<number | null>((r) => child.on("exit", (c) => r(c)));
        if (code !== null && code !== 0) throw new Error(`child failed in round ${round}: ${err}`);
        takeStock();
      }
      // The last restart: resume whatever the final kill left pending.
      const final = await World.open(dir, { adapters: defaultAdapters() });
      await final.runUntilIdle();
      expect(final.state.pending.size).toBe(0);
      const root = final.stateRefs().state_root;
      await final.close();
      takeStock();

      const j = journalIntents(dir);
      const intents = new Set(j.intents);
      expect(intents.size).toBeGreaterThanOrEqual(ROUNDS);
      for (const id of intents) expect(j.receipts.get(id), `receipts of ${id}`).toBe(1);
      // Every key the server saw is an intent id, every intent reached the server.
      expect(new Set(seen.keys())).toEqual(intents);
      // No intent was dispatched again once a process had journaled its receipt ...
      expect(afterReceipt, `seed ${SEED}: dispatched after their receipt`).toEqual([]);
      // ... nor more than once by any process that held it pending: the one that created it, and each restart until its receipt.
      for (const [key, s] of seen) {
        const holders = settled.get(key)! - created.get(key)! + 1;
        expect(
          s.hits,
          `seed ${SEED}: requests for ${key} (rounds ${s.rounds.join(", ")}; created in round ${created.get(key)}, receipt in round ${settled.get(key)})`,
        ).toBeLessThanOrEqual(holders);
      }
      const retried = [...seen.values()].filter((s) => s.hits > 1).length;
      expect(retried, `seed ${SEED}`).toBeGreaterThan(0); // the kills really landed between request and receipt

      const replay = await replayWorld(dir);
      expect(replay).toMatchObject({ ok: true, state_root: root });
    } finally {
      server.close();
    }
  }, 240_000);
});
