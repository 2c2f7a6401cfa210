/**
 * @module Cold-open benchmark (issue 21): `World.open` of a cleanly closed counter world of
 * ≥ 1,000,000 journal entries, beside the same-run baseline of the same open of a
 * 1,000-entry world built the same way. A ratio near 1 means the open is bounded by
 * `checkpoint_every` (the tail a writer checks), not by the journal's length. The full
 * `verifyWorldDir` of the big world is printed beside it for context: that one grows with
 * length.
 *
 * Both worlds are real counter worlds (worlds/counter AIR, the AssemblyScript module) built
 * through `createWorld` + `World.sendMany` (1,000 events per call, synchronous=NORMAL,
 * checkpoint_every at its default 1,000) and closed cleanly (close snapshots and seals the
 * head with a checkpoint). They are built once and cached under `.bench-cache/` at the repo
 * root (gitignored; `WK_BENCH_CACHE` moves it), in a folder keyed by the kernel's flags, the
 * journal format, the counter's manifest and wasm hashes, the size and CACHE_VERSION, so a
 * stale cache is rebuilt rather than opened. The 1M build takes minutes on 2 cores.
 * `WK_BENCH_OPEN_ENTRIES` sets the big world's size (default 1,000,000).
 *
 * Each measured run is `World.open(dir, {synchronous: "NORMAL"})` (timed) then
 * `close({snapshot: false})` (timed apart; it writes nothing on a sealed head). Big and small
 * alternate, the order flipping every round, after one first open each that the medians
 * leave out (reported as `first_small_ms`, the process's first open, where lazy imports and
 * JIT warm-up land, and `first_big_ms`). Every open is a new SQLite connection, so each
 * starts with an empty page cache (the OS's file cache stays warm). The figures are medians.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { JOURNAL_FORMAT_VERSION, worldPaths } from "../../kernel/journal/index.js";
import { createWorld, KERNEL_FLAGS, sourceFromAirDir, verifyWorldDir, World } from "../../kernel/world/index.js";
import type { Bench, BenchResult } from "./harness.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COUNTER = join(ROOT, "worlds/counter");
const CACHE = process.env.WK_BENCH_CACHE ?? join(ROOT, ".bench-cache");
const BIG = Number(process.env.WK_BENCH_OPEN_ENTRIES ?? 1_000_000);
const SMALL = 1_000;
/** Events per `sendMany` call (the group size `wk send --file` defaults to). */
const BATCH = 1_000;
/** Timed opens per world (after one first open each). */
const RUNS = 15;
/** Bump when the cached worlds' construction changes. */
const CACHE_VERSION = 1;

const counterEvents = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    schema: "demo/CounterEvent@1",
    json: { key: `cell-${(i + offset) % 64}`, by: ((i + offset) % 7) + 1 },
  }));

interface Built {
  dir: string;
  entries: number;
  kinds: Record<string, number>;
  buildS: number;
  journalMiB: number;
  cached: boolean;
}

/** Entries and entries per kind of a SQLite world's journal, read directly. */
function census(journal: string): { entries: number; kinds: Record<string, number> } {
  const db = new Database(journal, { readonly: true });
  try {
    const rows = db.prepare("SELECT kind, count(*) AS n FROM entries GROUP BY kind").all() as {
      kind: string;
      n: number;
    }[];
    const kinds = Object.fromEntries(rows.map((r) => [r.kind, r.n]));
    return { entries: rows.reduce((s, r) => s + r.n, 0), kinds };
  } finally {
    db.close();
  }
}

/** The cache folder of an `n`-entry world: stale (another kernel, format or module) means another name. */
function cacheDir(n: number): string {
  const source = sourceFromAirDir(COUNTER);
  const key = createHash("sha256")
    .update(
      JSON.stringify({
        v: CACHE_VERSION,
        flags: KERNEL_FLAGS,
        format: JOURNAL_FORMAT_VERSION,
        manifest: source.catalog.manifestHash,
        wasm: [...source.wasm.keys()].sort(),
        n,
        batch: BATCH,
      }),
    )
    .digest("hex")
    .slice(0, 16);
  return join(CACHE, `cold-open-${n}-${key}`);
}

/** A cleanly closed counter world of ≥ `n` entries, built once and cached. */
async function counterWorld(n: number): Promise<Built> {
  const dir = cacheDir(n);
  const worldDir = join(dir, "w");
  const journal = worldPaths(worldDir).journal;
  const marker = join(dir, "built.json");
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, "utf8")) as { entries: number; buildS: number };
    const now = census(journal);
    if (now.entries !== m.entries)
      throw new Error(`${journal} holds ${now.entries} entries, built with ${m.entries}: delete ${dir} to rebuild`);
    return { dir: worldDir, ...m, kinds: now.kinds, journalMiB: statSync(journal).size / 2 ** 20, cached: true };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const loud = n >= 100_000;
  if (loud)
    console.log(
      `  [cold-open.bench] building a ${n.toLocaleString("en-US")}-entry counter world once (minutes on 2 cores); cached at ${dir}`,
    );
  const t0 = performance.now();
  const w = await createWorld(worldDir, sourceFromAirDir(COUNTER), { synchronous: "NORMAL" });
  try {
    let sent = 0;
    let shown = 0;
    for (let count = w.store.countSync(); count < n; count = w.store.countSync()) {
      // An event makes ≥ 2 entries (event, step): near the end, send only what is still needed.
      const k = Math.min(BATCH, Math.max(1, Math.ceil((n - count) / 2)));
      await w.sendMany(counterEvents(k, sent));
      sent += k;
      if (loud && count - shown >= 100_000) {
        shown = count;
        const s = (performance.now() - t0) / 1000;
        console.log(
          `  [cold-open.bench]   ${count.toLocaleString("en-US")} / ${n.toLocaleString("en-US")} entries, ${s.toFixed(0)} s (${Math.round(count / s).toLocaleString("en-US")} entries/s)`,
        );
      }
    }
  } finally {
    await w.close(); // snapshots the last stretch and seals the head with a checkpoint
  }
  const buildS = (performance.now() - t0) / 1000;
  const { entries, kinds } = census(journal);
  writeFileSync(marker, JSON.stringify({ entries, buildS }));
  if (loud)
    console.log(`  [cold-open.bench] built ${entries.toLocaleString("en-US")} entries in ${buildS.toFixed(1)} s`);
  return { dir: worldDir, entries, kinds, buildS, journalMiB: statSync(journal).size / 2 ** 20, cached: false };
}

