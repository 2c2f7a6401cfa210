/**
 * @module Crash safety: a child process appends in a loop (single entries, batches, blobs)
 * and is SIGKILLed at random moments, 50 rounds over two worlds — sometimes before it has
 * even created the file. Every time the journal reopens for writing (no stale lock),
 * verifies, and holds every entry and blob whose append had returned.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { toHex, type HashText } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { tempDir } from "./helpers.js";

const childSource = fileURLToPath(new URL("./crash-child.ts", import.meta.url));
const repo = fileURLToPath(new URL("../..", import.meta.url));
const ROUNDS_PER_WORLD = 25;
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
      plugins: [{ name: "native-sqlite", setup: (b) => b.onResolve({ filter: /^better-sqlite3$/ }, () => ({ path: sqlite, external: true })) }],
    });
    childArgs = [out];
  } catch {
    childArgs = ["--import", "tsx", childSource];
  }
});

/** Runs the writer, kills it at a random moment, returns what it reported as done. */
function round(path: string, secretHex: string): Promise<{ entries: Map<number, string>; blobs: string[]; ready: boolean }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...childArgs, path, secretHex], { cwd: repo, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let ready = false;
    const early = Math.random() < 0.15; // sometimes kill during start-up or creation
    const kill = () => p.kill("SIGKILL");
    if (early) setTimeout(kill, Math.random() * 400);
    p.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!ready && out.includes("ready\n")) {
        ready = true;
        if (!early) setTimeout(kill, Math.random() * 60);
      }
    });
    p.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const guard = setTimeout(kill, 15_000);
    p.on("error", reject);
    p.on("exit", (code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") return reject(new Error(`writer exited by itself (code ${code}): ${err}`));
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

async function world(): Promise<{ rounds: number; entries: number; killedEarly: number }> {
  const { dir } = tempDir("wk-crash-");
  const path = join(dir, "journal.db");
  const key = generateKeyPair();
  const secretHex = toHex(key.secretKeyBytes());
  const promised = new Map<number, string>();
  const blobs: string[] = [];
  let killedEarly = 0;
  for (let r = 0; r < ROUNDS_PER_WORLD; r++) {
    const got = await round(path, secretHex);
    if (!got.ready) killedEarly++;
    for (const [s, h] of got.entries) promised.set(s, h);
    blobs.push(...got.blobs);
    if (!existsSync(path)) {
      expect(promised.size).toBe(0);
      continue;
    }
    const store = SqliteJournalStore.open(path); // the writer lock must be free again
    try {
      for (const [seq, hash] of promised) expect(toHex(store.getSync(seq)?.hash ?? new Uint8Array()), `seq ${seq} after round ${r}`).toBe(hash);
      for (const h of blobs) expect(store.hasBlobSync(h as HashText), `blob ${h}`).toBe(true);
      if (store.countSync() > 0) expect(await verifyJournal(store)).toMatchObject({ ok: true });
    } finally {
      store.closeSync();
    }
  }
  return { rounds: ROUNDS_PER_WORLD, entries: promised.size, killedEarly };
}

describe("crash safety under SIGKILL", () => {
  it("a live writer in another process locks the journal; its death frees the lock", async () => {
    const { dir } = tempDir("wk-lock-");
    const path = join(dir, "journal.db");
    const key = generateKeyPair();
    const p = spawn(process.execPath, [...childArgs, path, toHex(key.secretKeyBytes())], { cwd: repo, stdio: ["ignore", "pipe", "inherit"] });
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
    const results = await Promise.all([world(), world()]);
    for (const r of results) expect(r.entries).toBeGreaterThan(0);
  }, 120_000);
});
