/**
 * @module The chain lane (kernel/journal/chain-lane.ts) names the same first fault as the
 * one-thread walk, on a journal long enough that the lane hands its worker many batches and
 * the store's Merkle nodes window by window: random tampering (a flipped bit in any column,
 * a deleted or swapped row, a doctored Merkle node, an edited checkpoint root or signature)
 * combined with a checker that fails at a random seq, so the two threads race to the answer.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { CborValue } from "../../air/index.js";
import type { CheckpointBody } from "../../kernel/journal/entries.js";
import { nodeKey } from "../../kernel/journal/sqlite-merkle.js";
import { LANE_MIN_ENTRIES, verifyJournal, type VerifyOptions } from "../../kernel/journal/verify.js";
import { below, mulberry32, reproduce, testSeed } from "../seeded.js";
import { rechain, tamper } from "./attacker.js";
import { makeJournal, tempDir } from "./helpers.js";

const EVENTS = 5000;

let built: string | undefined;

/** genesis + 5,000 events, a checkpoint every 400 entries (built once; cases tamper with copies). */
function base(): string {
  if (built !== undefined) return built;
  const { dir } = tempDir();
  const path = join(dir, "journal.db");
  makeJournal(path, EVENTS, { every: 400 }).store.closeSync();
  return (built = path);
}

type Tampering = { name: string; apply(path: string): void };

function tampering(random: () => number, entries: number, checkpoints: number[]): Tampering {
  const seq = below(random, entries);
  switch (below(random, 6)) {
    case 0: {
      const column = (["body", "prev_hash", "hash"] as const)[below(random, 3)]!;
      const at = below(random, 1 << 16);
      const bit = below(random, 8);
      return {
        name: `flip bit ${bit} of ${column}[${at}] at seq ${seq}`,
        apply: (p) =>
          tamper(p, (db) => {
            const v = db.prepare(`SELECT ${column} FROM entries WHERE seq = ?`).pluck().get(seq) as Buffer;
            v[at % v.length]! ^= 1 << bit;
            db.prepare(`UPDATE entries SET ${column} = ? WHERE seq = ?`).run(v, seq);
          }),
      };
    }
    case 1:
      return {
        name: `delete seq ${seq}`,
        apply: (p) => tamper(p, (db) => db.prepare("DELETE FROM entries WHERE seq = ?").run(seq)),
      };
    case 2: {
      const a = Math.min(seq, entries - 2);
      return {
        name: `swap seqs ${a} and ${a + 1}`,
        apply: (p) =>
          tamper(p, (db) => {
            const get = db.prepare("SELECT kind, body, prev_hash, hash FROM entries WHERE seq = ?");
            const x = get.get(a) as Record<string, unknown>;
            const y = get.get(a + 1) as Record<string, unknown>;
            const put = db.prepare(
              "UPDATE entries SET kind = @kind, body = @body, prev_hash = @prev_hash, hash = @hash WHERE seq = @seq",
            );
            put.run({ ...y, seq: a });
            put.run({ ...x, seq: a + 1 });
          }),
      };
    }
    case 3: {
      const level = 4 + below(random, 4);
      const index = below(random, Math.floor(entries / 2 ** level));
      return {
        name: `doctor Merkle node level ${level} index ${index}`,
        apply: (p) =>
          tamper(p, (db) =>
            db.prepare("UPDATE merkle SET hash = ? WHERE node = ?").run(Buffer.alloc(32, 9), nodeKey(level, index)),
          ),
      };
    }
    default: {
      const cp = checkpoints[below(random, checkpoints.length)]!;
      const field = below(random, 2) === 0 ? "root" : "signature";
      return {
        name: `re-chain from checkpoint ${cp} with an edited ${field}`,
        apply: (p) =>
          rechain(p, cp, (s, _k, body) => {
            if (s !== cp) return null;
            const b = body as CheckpointBody;
            const edited = Uint8Array.from(field === "root" ? b.root : b.signature);
            edited[3]! ^= 0x40;
            return { ...b, [field]: edited } as unknown as CborValue;
          }),
      };
    }
  }
}

describe("chain lane", () => {
  it("an untouched journal verifies the same on both lanes", async () => {
    expect(EVENTS).toBeLessThan(LANE_MIN_ENTRIES); // so these cases force the lane
    const path = base();
    const inline = await verifyJournal(path, { lane: "inline" });
    expect(inline.ok).toBe(true);
    expect(await verifyJournal(path, { lane: "worker" })).toEqual(inline);
  });

  it("property: tampering plus a failing checker gives the same first fault on both lanes", async () => {
    const seed = testSeed();
    const random = mulberry32(seed);
    const path = base();
    const { dir } = tempDir();
    const clean = await verifyJournal(path, { lane: "inline" });
    const all = clean.entries;
    const checkpoints = Array.from({ length: clean.checkpoints }, (_, i) => 400 * (i + 1)).filter((s) => s < all);
    for (let round = 0; round < 24; round++) {
      const t = tampering(random, all, checkpoints);
      const failAt = below(random, 3) === 0 ? undefined : below(random, all);
      const copy = join(dir, `case-${round}.db`);
      copyFileSync(path, copy);
      t.apply(copy);
      const opts: VerifyOptions = {
        ...(failAt === undefined
          ? {}
          : { checks: [(e) => (e.seq === failAt ? { fault: "policy", message: `no entry ${failAt}` } : null)] }),
      };
      const a = await verifyJournal(copy, { ...opts, lane: "inline" });
      const b = await verifyJournal(copy, { ...opts, lane: "worker" });
      const what = `${t.name}${failAt === undefined ? "" : `, checker fails at ${failAt}`} (${reproduce(seed, "test/journal/chain-lane.test.ts")})`;
      expect(b, what).toEqual(a);
      expect(a.ok, what).toBe(false);
    }
  });

  it("a walk from a seq part-way or held to an anchor cannot use a lane, and says so", async () => {
    const path = base();
    await expect(verifyJournal(path, { lane: "worker", from: 10 })).rejects.toMatchObject({
      code: "journal.out_of_range",
    });
  });
});