/** One cold open of `dir` (timed), then its close (timed apart). */
async function openOnce(dir: string): Promise<{ openMs: number; closeMs: number }> {
  const t0 = performance.now();
  const w = await World.open(dir, { synchronous: "NORMAL" });
  const t1 = performance.now();
  await w.close({ snapshot: false });
  return { openMs: t1 - t0, closeMs: performance.now() - t1 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const en = (n: number) => n.toLocaleString("en-US");

const coldOpenBench: Bench = {
  name: "cold open of a 1,000,000-entry world",
  async run(): Promise<BenchResult[]> {
    const big = await counterWorld(BIG);
    const small = await counterWorld(SMALL);
    const note = (b: Built) =>
      `${en(b.entries)} entries (${en(b.kinds.event ?? 0)} events, ${en(b.kinds.step ?? 0)} steps, ${en(b.kinds.checkpoint ?? 0)} checkpoints, ${en(b.kinds.snapshot ?? 0)} snapshots; ${b.journalMiB.toFixed(0)} MiB) ${b.cached ? "cached, built" : "built"} in ${b.buildS.toFixed(1)} s`;
    console.log(`  [cold-open.bench] big: ${note(big)}`);
    console.log(`  [cold-open.bench] small: ${note(small)}`);

    // The process's first open pays lazy imports and JIT warm-up: the small world takes it.
    const firstSmall = await openOnce(small.dir);
    const firstBig = await openOnce(big.dir);
    const sides = [
      { b: big, open: [] as number[], close: [] as number[] },
      { b: small, open: [] as number[], close: [] as number[] },
    ];
    for (let r = 0; r < RUNS; r++) {
      for (const s of r % 2 === 0 ? sides : [...sides].reverse()) {
        const t = await openOnce(s.b.dir);
        s.open.push(t.openMs);
        s.close.push(t.closeMs);
      }
    }
    for (const s of sides) {
      const after = census(worldPaths(s.b.dir).journal).entries;
      if (after !== s.b.entries) throw new Error(`opening ${s.b.dir} wrote ${after - s.b.entries} entries`);
    }
    const [B, S] = sides as [(typeof sides)[0], (typeof sides)[0]];
    const bigMs = median(B.open);
    const smallMs = median(S.open);

    const t = performance.now();
    const v = await verifyWorldDir(big.dir, { requireSealedHead: true });
    const verifyMs = performance.now() - t;
    if (!v.ok) throw new Error(`the bench world fails verification: ${v.fault} at ${v.first_bad_seq}: ${v.message}`);

    const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}`;
    return [
      {
        name: `cold open (World.open, synchronous=NORMAL): ${en(big.entries)} vs ${en(small.entries)} entries, median of ${RUNS} (ratio ≈ 1 = bounded by checkpoint_every, not length)`,
        figure: { label: `open, ${en(big.entries)} entries: ${bigMs.toFixed(1)} ms`, opsPerSec: 1000 / bigMs },
        baseline: { label: `open, ${en(small.entries)} entries: ${smallMs.toFixed(1)} ms`, opsPerSec: 1000 / smallMs },
        extra: {
          big_ms: bigMs.toFixed(1),
          small_ms: smallMs.toFixed(1),
          time_ratio: (bigMs / smallMs).toFixed(2),
          big_range_ms: range(B.open),
          small_range_ms: range(S.open),
          first_big_ms: firstBig.openMs.toFixed(1),
          first_small_ms: firstSmall.openMs.toFixed(1),
          close_big_ms: median(B.close).toFixed(1),
          close_small_ms: median(S.close).toFixed(1),
          build_big_s: big.buildS.toFixed(1),
          cached: String(big.cached),
        },
      },
      {
        name: `cold open vs full verify (verifyWorldDir, requireSealedHead) of the same ${en(big.entries)}-entry world (verify grows with length; open must not)`,
        // As entries of the world per second of each, so the ratio is verify's time over open's.
        figure: { label: `open: ${bigMs.toFixed(1)} ms, as entries/s`, opsPerSec: (v.entries * 1000) / bigMs },
        baseline: {
          label: `full verify: ${(verifyMs / 1000).toFixed(1)} s, entries/s`,
          opsPerSec: (v.entries * 1000) / verifyMs,
        },
        extra: { verify_s: (verifyMs / 1000).toFixed(1), entries: v.entries, checkpoints: v.checkpoints },
      },
    ];
  },
};

export const benchmarks: Bench[] = [coldOpenBench];
