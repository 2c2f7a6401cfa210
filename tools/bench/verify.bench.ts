/**
 * @module Verification benchmarks, each beside a same-run baseline. (1) `verifyWorldStore`
 * (chain, bodies, Merkle, index audit, checkpoint signatures and the journal's rules, CAS
 * included) of a counter world built through the real kernel — events, steps, snapshots,
 * checkpoints — against a raw better-sqlite3 iterate of the same rows with one sha256 per
 * entry. (2) The bounded check a writer runs on open (`checkTailOnOpen`, from the last
 * checkpoint) on a 1,000,000-entry journal and on a 10,000-entry one, against verifying
 * `checkpoint_every` entries without rules. Both journals end in a crash-like tail of
 * `checkpoint_every - 2` entries after their last checkpoint (the longest tail a writer can
 * meet), so the check covers ≈ `checkpoint_every` entries. The two journals are built once
 * with `SqliteJournalStore` on top of a real counter world's genesis and cached under the
 * temp dir (keyed by CACHE_VERSION); delete `wk-bench-tailcheck-*` there to rebuild.
 * `seed_*_ms` is the one part of the check that reads history before the tail (every rare
 * entry: genesis, snapshots, checkpoints…), so it grows with length / checkpoint_every.
 * Figure and baselines run in alternating slices (async, so not harness `compare`).
 */
import { hash as oneShot, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { hashBytes, decodeStored, type HashText } from "../../air/index.js";
import { loadKeyPair } from "../../kernel/crypto/keys.js";
import {
  JOURNAL_FORMAT_VERSION,
  SqliteJournalStore,
  verifyJournal,
  worldPaths,
  type AppendInput,
  type EntryBodies,
} from "../../kernel/journal/index.js";
import {
  checkTailOnOpen,
  createWorld,
  JournalRules,
  sourceFromAirDir,
  verifyWorldStore,
} from "../../kernel/world/index.js";
import type { Bench, BenchResult, Rate } from "./harness.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const COUNTER = join(ROOT, "worlds/counter");
const EVERY = 1000;
/** Bump when the cached journals' construction changes. */
const CACHE_VERSION = 1;

const counterEvents = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    schema: "demo/CounterEvent@1",
    json: { key: `cell-${(i + offset) % 64}`, by: ((i + offset) % 7) + 1 },
  }));

/** One side of an async interleaved comparison; `batch` is ops per call. */
interface AsyncSide {
  label: string;
  fn: () => unknown;
  batch?: number;
}

/**
 * Runs every side in alternating slices (the order reverses every round) so drift on this
 * shared machine falls on all alike; each rate is its total ops over its total time. A
 * slice runs at least one call.
 */
async function interleave(
  sides: AsyncSide[],
  opts: { rounds?: number; sliceMs?: number; warmup?: number } = {},
): Promise<Rate[]> {
  const rounds = opts.rounds ?? 8;
  const sliceNs = (opts.sliceMs ?? 250) * 1e6;
  const ops = sides.map(() => 0);
  const ns = sides.map(() => 0);
  for (const s of sides) for (let i = 0; i < (opts.warmup ?? 1); i++) await s.fn();
  const order = sides.map((_, k) => k);
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 === 0 ? order : [...order].reverse()) {
      const s = sides[k]!;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      do {
        await s.fn();
        ops[k]! += s.batch ?? 1;
        elapsed = Number(process.hrtime.bigint() - start);
      } while (elapsed < sliceNs);
      ns[k]! += elapsed;
    }
  }
  return sides.map((s, k) => ({ label: s.label, opsPerSec: (ops[k]! / ns[k]!) * 1e9 }));
}

type Row = { seq: number; kind: string; body: Buffer; hash: Buffer; prev_hash: Buffer };

