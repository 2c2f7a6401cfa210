/**
 * @module The store's derived indexes (erasures, receipts) are held to the entries they come
 * from: a row an attacker adds or drops is `index_mismatch`, so `getBlob` can never claim an
 * erasure the journal does not record, nor the store refuse a receipt no entry holds.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashToBytes } from "../../air/index.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { createWorld, sourceFromAirDir, verifyWorld } from "../../kernel/world/index.js";
import { tamper } from "../journal/attacker.js";

const COUNTER = sourceFromAirDir(new URL("../../worlds/counter", import.meta.url).pathname);

async function world(): Promise<{ journal: string; blob: `sha256:${string}` }> {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-idx-")), "w");
  const w = await createWorld(dir, COUNTER);
  await w.send("demo/CounterEvent@1", { key: "a", by: 1 });
  const blob = w.store.putBlobSync(new TextEncoder().encode("personal data"));
  await w.erase(blob, "asked");
  await w.close();
  return { journal: worldPaths(dir).journal, blob };
}

describe("store indexes agree with the entries", () => {
  it("an untouched world verifies", async () => {
    expect(await verifyWorld((await world()).journal)).toMatchObject({ ok: true });
  });

  it("a forged erasure row, or a dropped one, is index_mismatch", async () => {
    const a = await world();
    tamper(a.journal, (db) =>
      db
        .prepare("INSERT INTO erasures (hash, seq) VALUES (?, ?)")
        .run(Buffer.from(hashToBytes(COUNTER.catalog.manifestHash)), 3),
    );
    expect(await verifyWorld(a.journal)).toMatchObject({ ok: false, fault: "index_mismatch", first_bad_seq: 3 });
    const b = await world();
    tamper(b.journal, (db) => db.prepare("DELETE FROM erasures").run());
    expect(await verifyWorld(b.journal)).toMatchObject({ ok: false, fault: "index_mismatch" });
  });

  it("a receipt index row no receipt entry backs is index_mismatch", async () => {
    const a = await world();
    tamper(a.journal, (db) => {
      db.exec("DROP TRIGGER IF EXISTS receipts_no_update; DROP TRIGGER IF EXISTS receipts_no_delete;");
      db.prepare("INSERT INTO receipts (intent_id, seq) VALUES (?, ?)").run("sha256:" + "ab".repeat(32), 2);
    });
    expect(await verifyWorld(a.journal)).toMatchObject({ ok: false, fault: "index_mismatch", first_bad_seq: 2 });
  });
});
