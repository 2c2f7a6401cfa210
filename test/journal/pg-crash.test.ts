/**
 * @module Crash safety against PostgreSQL (crash.test.ts does it for SQLite): a child process
 * (pg-crash-child.ts) appends to a `PgWorldJournal` in a loop — single entries, batches with
 * receipts, blobs, automatic checkpoints — and is SIGKILLed at seeded random moments, sometimes
 * before it has even created the world. Every time, the world reopens for writing, every
 * entry and blob whose append had resolved is there, the batch in flight is all there or not at
 * all (no entry, Merkle node or receipt row of it alone), and the journal verifies. The kill
 * delays, the writer's choices and the key come from one seed (WK_TEST_SEED to reproduce, else a
 * fresh one), named in every assertion message and logged on failure.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { describe, expect, inject, it, onTestFailed } from "vitest";
import { decodeStored, toHex, type HashText } from "../../air/index.js";
import { KeyPair } from "../../kernel/crypto/keys.js";
import { isJournalError } from "../../kernel/journal/errors.js";
import { PgJournalStore } from "../../kernel/journal/pg-store.js";
import { PgWorldJournal } from "../../kernel/journal/pg-world-journal.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { below, bytesFrom, mulberry32, reproduce, testSeed } from "../seeded.js";
import { eventBody, tempDir } from "./helpers.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);

const child = fileURLToPath(new URL("./pg-crash-child.ts", import.meta.url));
const repo = fileURLToPath(new URL("../..", import.meta.url));
const ROUNDS = 16;
const SEED = testSeed();

interface Reported {
  ready: boolean;
  entries: Map<number, string>;
  blobs: string[];
  batches: { first: number; n: number; firstEvent: number }[];
}

/** Runs the writer, kills it `delayMs` after spawning (early) or after "ready", returns what it printed. */
function round(args: string[], early: boolean, delayMs: number, where: string): Promise<Reported> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ["--import", "tsx", child, ...args], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let ready = false;
    const kill = () => p.kill("SIGKILL");
    if (early) setTimeout(kill, delayMs);
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!ready && out.includes("ready\n")) {
        ready = true;
        if (!early) setTimeout(kill, delayMs);
      }
    });
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(kill, 30_000);
    p.on("error", reject);
    p.on("exit", (code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") return reject(new Error(`${where}: writer exited by itself (code ${code}): ${err}`));
      const r: Reported = { ready, entries: new Map(), blobs: [], batches: [] };
      for (const line of out.split("\n").slice(0, -1)) {
        const [tag, a, b, c] = line.split(" ");
        if (tag === "entry") r.entries.set(Number(a), b!);
        if (tag === "blob") r.blobs.push(a!);
        if (tag === "begin") r.batches.push({ first: Number(a), n: Number(b), firstEvent: Number(c) });
      }
      resolve(r);
    });
  });
}

