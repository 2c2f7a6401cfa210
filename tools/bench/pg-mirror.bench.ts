/**
 * @module What PostgreSQL's read mirror (pg-read-mirror.ts) costs and buys, on a private
 * durable cluster (test/pg/cluster.ts): appends through `PgWorldJournal` (database, then the
 * mirror follows) against the database store alone; point reads and scans from the mirror
 * (synchronous) against the database (one round trip per read, pages of 256 per scan); and
 * opening a world with its mirror loaded against opening the database store alone. The
 * numbers behind the decision in kernel/journal/README.md ("PostgreSQL read mirror").
 */
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { PgJournalStore } from "../../kernel/journal/pg-store.js";
import { PgWorldJournal } from "../../kernel/journal/pg-world-journal.js";
import type { AppendInput } from "../../kernel/journal/store.js";
import { clusterUnavailable, startCluster } from "../../test/pg/cluster.js";
import { BENCH_MANIFEST, benchEvent, compareAsync, type Bench, type BenchResult, type Rate } from "./harness.js";

const N = Number(process.env.WK_BENCH_MIRROR_ENTRIES ?? 20_000);
const us = (r: Rate): string => (1e6 / r.opsPerSec).toFixed(2);
const genesis = (world: string) => ({
  format_version: 1,
  world_id: world,
  world_public_key: generateKeyPair().publicKey,
  manifest_hash: BENCH_MANIFEST,
  created_ns: 1n,
  kernel_flags: [],
  fork: null,
});
const events = (from: number, n: number): AppendInput[] =>
  Array.from({ length: n }, (_, i) => ({ kind: "event" as const, body: benchEvent(from + i) }));

/** Appends with the mirror following, against the database store alone, at batch 1 and 100. */
async function appends(url: string): Promise<BenchResult[]> {
  const out: BenchResult[] = [];
  for (const batch of [1, 100]) {
    const withMirror = await PgWorldJournal.open(url, `mirror-append-${batch}`, { create: true });
    const alone = await PgJournalStore.open(url, `alone-append-${batch}`, { create: true });
    await withMirror.append("genesis", genesis("a"));
    await alone.append("genesis", genesis("b"));
    let [i, k] = [1, 1];
    const [figure, baseline] = await compareAsync(
      { label: "append, mirror following", fn: () => withMirror.appendMany(events((i += batch), batch)), batch },
      { label: "append, database alone", fn: () => alone.appendMany(events((k += batch), batch)), batch },
      { rounds: 4 },
    );
    await withMirror.close();
    await alone.close();
    out.push({
      name: `PostgreSQL append with the read mirror following, batch ${batch}`,
      figure,
      baseline,
      extra: { mirror_us: us(figure), alone_us: us(baseline) },
    });
  }
  return out;
}

/** Point reads and scans: the mirror against the database, on a world of N entries. */
async function reads(url: string): Promise<BenchResult[]> {
  const world = "mirror-reads";
  const w = await PgJournalStore.open(url, world, { create: true });
  await w.append("genesis", genesis(world));
  for (let i = 1; i < N; i += 1000) await w.appendMany(events(i, Math.min(1000, N - i)));
  await w.close();
  const mirror = await PgWorldJournal.open(url, world, { readonly: true });
  const db = await PgJournalStore.open(url, world, { readonly: true });
  const out: BenchResult[] = [];
  try {
    let s = 0;
    const next = () => (s = (s * 7919 + 13) % N);
    const [figure, baseline] = await compareAsync(
      { label: "getSync (mirror)", fn: () => Promise.resolve(mirror.getSync(next())), batch: 1 },
      { label: "await get (database)", fn: () => db.get(next()), batch: 1 },
      { rounds: 4 },
    );
    out.push({
      name: `PostgreSQL point read, mirror vs database (${N} entries)`,
      figure,
      baseline,
      extra: { mirror_us: us(figure), database_us: us(baseline) },
    });
    const scan = async (it: Iterable<unknown> | AsyncIterable<unknown>) => {
      for await (const _ of it) void _;
    };
    const [fs, bs] = await compareAsync(
      { label: "iterateSync (mirror)", fn: () => scan(mirror.iterateSync()), batch: N },
      { label: "for await iterate (database)", fn: () => scan(db.iterate()), batch: N },
      { rounds: 2, warmup: 1 },
    );
    out.push({
      name: `PostgreSQL full scan, mirror vs database (${N} entries), entries/s`,
      figure: fs,
      baseline: bs,
    });
    const [fo, bo] = await compareAsync(
      {
        label: "open with mirror loaded",
        fn: async () => (await PgWorldJournal.open(url, world, { readonly: true })).close(),
        batch: 1,
      },
      {
        label: "open database store alone",
        fn: async () => (await PgJournalStore.open(url, world, { readonly: true })).close(),
        batch: 1,
      },
      { rounds: 2, warmup: 1, sliceMs: 1000 },
    );
    out.push({
      name: `PostgreSQL open, mirror loaded vs database alone (${N} entries)`,
      figure: fo,
      baseline: bo,
      extra: { mirror_open_ms: (1e3 / fo.opsPerSec).toFixed(1), alone_open_ms: (1e3 / bo.opsPerSec).toFixed(1) },
    });
  } finally {
    await mirror.close();
    await db.close();
  }
  return out;
}

const mirrorBench: Bench = {
  name: "PostgreSQL read mirror",
  async run(): Promise<BenchResult[]> {
    const why = clusterUnavailable();
    if (why !== null) throw new Error(`pg-mirror.bench needs a PostgreSQL server: ${why}`);
    const cluster = await startCluster({ durable: process.env.WK_BENCH_PG_DURABLE !== "0" });
    try {
      return [...(await appends(cluster.url)), ...(await reads(cluster.url))];
    } finally {
      cluster.stop();
    }
  },
};

export const benchmarks: Bench[] = [mirrorBench];
