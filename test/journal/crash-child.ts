/**
 * @module Crash-test writer (spawned by crash.test.ts, killed with SIGKILL at random): opens
 * or creates the journal, then appends forever — single entries, batches, blobs — writing
 * one line per entry to stdout with a synchronous write only after the append returned.
 * What it appends is drawn from a generator seeded by the parent.
 * argv: <journal path> <world secret key hex> <seed, an integer in [0, 2^32)>.
 */
import { existsSync, writeSync } from "node:fs";
import { toHex } from "../../air/index.js";
import { KeyPair } from "../../kernel/crypto/keys.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { below, mulberry32 } from "../seeded.js";
import { eventBody, fixedState, genesisBody } from "./helpers.js";

const [path, secretHex, seedArg] = process.argv.slice(2) as [string, string, string | undefined];
if (seedArg === undefined || !/^[0-9]+$/.test(seedArg))
  throw new Error(`crash-child: no seed given (argv: <journal> <secret hex> <seed>), got ${JSON.stringify(seedArg)}`);
const random = mulberry32(Number(seedArg));
const key = new KeyPair(Uint8Array.from(Buffer.from(secretHex, "hex")));
const opts = { checkpointEvery: 16, worldKey: key, stateProvider: fixedState };
const store = SqliteJournalStore.open(path, { ...opts, create: !existsSync(path) });
const say = (line: string) => writeSync(1, line + "\n");

if (store.countSync() === 0) {
  const g = store.appendSync("genesis", genesisBody(key));
  say(`entry ${g.seq} ${toHex(g.hash)}`);
}
say("ready");
let i = 0;
for (;;) {
  const r = random();
  if (r < 0.1) {
    const h = store.putBlobSync(new TextEncoder().encode(`blob ${i++} ${"x".repeat(below(random, 3000))}`));
    say(`blob ${h}`);
  } else if (r < 0.55) {
    const a = store.appendSync("event", eventBody(i++));
    say(`entry ${a.seq} ${toHex(a.hash)}`);
  } else {
    const n = 1 + below(random, 20);
    const out = store.appendManySync(
      Array.from({ length: n }, () => ({ kind: "event" as const, body: eventBody(i++) })),
    );
    for (const a of out) say(`entry ${a.seq} ${toHex(a.hash)}`);
  }
}
