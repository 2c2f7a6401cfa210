/**
 * @module Golden vectors for the entry hash and bodies (test/vectors/journal-entries.json):
 * the formula recomputed by hand, every body canonical and schema-valid, and a real
 * SQLite store fed the same bodies reproducing every hash, the Merkle root and a valid
 * checkpoint signature.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored, encodeStored } from "../../air/index.js";
import { ENTRY_KINDS, parseEntryBody, type EntryKind } from "../../kernel/journal/entries.js";
import { entryHash } from "../../kernel/journal/entry-hash.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { tempDir } from "./helpers.js";

interface Vectors {
  world_public_key: string;
  root: string;
  entries: { label: string; seq: number; kind: EntryKind; prev_hash: string; body_hex: string; hash: string }[];
}
const V = JSON.parse(readFileSync(new URL("../vectors/journal-entries.json", import.meta.url), "utf8")) as Vectors;
const h = (s: string) => Buffer.from(s, "hex");

describe("journal entry vectors", () => {
  it("cover every kind", () => {
    expect(V.entries.map((e) => e.kind).sort()).toEqual([...ENTRY_KINDS].sort());
  });

  for (const v of V.entries) {
    it(`${v.seq} ${v.label}: hash = sha256(prev ‖ u64be seq ‖ u8 len(kind) ‖ kind ‖ body)`, () => {
      const seq = Buffer.alloc(8);
      seq.writeBigUInt64BE(BigInt(v.seq));
      const kind = Buffer.from(v.kind, "utf8");
      const manual = createHash("sha256")
        .update(Buffer.concat([h(v.prev_hash), seq, Buffer.of(kind.length), kind, h(v.body_hex)]))
        .digest("hex");
      expect(manual).toBe(v.hash);
      expect(Buffer.from(entryHash(h(v.prev_hash), v.seq, v.kind, h(v.body_hex))).toString("hex")).toBe(v.hash);
      const value = decodeStored(h(v.body_hex));
      expect(Buffer.from(encodeStored(value)).toString("hex")).toBe(v.body_hex);
      expect(() => parseEntryBody(v.kind, value)).not.toThrow();
    });
  }

  it("a real store fed the same bodies reproduces every hash, the root, and verifies", async () => {
    const { dir } = tempDir();
    const store = SqliteJournalStore.open(join(dir, "journal.db"), { create: true });
    for (const v of V.entries) {
      const a = store.appendSync(v.kind, decodeStored(h(v.body_hex)));
      expect(Buffer.from(a.hash).toString("hex")).toBe(v.hash);
    }
    expect(Buffer.from(store.rootSync()).toString("hex")).toBe(V.root);
    expect(await verifyJournal(store)).toEqual({ ok: true, entries: V.entries.length, checkpoints: 1 });
    store.closeSync();
  });
});
