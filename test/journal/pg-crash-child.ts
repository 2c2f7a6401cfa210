/**
 * @module Crash-test writer for PostgreSQL (spawned by pg-crash.test.ts, killed with SIGKILL at
 * random): opens or creates the world as a `PgWorldJournal`, then appends forever — single
 * entries, batches with receipts, blobs — with automatic checkpoints. Before each append it
 * prints `begin <first seq> <entries> <first event index>`; only after the append resolved
 * (committed in the database) it prints `entry <seq> <hash>` per entry and `blob <hash>` for the
 * blobs put before it (a blob is durable with the next journal write). Writes are synchronous,
 * so a line printed is a line the parent gets. What it appends comes from a seeded generator.
 * argv: <url> <world id> <world secret key hex> <seed, an integer in [0, 2^32)> <mirror dir>.
 */
import { writeSync } from "node:fs";
import { toHex } from "../../air/index.js";
import { KeyPair } from "../../kernel/crypto/keys.js";
import { isJournalError } from "../../kernel/journal/errors.js";
import { PgWorldJournal } from "../../kernel/journal/pg-world-journal.js";
import type { AppendInput } from "../../kernel/journal/store.js";
import { below, mulberry32 } from "../seeded.js";
import { eventBody, fixedState, genesisBody } from "./helpers.js";

const [url, worldId, secretHex, seedArg, mirrorDir] = process.argv.slice(2) as [string, string, string, string, string];
if (mirrorDir === undefined || !/^[0-9]+$/.test(seedArg))
  throw new Error(`pg-crash-child: argv is <url> <world id> <secret hex> <seed> <mirror dir>, got ${process.argv}`);
const random = mulberry32(Number(seedArg));
const key = new KeyPair(Uint8Array.from(Buffer.from(secretHex, "hex")));
const say = (line: string) => writeSync(1, line + "\n");
const opts = { checkpointEvery: 16, worldKey: key, stateProvider: fixedState, mirrorDir };

const j = await PgWorldJournal.open(url, worldId, opts).catch((e: unknown) => {
  if (isJournalError(e, "journal.not_found")) return PgWorldJournal.open(url, worldId, { ...opts, create: true });
  throw e;
});

let blobs: string[] = [];
async function append(items: AppendInput[], firstEvent: number): Promise<void> {
  say(`begin ${j.countSync()} ${items.length} ${firstEvent}`);
  const out = await j.appendMany(items);
  for (const a of out) say(`entry ${a.seq} ${toHex(a.hash)}`);
  for (const b of blobs) say(`blob ${b}`);
  blobs = [];
}

if (j.countSync() === 0) await append([{ kind: "genesis", body: genesisBody(key) }], -1);
say("ready");
for (let i = 0; ;) {
  const r = random();
  if (r < 0.15)
    blobs.push(j.putBlobSync(new TextEncoder().encode(`blob ${seedArg} ${i++} ${"x".repeat(below(random, 3000))}`)));
  else {
    const n = r < 0.5 ? 1 : 1 + below(random, 25);
    const first = i;
    const items: AppendInput[] = Array.from({ length: n }, () => ({ kind: "event" as const, body: eventBody(i++) }));
    if (random() < 0.3) items.push({ kind: "effect_receipt", body: { intent_id: `sha256:${seedArg}-${i++}` } });
    await append(items, first);
  }
}