/** Opens the world for writing once the killed writer's session is gone (polling the real lock). */
async function reopen(id: string, key: KeyPair, mirrorDir: string): Promise<PgWorldJournal | null> {
  for (let tries = 0; ; tries++) {
    try {
      return await PgWorldJournal.open(url!, id, { worldKey: key, checkpointEvery: 16, mirrorDir });
    } catch (e) {
      if (isJournalError(e, "journal.not_found")) return null;
      if (!isJournalError(e, "journal.locked") || tries > 500) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

describe.skipIf(url === null)(
  "crash safety against PostgreSQL under SIGKILL (skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)",
  () => {
    it(`${ROUNDS} rounds: every resolved append survives, the batch in flight is all or nothing, the journal verifies`, async () => {
      onTestFailed(() =>
        console.error(
          `pg-crash.test.ts ran with seed ${SEED}; reproduce with: ${reproduce(SEED, "test/journal/pg-crash.test.ts")}`,
        ),
      );
      const random = mulberry32(SEED);
      const key = new KeyPair(bytesFrom(random, 32));
      const id = `crash-${randomUUID()}`;
      const mirrorDir = tempDir("wk-pg-crash-").dir;
      const raw = new pg.Client({ connectionString: url! });
      await raw.connect();
      const promised = new Map<number, string>();
      const blobs: string[] = [];
      try {
        for (let r = 0; r < ROUNDS; r++) {
          const early = random() < 0.15;
          const delayMs = random() * (early ? 1500 : 150);
          const childSeed = below(random, 2 ** 32);
          const where = `seed ${SEED}, round ${r} (${early ? "early " : ""}kill after ${delayMs.toFixed(1)} ms, writer seed ${childSeed})`;
          const got = await round(
            [url!, id, toHex(key.secretKeyBytes()), String(childSeed), mirrorDir],
            early,
            delayMs,
            where,
          );
          for (const [s, h] of got.entries) promised.set(s, h);
          blobs.push(...got.blobs);
          const j = await reopen(id, key, mirrorDir);
          if (j === null) {
            expect(promised.size, `${where}: entries reported before the world existed`).toBe(0);
            continue;
          }
          try {
            const n = j.countSync();
            expect(await j.count(), where).toBe(n);
            for (const [seq, hash] of promised) {
              expect(toHex(j.getSync(seq)?.hash ?? new Uint8Array()), `${where}: seq ${seq}`).toBe(hash);
              expect(toHex((await j.get(seq))?.hash ?? new Uint8Array()), `${where}: seq ${seq} in the database`).toBe(
                hash,
              );
            }
            for (const h of blobs) expect(await j.hasBlob(h as HashText), `${where}: blob ${h}`).toBe(true);
            for (const b of got.batches) {
              if (n <= b.first) {
                expect(b, `${where}: only the last batch may be missing`).toBe(got.batches.at(-1));
                continue;
              }
              expect(n, `${where}: batch at ${b.first} of ${b.n} half-written`).toBeGreaterThanOrEqual(b.first + b.n);
              for (let k = 0; k < b.n && b.firstEvent >= 0; k++) {
                const e = j.getSync(b.first + k)!;
                if (e.kind === "event") expect(decodeStored(e.body), where).toEqual(eventBody(b.firstEvent + k));
                else expect([e.kind, k], where).toEqual(["effect_receipt", b.n - 1]);
              }
            }
            // No row of any table lies beyond the last entry, and every receipt row names a receipt entry.
            const beyond = await raw.query<{ n: string }>(
              `SELECT (SELECT count(*) FROM worldkernel.merkle WHERE world_id = $1 AND node >= $2::bigint * 64)
                    + (SELECT count(*) FROM worldkernel.receipts WHERE world_id = $1 AND seq >= $2)
                    + (SELECT count(*) FROM worldkernel.entries WHERE world_id = $1 AND seq >= $2) AS n`,
              [id, n],
            );
            expect(Number(beyond.rows[0]!.n), where).toBe(0);
            const receipts = await raw.query<{ all: string; named: string }>(
              `SELECT (SELECT count(*) FROM worldkernel.receipts WHERE world_id = $1) AS all,
                      (SELECT count(*) FROM worldkernel.receipts r JOIN worldkernel.entries e USING (world_id, seq)
                        WHERE r.world_id = $1 AND e.kind = 'effect_receipt') AS named`,
              [id],
            );
            const indexed = [...j.iterateReceiptIndexSync()].length;
            expect([Number(receipts.rows[0]!.all), Number(receipts.rows[0]!.named)], where).toEqual([indexed, indexed]);
            if (n > 0) {
              const db = await PgJournalStore.open(url!, id, { readonly: true });
              try {
                expect(await verifyJournal(db), where).toMatchObject({ ok: true, entries: n });
              } finally {
                await db.close();
              }
            }
          } finally {
            await j.close();
          }
        }
        expect(promised.size, `seed ${SEED}: no append ever resolved`).toBeGreaterThan(0);
      } finally {
        await raw.end();
      }
    }, 180_000);
  },
);
