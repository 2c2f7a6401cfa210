/**
 * @module Crash safety: a child process appends in a loop (single entries, batches, blobs)
 * and is SIGKILLed at random moments, 50 rounds over two worlds — sometimes before it has
 * even created the file. Every time the journal reopens for writing (no stale lock),
 * verifies, and holds every entry and blob whose append had returned.
 * The kill delays, the writer's choices and the keys come from one seed (WK_TEST_SEED to
 * reproduce, else a fresh one), named in every assertion message and logged on failure.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { toHex, type HashText } from "../../air/index.js";
import { KeyPair } from "../../kernel/crypto/keys.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { below, bytesFrom, mulberry32, reproduce, testSeed } from "../seeded.js";
import { tempDir } from "./helpers.js";

const childSource = fileURLToPath(new URL("./crash-child.ts", import.meta.url));
const repo = fileURLToPath(new URL("../..", import.meta.url));
const ROUNDS_PER_WORLD = 25;
const SEED = testSeed();
const logSeedOnFailure = () =>
  onTestFailed(() =>
    console.error(
      `crash.test.ts ran with seed ${SEED}; reproduce with: ${reproduce(SEED, "test/journal/crash.test.ts")}`,
    ),
  );
let childArgs: string[] = ["--import", "tsx", childSource];

/**
 * The writer starts in ≈ 0.2 s as one esbuild bundle of the same source versus ≈ 0.6 s
 * through tsx; 50 rounds make that the difference between a fast and a slow test. esbuild
 * comes with tsx; if it cannot be loaded the test falls back to `node --import tsx`.
 */
beforeAll(async () => {
  try {
    const esbuild = (await import("esbuild")) as typeof import("esbuild");
    const out = join(tempDir("wk-crash-bin-").dir, "crash-child.mjs");
    const sqlite = createRequire(import.meta.url).resolve("better-sqlite3");
    await esbuild.build({
      entryPoints: [childSource],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      outfile: out,
      logLevel: "silent",
      plugins: [
        {
          name: "native-sqlite",
          setup: (b) => b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqlite, external: true })),
        },
      ],
    });
    childArgs = [out];
  } catch {
    childArgs = ["--import", "tsx", childSource];
  }
});

/** When a round kills its writer, and the seed of what the writer appends. */
interface Plan {
  /** Kill during start-up or creation (`delayMs` after spawning) instead of `delayMs` after "ready". */
  early: boolean;
  delayMs: number;
  childSeed: number;
}

const plan = (random: () => number): Plan => {
  const early = random() < 0.15; // sometimes kill during start-up or creation
  return { early, delayMs: random() * (early ? 400 : 60), childSeed: below(random, 2 ** 32) };
};

/** Runs the writer, kills it as planned, returns what it reported as done. */
function round(
  path: string,
  secretHex: string,
  p0: Plan,
  where: string,
): Promise<{ entries: Map<number, string>; blobs: string[]; ready: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...childArgs, path, secretHex, String(p0.childSeed)], {
      cwd: repo,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    let ready = false;
    const kill = () => p.kill("SIGKILL");
    if (p0.early) setTimeout(kill, p0.delayMs);
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!ready && out.includes("ready\n")) {
        ready = true;
        if (!p0.early) setTimeout(kill, p0.delayMs);
      }
    });
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(kill, 15_000);
    p.on("error", reject);
    p.on("exit", (code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") return reject(new Error(`${where}: writer exited by itself (code ${code}): ${err}`));
      const entries = new Map<number, string>();
      const blobs: string[] = [];
      for (const line of out.split("\n").slice(0, -1)) {
        const [tag, a, b] = line.split(" ");
        if (tag === "entry") entries.set(Number(a), b!);
        if (tag === "blob") blobs.push(a!);
      }
      resolve({ entries, blobs, ready });
    });
  });
}

/** One world's rounds; world `w` draws from its own generator, so the two worlds running side by side do not share one. */
async function world(w: number): Promise<{ rounds: number; entries: number; killedEarly: number }> {
  const random = mulberry32((SEED + Math.imul(w + 1, 0x9e3779b9)) | 0);
  const { dir } = tempDir("wk-crash-");
  const path = join(dir, "journal.db");
  const key = new KeyPair(bytesFrom(random, 32));
  const secretHex = toHex(key.secretKeyBytes());
  const promised = new Map<number, string>();
  const blobs: string[] = [];
  let killedEarly = 0;
  for (let r = 0; r < ROUNDS_PER_WORLD; r++) {
    const p = plan(random);
    const where = `seed ${SEED}, world ${w}, round ${r} (${p.early ? "early " : ""}kill after ${p.delayMs.toFixed(1)} ms, writer seed ${p.childSeed})`;
    const got = await round(path, secretHex, p, where);
    if (!got.ready) killedEarly++;
    for (const [s, h] of got.entries) promised.set(s, h);
    blobs.push(...got.blobs);
    if (!existsSync(path)) {
      expect(promised.size, `${where}: entries reported before the file existed`).toBe(0);
      continue;
    }
    const store = SqliteJournalStore.open(path); // the writer lock must be free again
    try {
      for (const [seq, hash] of promised)
        expect(toHex(store.getSync(seq)?.hash ?? new Uint8Array()), `${where}: seq ${seq}`).toBe(hash);
      for (const h of blobs) expect(store.hasBlobSync(h as HashText), `${where}: blob ${h}`).toBe(true);
      if (store.countSync() > 0) expect(await verifyJournal(store), where).toMatchObject({ ok: true });
    } finally {
      store.closeSync();
    }
  }
  return { rounds: ROUNDS_PER_WORLD, entries: promised.size, killedEarly };
}

describe("crash safety under SIGKILL", () => {
  it("a live writer in another process locks the journal; its death frees the lock", async () => {
    logSeedOnFailure();
    const random = mulberry32(SEED);
    const { dir } = tempDir("wk-lock-");
    const path = join(dir, "journal.db");
    const key = new KeyPair(bytesFrom(random, 32));
    const p = spawn(
      process.execPath,
      [...childArgs, path, toHex(key.secretKeyBytes()), String(below(random, 2 ** 32))],
      { cwd: repo, stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => {
      let out = "";
      p.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("ready\n")) resolve();
      });
    });
    let code = "no error";
    try {
      SqliteJournalStore.open(path).closeSync();
    } catch (e) {
      code = (e as { code: string }).code;
    }
    expect(code).toBe("journal.locked");
    const reader = SqliteJournalStore.open(path, { readonly: true });
    expect(reader.countSync()).toBeGreaterThan(0);
    reader.closeSync();
    const exited = new Promise((resolve) => p.on("exit", resolve));
    p.kill("SIGKILL");
    await exited;
    const store = SqliteJournalStore.open(path);
    expect(await verifyJournal(store)).toMatchObject({ ok: true });
    store.closeSync();
  });

  it(`${2 * ROUNDS_PER_WORLD} rounds over two worlds: every returned append survives and the journal verifies`, async () => {
    logSeedOnFailure();
    const results = await Promise.all([world(0), world(1)]);
    for (const [w, r] of results.entries())
      expect(r.entries, `seed ${SEED}, world ${w}: no append ever returned`).toBeGreaterThan(0);
  }, 120_000);
});
