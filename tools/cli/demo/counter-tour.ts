/**
 * @module The counter part of `wk demo`: create a keyed-counter world, send events to
 * several cells, replay it with a fresh kernel, fork it, verify it, and watch `verify`
 * catch a tampered copy at the exact seq.
 */
import { cpSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { verifyJournal, worldPaths } from "../../../kernel/journal/index.js";
import { createWorld, forkWorld, replayWorld, sourceFromAirDir, type World } from "../../../kernel/world/index.js";
import { REPO_ROOT, say, step } from "./say.js";

function counts(w: World, keys: string[]): string {
  return keys
    .map((k) => `${k}=${(w.cellState("demo/Counter@1", k) as { count?: number } | undefined)?.count ?? "-"}`)
    .join("  ");
}

/** Runs the counter tour in `base/counter`; returns the world dir. */
export async function counterTour(base: string): Promise<string> {
  const dir = join(base, "counter");
  step("1. Create a world from AIR (worlds/counter) with the AssemblyScript counter module");
  const world = await createWorld(dir, sourceFromAirDir(join(REPO_ROOT, "worlds/counter")), {});
  say(`world ${world.id}\n   manifest ${world.catalog.manifestHash}`);

  step('2. Send 30 events to three cells (keyed by "key"); crossing a hundred emits a milestone event');
  const keys = ["alice", "bob", "carol"];
  await world.sendMany(
    Array.from({ length: 30 }, (_, i) => ({
      schema: "demo/CounterEvent@1",
      json: { key: keys[i % 3]!, by: 10 + (i % 5) * 3 },
    })),
  );
  const live = world.stateRefs().state_root;
  say(`state: ${counts(world, keys)}\n   state root ${live}`);
  const cp = await world.checkpoint();
  say(`signed checkpoint at seq ${cp} (Merkle root over every entry + state root, world key)`);
  await world.close();

  step("3. Replay the journal with a fresh kernel (no adapter, modules re-run)");
  const r = await replayWorld(dir);
  say(
    `${r.ok ? "ok" : "DIVERGED"}: ${r.entries} entries, ${r.steps} steps, state root ${r.state_root}${r.state_root === live ? "  (= live)" : "  (≠ live!)"}`,
  );
  if (!r.ok || r.state_root !== live) throw new Error("replay did not reproduce the live state");

  step("4. Fork at seq 20 and let the fork diverge");
  const fork = await forkWorld(dir, 20, join(base, "counter-fork"));
  say(`fork starts at: ${counts(fork, keys)}`);
  await fork.send("demo/CounterEvent@1", { key: "alice", by: 1000 });
  say(`fork after +1000 for alice: ${counts(fork, keys)}  (the parent is untouched)`);
  await fork.close();

  step("5. Verify: hash chain, Merkle tree and every signature");
  const v = await verifyJournal(worldPaths(dir).journal);
  say(`${v.ok ? "ok" : "FAILED"}: ${v.entries} entries, ${v.checkpoints} checkpoint(s)`);

  step("6. An attacker with disk access flips a byte in a copy; verify names the seq");
  const tampered = join(base, "counter-tampered");
  cpSync(dir, tampered, { recursive: true });
  const db = new Database(worldPaths(tampered).journal);
  db.exec("DROP TRIGGER IF EXISTS entries_no_update");
  const victim = db
    .prepare("SELECT seq, body FROM entries WHERE kind = 'step' ORDER BY seq LIMIT 1 OFFSET 5")
    .get() as { seq: number; body: Buffer };
  const body = Buffer.from(victim.body);
  body[body.length - 1]! ^= 0x01; // a step body is a non-empty CBOR map
  for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[])
    db.exec(`DROP TRIGGER "${t.name}"`);
  db.prepare("UPDATE entries SET body = ? WHERE seq = ?").run(body, victim.seq);
  db.close();
  const bad = await verifyJournal(worldPaths(tampered).journal);
  say(
    `${bad.ok ? "NOT CAUGHT" : "caught"}: first bad seq ${bad.first_bad_seq} (${bad.fault}); we flipped seq ${victim.seq}`,
  );
  if (bad.ok || bad.first_bad_seq !== victim.seq) throw new Error("tampering was not caught at the right seq");
  return dir;
}