/** The raw reader: iterate the rows in seq order, one one-shot sha256 over prev_hash ‖ u64be seq ‖ u8 len ‖ kind ‖ body each. */
function rawScan(db: Database.Database, from = 0): () => number {
  const scan = db.prepare("SELECT seq, kind, body, prev_hash, hash FROM entries WHERE seq >= ? ORDER BY seq");
  let buf = Buffer.alloc(4096);
  return () => {
    let n = 0;
    for (const r of scan.iterate(from) as Iterable<Row>) {
      const len = 40 + 1 + r.kind.length + r.body.length;
      if (len > buf.length) buf = Buffer.alloc(2 * len);
      buf.set(r.prev_hash, 0);
      buf.writeBigUInt64BE(BigInt(r.seq), 32);
      buf[40] = r.kind.length;
      buf.write(r.kind, 41, "latin1");
      buf.set(r.body, 41 + r.kind.length);
      oneShot("sha256", buf.subarray(0, len), "binary");
      n++;
    }
    return n;
  };
}

function kindCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare("SELECT kind, count(*) AS n FROM entries GROUP BY kind").all() as {
      kind: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  } finally {
    db.close();
  }
}

const verifyBench: Bench = {
  name: "verify entries/s with semantic checks",
  async run(): Promise<BenchResult> {
    const scratch = mkdtempSync(join(tmpdir(), "wk-bench-"));
    try {
      const dir = join(scratch, "w");
      const t0 = performance.now();
      const w = await createWorld(dir, sourceFromAirDir(COUNTER), { synchronous: "NORMAL", checkpointEvery: EVERY });
      const EVENTS = 10_000;
      for (let i = 0; i < EVENTS; i += 1000) {
        await w.sendMany(counterEvents(1000, i));
        if ((i + 1000) % 2000 === 0 && i + 1000 < EVENTS) await w.snapshot();
      }
      await w.close(); // snapshots the last stretch and seals the head with a checkpoint
      const buildS = (performance.now() - t0) / 1000;
      const path = worldPaths(dir).journal;
      const kinds = kindCounts(path);
      const store = SqliteJournalStore.open(path, { readonly: true });
      const db = new Database(path, { readonly: true });
      try {
        const entries = store.countSync();
        const first = await verifyWorldStore(store, { requireSealedHead: true });
        if (!first.ok)
          throw new Error(
            `the bench world fails verification: ${first.fault} at ${first.first_bad_seq}: ${first.message}`,
          );
        const raw = rawScan(db);
        if (raw() !== entries) throw new Error("raw scan saw a different number of entries");
        const [figure, baseline, chainOnly] = await interleave(
          [
            {
              label: "verifyWorldStore, requireSealedHead (chain, bodies, Merkle, index audit, signatures, rules, CAS)",
              fn: async () => {
                const r = await verifyWorldStore(store, { requireSealedHead: true });
                if (!r.ok) throw new Error(r.message);
              },
              batch: entries,
            },
            { label: "raw iterate + one-shot sha256 per entry", fn: raw, batch: entries },
            {
              label: "verifyJournal without rules",
              fn: async () => {
                const r = await verifyJournal(store, { requireSealedHead: true });
                if (!r.ok) throw new Error(r.message);
              },
              batch: entries,
            },
          ],
          { rounds: 6, sliceMs: 600 },
        );
        return {
          name: this.name,
          figure: figure!,
          baseline: baseline!,
          extra: {
            entries,
            events: kinds.event ?? 0,
            steps: kinds.step ?? 0,
            snapshots: kinds.snapshot ?? 0,
            checkpoints: kinds.checkpoint ?? 0,
            build_s: buildS.toFixed(1),
            no_rules_per_s: Math.round(chainOnly!.opsPerSec),
            no_rules_ratio: (chainOnly!.opsPerSec / baseline!.opsPerSec).toFixed(3),
          },
        };
      } finally {
        db.close();
        store.closeSync();
      }
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

interface Built {
  path: string;
  entries: number;
  lastCheckpoint: number;
  buildS: number;
  cached: boolean;
}

/**
 * A counter world's journal (genesis, AIR bundle and wasm in the CAS, the close
 * checkpoint) extended with filler ingress `event` entries to exactly `n` entries through
 * `SqliteJournalStore` (NORMAL, batches of ≤ 1,000, automatic checkpoints every 1,000),
 * leaving `n` mod 1,000 − 1 entries after the last checkpoint. `n` must be ≡ 999 (mod 1000).
 * Cached: a finished build leaves `built.json` beside the world.
 */
async function tailJournal(n: number): Promise<Built> {
  if (n % EVERY !== EVERY - 1) throw new RangeError("n must be one less than a multiple of checkpoint_every");
  const dir = join(tmpdir(), `wk-bench-tailcheck-v${CACHE_VERSION}-f${JOURNAL_FORMAT_VERSION}-${n}`);
  const worldDir = join(dir, "w");
  const path = worldPaths(worldDir).journal;
  const marker = join(dir, "built.json");
  if (existsSync(marker)) {
    const m = JSON.parse(readFileSync(marker, "utf8")) as { entries: number; lastCheckpoint: number; buildS: number };
    return { path, ...m, cached: true };
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const w = await createWorld(worldDir, sourceFromAirDir(COUNTER), { synchronous: "NORMAL", checkpointEvery: EVERY });
  await w.close(); // genesis, then the checkpoint that seals it
  const worldKey = loadKeyPair(worldPaths(worldDir).worldKey);
  const probe = SqliteJournalStore.open(path, { readonly: true });
  const sealed = decodeStored(probe.latestOfKind("checkpoint")!.body) as EntryBodies["checkpoint"];
  const manifest = (decodeStored(probe.getSync(0)!.body) as EntryBodies["genesis"]).manifest_hash as HashText;
  probe.closeSync();
  const refs = { state_root: sealed.state_root as HashText, manifest_hash: sealed.manifest_hash as HashText };
  const store = SqliteJournalStore.open(path, {
    synchronous: "NORMAL",
    checkpointEvery: EVERY,
    worldKey,
    stateProvider: () => refs,
  });
  const now0 = BigInt(Date.now()) * 1_000_000n;
  let i = 0;
  try {
    for (;;) {
      const size = store.countSync();
      const nextMultiple = (Math.floor(size / EVERY) + 1) * EVERY;
      // Fill to the next multiple (the store then appends a checkpoint), or stop short of it at n.
      const k = n < nextMultiple ? n - size : nextMultiple - size;
      if (k === 0) break;
      const entropy = randomBytes(32 * k);
      const items: AppendInput[] = Array.from({ length: k }, (_, j) => {
        const value = { key: `cell-${(i + j) % 64}`, by: ((i + j) % 7) + 1 };
        return {
          kind: "event" as const,
          body: {
            schema: "demo/CounterEvent@1",
            value,
            key: null,
            ctx: {
              now_ns: now0 + BigInt(i + j) * 1000n,
              logical_now: i + j + 1,
              journal_height: size + j,
              entropy: entropy.subarray(32 * j, 32 * j + 32),
              event_hash: hashBytes(Buffer.from(`${value.key}:${value.by}:${i + j}`)),
              manifest_hash: manifest,
            },
            origin: { kind: "ingress" },
          },
        };
      });
      store.appendManySync(items);
      i += k;
      if (n < nextMultiple) break;
    }
    const entries = store.countSync();
    if (entries !== n) throw new Error(`built ${entries} entries, wanted ${n}`);
    const lastCheckpoint = store.latestOfKind("checkpoint")!.seq;
    store.closeSync();
    const buildS = (performance.now() - t0) / 1000;
    writeFileSync(marker, JSON.stringify({ entries, lastCheckpoint, buildS }));
    return { path, entries, lastCheckpoint, buildS, cached: false };
  } catch (e) {
    store.closeSync();
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}

const ms = (r: Rate) => (1000 / r.opsPerSec).toFixed(2);

const tailBench: Bench = {
  name: "open-for-writing check on a 1,000,000-entry world",
  async run(): Promise<BenchResult[]> {
    const big = await tailJournal(999_999);
    const small = await tailJournal(9_999);
    const buildNote = (b: Built) =>
      b.cached ? `cached (built in ${b.buildS.toFixed(1)} s)` : `built in ${b.buildS.toFixed(1)} s`;
    console.log(
      `  [verify.bench] ${big.entries}-entry journal ${buildNote(big)}; ${small.entries}-entry journal ${buildNote(small)}`,
    );
    const open = (p: string) => {
      const t = performance.now();
      const s = SqliteJournalStore.open(p, { synchronous: "NORMAL" });
      return { s, ms: performance.now() - t };
    };
    const B = open(big.path);
    const S = open(small.path);
    const rawDb = new Database(big.path, { readonly: true });
    try {
      const bootB = B.s.latestOfKind("checkpoint")!.seq;
      const bootS = S.s.latestOfKind("checkpoint")!.seq;
      const fromB = B.s.countSync() - EVERY;
      const fromS = S.s.countSync() - EVERY;
      const rawTail = rawScan(rawDb, fromB);
      if (rawTail() !== EVERY) throw new Error("raw tail scan saw a different number of entries");
      const verifyTail = (s: SqliteJournalStore, from: number) => async () => {
        const r = await verifyJournal(s, { from });
        if (!r.ok) throw new Error(`${r.fault} at ${r.first_bad_seq}: ${r.message}`);
      };
      // The part of the check that reads history before the tail: every rare entry (genesis, snapshots, checkpoints…).
      const seed = (s: SqliteJournalStore, from: number) => () =>
        new JournalRules(s, false).seed([...s.rareEntriesSync(0, from - 1)]);
      const [checkBig, checkSmall, baseBig, baseSmall, raw, seedBig, seedSmall] = await interleave(
        [
          {
            label: `checkTailOnOpen, ${big.entries} entries, from the last checkpoint (seq ${bootB}, ${big.entries - bootB} entries checked)`,
            fn: () => checkTailOnOpen(B.s, bootB),
          },
          {
            label: `checkTailOnOpen, ${small.entries} entries, from the last checkpoint (seq ${bootS}, ${small.entries - bootS} entries checked)`,
            fn: () => checkTailOnOpen(S.s, bootS),
          },
          {
            label: `verifyJournal of the last checkpoint_every (${EVERY}) entries, no rules, ${big.entries}-entry journal`,
            fn: verifyTail(B.s, fromB),
          },
          {
            label: `verifyJournal of the last ${EVERY} entries, no rules, ${small.entries}-entry journal`,
            fn: verifyTail(S.s, fromS),
          },
          { label: `raw iterate + sha256 of the last ${EVERY} entries`, fn: rawTail },
          { label: "seed, 1M", fn: seed(B.s, bootB) },
          { label: "seed, 10k", fn: seed(S.s, bootS) },
        ],
        { rounds: 8, sliceMs: 300, warmup: 3 },
      );
      const common = {
        check_1m_ms: ms(checkBig!),
        check_10k_ms: ms(checkSmall!),
        verify_1000_ms: ms(baseBig!),
        raw_1000_ms: ms(raw!),
        seed_1m_ms: ms(seedBig!),
        seed_10k_ms: ms(seedSmall!),
      };
      return [
        {
          name: `open-for-writing check (checkTailOnOpen) on a ${big.entries.toLocaleString("en-US")}-entry world vs verifying checkpoint_every entries`,
          figure: checkBig!,
          baseline: baseBig!,
          extra: {
            ...common,
            open_1m_ms: B.ms.toFixed(1),
            build_1m_s: big.buildS.toFixed(1),
            cached: String(big.cached),
          },
        },
        {
          name: `open-for-writing check: ${big.entries.toLocaleString("en-US")} vs ${small.entries.toLocaleString("en-US")} entries (≈1 = bounded by checkpoint_every, not length)`,
          figure: checkBig!,
          baseline: checkSmall!,
          extra: {
            check_1m_ms: common.check_1m_ms,
            check_10k_ms: common.check_10k_ms,
            seed_1m_ms: common.seed_1m_ms,
            seed_10k_ms: common.seed_10k_ms,
            open_10k_ms: S.ms.toFixed(1),
          },
        },
        {
          name: `open-for-writing check on a ${small.entries.toLocaleString("en-US")}-entry world vs verifying checkpoint_every entries`,
          figure: checkSmall!,
          baseline: baseSmall!,
          extra: { check_10k_ms: common.check_10k_ms, verify_1000_10k_ms: ms(baseSmall!) },
        },
      ];
    } finally {
      rawDb.close();
      B.s.closeSync();
      S.s.closeSync();
    }
  },
};

export const benchmarks: Bench[] = [verifyBench, tailBench];
