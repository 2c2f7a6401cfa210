/**
 * @module Journal benchmarks, each against a same-run baseline: append (batch 1 and 100,
 * synchronous FULL and NORMAL) vs raw better-sqlite3 inserts of the same row bytes with the
 * same pragmas; verify vs a raw scan that only re-hashes the chain; inclusion proofs
 * (generated from the store and verified) vs raw node:crypto sha256.
 */
import { hash as oneShot } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { encodeStored } from "../../air/index.js";
import { generateKeyPair, type KeyPair } from "../../kernel/crypto/keys.js";
import { verifyEntryInclusion } from "../../kernel/crypto/merkle-verify.js";
import { signPure, verify, verifyPure } from "../../kernel/crypto/sign.js";
import { entryHash, entryLeafHash, fastNodeHash, ZERO_HASH } from "../../kernel/journal/entry-hash.js";
import type { AppendInput } from "../../kernel/journal/store.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { BENCH_MANIFEST, benchEvent, compare, measure, type Bench, type BenchResult } from "./harness.js";

const genesis = (key: KeyPair) => ({
  format_version: 1,
  world_id: "bench",
  world_public_key: key.publicKey,
  manifest_hash: BENCH_MANIFEST,
  created_ns: 1n,
  kernel_flags: [],
  fork: null,
});

