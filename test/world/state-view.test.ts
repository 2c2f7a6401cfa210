/**
 * @module `wk state`'s fast path (kernel/world/state-view.ts) serves exactly what an opened
 * world serves, only from a sealed head, and refuses a head checkpoint the world key did not
 * sign (an attacker with disk access and no keys).
 */
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { decodeStored } from "../../air/cbor/decode.js";
import { World, createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { readSealedState } from "../../kernel/world/state-view.js";
import { ROOT, wk } from "./cli-harness.js";

async function counterWorld(): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-state-view-")), "w");
  const w = await createWorld(dir, sourceFromAirDir(join(ROOT, "worlds/counter")));
  await w.sendMany(
    Array.from({ length: 40 }, (_, i) => ({ schema: "demo/CounterEvent@1", json: { key: `k${i % 4}`, by: 30 + i } })),
  );
  await w.close();
  return dir;
}

describe("wk state's sealed-head reader", () => {
  it("serves the same cells, roots and JSON as an opened world", async () => {
    const dir = await counterWorld();
    const view = readSealedState(dir)!;
    expect(view).toBeDefined();
    const w = await World.open(dir);
    expect(view.stateRoot).toBe(w.state.cells.stateRoot());
    expect(view.modules).toEqual([...w.catalog.modules.keys()]);
    const opened = w.state.cells.list();
    expect(view.cells.map((c) => [c.module, c.key, c.hash])).toEqual(opened.map((c) => [c.module, c.key, c.hash]));
    for (const c of view.cells)
      expect(view.json(c.module, decodeStored(c.bytes))).toEqual(w.cellState(c.module, c.key as string));
    await w.close({ snapshot: false });
  });

  it("answers undefined for a head that is not sealed, and the CLI opens the world instead", async () => {
    const dir = await counterWorld();
    const db = new Database(join(dir, "journal.db"));
    const last = db.prepare("SELECT max(seq) AS s FROM entries").get() as { s: number };
    for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[])
      db.exec(`DROP TRIGGER "${t.name}"`);
    db.prepare("DELETE FROM entries WHERE seq = ?").run(last.s); // the sealing checkpoint, as a crash before it would leave
    db.close();
    expect(readSealedState(dir)).toBeUndefined();
  });

  it("refuses a head checkpoint whose signature was flipped", async () => {
    const dir = await counterWorld();
    const copy = join(dir, "..", "tampered");
    cpSync(dir, copy, { recursive: true });
    const db = new Database(join(copy, "journal.db"));
    for (const t of db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all() as { name: string }[])
      db.exec(`DROP TRIGGER "${t.name}"`);
    const head = db.prepare("SELECT seq, body FROM entries ORDER BY seq DESC LIMIT 1").get() as {
      seq: number;
      body: Buffer;
    };
    const body = Buffer.from(head.body);
    body[body.length - 1]! ^= 1; // the signature is the body's last field
    db.prepare("UPDATE entries SET body = ? WHERE seq = ?").run(body, head.seq);
    db.close();
    expect(() => readSealedState(copy)).toThrow(
      expect.objectContaining({ code: "journal.verify_failed", fault: "bad_signature" }),
    );
    const r = wk("state", "--world", copy, "--json");
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: "journal.verify_failed" });
  });
});
