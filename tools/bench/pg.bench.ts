/**
 * @module PostgreSQL journal benchmarks on a private, durable cluster (fsync on, as in
 * production; test/pg/cluster.ts): append at batch 1 and 100 against raw INSERTs through
 * `pg` of the same rows (precomputed bytes, a table of the same shape and keys, one named
 * statement and one commit per batch) on the same server, interleaved in the same run.
 * WK_BENCH_PG_DURABLE=0 turns fsync off, to see the CPU cost without the commit flush.
 */
import pg from "pg";
import { encodeStored } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { entryHash, ZERO_HASH } from "../../kernel/journal/entry-hash.js";
import { openPgJournalStore } from "../../kernel/journal/pg-store.js";
import type { AppendInput } from "../../kernel/journal/store.js";
import { clusterUnavailable, startCluster } from "../../test/pg/cluster.js";
import { BENCH_MANIFEST, benchEvent, compareAsync, type Bench, type BenchResult, type Rate } from "./harness.js";

const RAW_TABLE = `CREATE TABLE raw_entries (world_id text NOT NULL, seq bigint NOT NULL, kind text NOT NULL,
  body bytea NOT NULL, prev_hash bytea NOT NULL, hash bytea NOT NULL, PRIMARY KEY (world_id, seq))`;

/** Raw inserts of precomputed rows of the same bodies: one named statement per batch (autocommit). */
async function rawInserter(
  url: string,
  world: string,
  batch: number,
): Promise<{ fn: () => Promise<void>; end: () => Promise<void> }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(`${RAW_TABLE.replace("raw_entries", "IF NOT EXISTS raw_entries")}`);
  const rows: { body: Uint8Array; prev: Uint8Array; hash: Uint8Array }[] = [];
  let prev: Uint8Array = ZERO_HASH;
  for (let i = 0; i < 4096; i++) {
    const body = encodeStored(benchEvent(i));
    const hash = entryHash(prev, i, "event", body);
    rows.push({ body, prev, hash });
    prev = hash;
  }
  let seq = 0;
  const one = {
    name: "raw_one",
    text: "INSERT INTO raw_entries (world_id, seq, kind, body, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6)",
  };
  const many = {
    name: "raw_many",
    text: `INSERT INTO raw_entries (world_id, seq, kind, body, prev_hash, hash)
           SELECT $1, s, 'event', b, p, h FROM unnest($2::bigint[], $3::bytea[], $4::bytea[], $5::bytea[]) AS t(s, b, p, h)`,
  };
  const fn = async (): Promise<void> => {
    if (batch === 1) {
      const r = rows[seq % rows.length]!;
      await c.query({ ...one, values: [world, seq++, "event", r.body, r.prev, r.hash] });
      return;
    }
    const picked = Array.from({ length: batch }, (_, i) => rows[(seq + i) % rows.length]!);
    const seqs = Array.from({ length: batch }, (_, i) => seq + i);
    seq += batch;
    await c.query({
      ...many,
      values: [world, seqs, picked.map((r) => r.body), picked.map((r) => r.prev), picked.map((r) => r.hash)],
    });
  };
  return { fn, end: () => c.end() };
}

const pgAppendBench: Bench = {
  name: "PostgreSQL journal append",
  async run(): Promise<BenchResult[]> {
    const why = clusterUnavailable();
    if (why !== null) throw new Error(`pg.bench needs a PostgreSQL server: ${why}`);
    const cluster = await startCluster({ durable: process.env.WK_BENCH_PG_DURABLE !== "0" });
    const out: BenchResult[] = [];
    try {
      for (const batch of [1, 100]) {
        const world = `bench-${batch}`;
        const key = generateKeyPair();
        const store = await openPgJournalStore(cluster.url, world, { create: true });
        await store.append("genesis", {
          format_version: 1,
          world_id: world,
          world_public_key: key.publicKey,
          manifest_hash: BENCH_MANIFEST,
          created_ns: 1n,
          kernel_flags: [],
          fork: null,
        });
        const items: AppendInput[][] = Array.from({ length: 64 }, (_, j) =>
          Array.from({ length: batch }, (_, i) => ({ kind: "event" as const, body: benchEvent(j * batch + i) })),
        );
        let j = 0;
        const raw = await rawInserter(cluster.url, world, batch);
        const [figure, baseline] = await compareAsync(
          {
            label: "append (validate, encode, chain, Merkle, one round trip)",
            fn: () => store.appendMany(items[j++ % items.length]!),
            batch,
          },
          { label: "raw pg INSERT of the same rows", fn: raw.fn, batch },
        );
        const entries = await store.count();
        await store.close();
        await raw.end();
        const us = (r: Rate) => (1e6 / r.opsPerSec).toFixed(2);
        out.push({
          name: `PostgreSQL journal append, batch ${batch}, synchronous_commit=on (fsync)`,
          figure,
          baseline,
          extra: { entries, append_us: us(figure), insert_us: us(baseline) },
        });
      }
    } finally {
      cluster.stop();
    }
    return out;
  },
};

export const benchmarks: Bench[] = [pgAppendBench];