function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "wk-bench-"));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Same schema as the journal's entries table, same pragmas; rows precomputed from the same bodies. */
function rawInserter(path: string, sync: "FULL" | "NORMAL", batch: number): () => void {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${sync}`);
  db.exec(
    "CREATE TABLE entries (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, body BLOB NOT NULL, prev_hash BLOB NOT NULL, hash BLOB NOT NULL)",
  );
  const insert = db.prepare("INSERT INTO entries (seq, kind, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?)");
  const rows: [Uint8Array, Uint8Array, Uint8Array][] = [];
  let prev: Uint8Array = ZERO_HASH;
  for (let i = 0; i < 4096; i++) {
    const body = encodeStored(benchEvent(i));
    const hash = entryHash(prev, i, "event", body);
    rows.push([body, prev, hash]);
    prev = hash;
  }
  let seq = 0;
  const tx = db.transaction(() => {
    for (let i = 0; i < batch; i++) {
      const r = rows[seq % rows.length]!;
      insert.run(seq++, "event", r[0], r[1], r[2]);
    }
  });
  return tx;
}

function appendBench(sync: "FULL" | "NORMAL", batch: number): Bench {
  return {
    name: `journal append, batch ${batch}, synchronous=${sync}`,
    async run(): Promise<BenchResult> {
      const s = scratch();
      try {
        const key = generateKeyPair();
        const store = SqliteJournalStore.open(join(s.dir, "journal.db"), { create: true, synchronous: sync });
        store.appendSync("genesis", genesis(key));
        const items: AppendInput[][] = Array.from({ length: 64 }, (_, j) =>
          Array.from({ length: batch }, (_, i) => ({ kind: "event" as const, body: benchEvent(j * batch + i) })),
        );
        let j = 0;
        const raw = rawInserter(join(s.dir, "raw.db"), sync, batch);
        const [figure, baseline] = compare(
          {
            label: "append (validate, encode, chain, Merkle)",
            fn: () => store.appendManySync(items[j++ % items.length]!),
            batch,
          },
          { label: "raw INSERT of the same rows", fn: raw, batch },
          { rounds: sync === "FULL" && batch === 1 ? 8 : 6 },
        );
        const entries = store.countSync();
        store.closeSync();
        // Where an append's time goes beyond the INSERT, measured in the same run.
        const bodies = items.flat().map((x) => x.body);
        let k = 0;
        const enc = await measure("encode", () => encodeStored(bodies[k++ % bodies.length]!), { minMs: 300 });
        const b = encodeStored(bodies[0]!);
        const hashes = await measure(
          "3 sha256",
          () => {
            const h = entryHash(ZERO_HASH, 5, "event", b);
            fastNodeHash(entryLeafHash(h), h);
          },
          { minMs: 300 },
        );
        const us = (r: { opsPerSec: number }) => 1e6 / r.opsPerSec;
        const f = (x: number) => x.toFixed(2);
        // The best ratio any store of this format could reach here: an append must at least
        // encode the body, hash three times (entry, leaf, amortised node) and insert the row.
        const floor = us(baseline) / (us(baseline) + us(enc) + us(hashes));
        return {
          name: this.name,
          figure,
          baseline,
          extra: {
            entries,
            append_us: f(us(figure)),
            insert_us: f(us(baseline)),
            encode_us: f(us(enc)),
            sha256x3_us: f(us(hashes)),
            ceiling_ratio: floor.toFixed(3),
          },
        };
      } finally {
        s.done();
      }
    },
  };
}

const verifyBench: Bench = {
  name: "journal verify (chain, bodies, Merkle, index audit, checkpoint signatures)",
  async run(): Promise<BenchResult> {
    const s = scratch();
    try {
      const key = generateKeyPair();
      const path = join(s.dir, "journal.db");
      const store = SqliteJournalStore.open(path, {
        create: true,
        synchronous: "NORMAL",
        checkpointEvery: 1000,
        worldKey: key,
        stateProvider: () => ({ state_root: BENCH_MANIFEST, manifest_hash: BENCH_MANIFEST }),
      });
      store.appendSync("genesis", genesis(key));
      const N = 50_000;
      for (let i = 0; i < N; i += 500)
        store.appendManySync(
          Array.from({ length: 500 }, (_, k) => ({ kind: "event" as const, body: benchEvent(i + k) })),
        );
      const entries = store.countSync();
      store.closeSync();
      const figure = await measure(
        "verifyJournal",
        async () => {
          const r = await verifyJournal(path);
          if (!r.ok) throw new Error(r.message);
        },
        { minMs: 2000, batch: entries, warmup: 1 },
      );
      const db = new Database(path, { readonly: true });
      const scan = db.prepare("SELECT seq, kind, body, prev_hash, hash FROM entries ORDER BY seq");
      // The raw side hashes the way a careful reader would: one one-shot call per row
      // (createHash().update()… would cost it three times as much; see cbor.bench.ts).
      const baseline = await measure(
        "raw iterate + one-shot sha256 chain",
        () => {
          let buf = Buffer.alloc(4096);
          for (const r of scan.iterate() as Iterable<{
            seq: number;
            kind: string;
            body: Buffer;
            hash: Buffer;
            prev_hash: Buffer;
          }>) {
            const n = 40 + 1 + r.kind.length + r.body.length;
            if (n > buf.length) buf = Buffer.alloc(2 * n);
            buf.set(r.prev_hash, 0);
            buf.writeBigUInt64BE(BigInt(r.seq), 32);
            buf[40] = r.kind.length;
            buf.write(r.kind, 41, "latin1");
            buf.set(r.body, 41 + r.kind.length);
            oneShot("sha256", buf.subarray(0, n), "binary");
          }
        },
        { minMs: 2000, batch: entries, warmup: 1 },
      );
      db.close();
      return { name: this.name, figure, baseline, extra: { entries } };
    } finally {
      s.done();
    }
  },
};

const proofBench: Bench = {
  name: "inclusion proofs from the store, generated + verified (pure verifier)",
  async run(): Promise<BenchResult> {
    const s = scratch();
    try {
      const key = generateKeyPair();
      const store = SqliteJournalStore.open(join(s.dir, "journal.db"), { create: true, synchronous: "NORMAL" });
      store.appendSync("genesis", genesis(key));
      for (let i = 0; i < 100_000; i += 1000)
        store.appendManySync(
          Array.from({ length: 1000 }, (_, k) => ({ kind: "event" as const, body: benchEvent(i + k) })),
        );
      const size = store.countSync();
      const root = store.rootSync();
      const hashes = Array.from({ length: 1024 }, (_, i) => {
        const seq = (i * 7919) % size;
        return { seq, hash: store.getSync(seq)!.hash };
      });
      let i = 0;
      const figure = await measure("inclusionProof + verifyEntryInclusion", () => {
        const h = hashes[i++ % hashes.length]!;
        if (!verifyEntryInclusion(h.hash, h.seq, size, store.inclusionProofSync(h.seq, size), root))
          throw new Error("proof failed");
      });
      store.closeSync();
      const input = Buffer.alloc(65, 1);
      const baseline = await measure(
        "raw one-shot node:crypto sha256 of 65 bytes",
        () => oneShot("sha256", input, "binary"),
        { batch: 1 },
      );
      return { name: this.name, figure, baseline, extra: { tree_size: size, proof_len: 17 } };
    } finally {
      s.done();
    }
  },
};

/** node:crypto against @noble/curves for ed25519: decides which backend the hot path uses. */
const ed25519Bench: Bench = {
  name: "ed25519 sign and verify, domain-separated (node:crypto vs @noble/curves)",
  async run(): Promise<BenchResult[]> {
    const key = generateKeyPair();
    const secret = key.secretKeyBytes();
    const payload = encodeStored(benchEvent(1));
    const sig = key.sign("receipt", payload);
    const nodeSign = await measure("sign (node:crypto)", () => key.sign("receipt", payload));
    const nobleSign = await measure("sign (noble)", () => signPure(secret, "receipt", payload), {
      minMs: 700,
      warmup: 5,
    });
    const nodeVerify = await measure("verify (node:crypto)", () => verify(key.publicKey, "receipt", payload, sig));
    const nobleVerify = await measure("verify (noble)", () => verifyPure(key.publicKey, "receipt", payload, sig), {
      minMs: 700,
      warmup: 5,
    });
    return [
      { name: "ed25519 sign", figure: nodeSign, baseline: nobleSign },
      { name: "ed25519 verify", figure: nodeVerify, baseline: nobleVerify },
    ];
  },
};

export const benchmarks: Bench[] = [
  ed25519Bench,
  appendBench("FULL", 1),
  appendBench("NORMAL", 1),
  appendBench("FULL", 100),
  appendBench("NORMAL", 100),
  verifyBench,
  proofBench,
];
