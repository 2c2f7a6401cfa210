/**
 * @module What only the SQLite store does: append-only triggers, the meta marker, typed
 * refusals of missing / locked / truncated / foreign / random files with their bytes left
 * untouched, fsync policy, automatic checkpoints, erased bytes really gone from disk, and
 * the storage v1 → v2 upgrade of a journal written by an earlier kernel.
 */
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { decodeStored } from "../../air/index.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { STORAGE_VERSION } from "../../kernel/journal/sqlite-open.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { bytesFrom, mulberry32 } from "../seeded.js";
import { codeOf, eventBody, genesisBody, makeJournal, MANIFEST, tempDir } from "./helpers.js";

const digest = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

describe("SQLite journal file", () => {
  it("refuses UPDATE and DELETE on entries (and Merkle nodes) with triggers", () => {
    const { dir } = tempDir();
    const path = join(dir, "journal.db");
    makeJournal(path, 20).store.closeSync();
    const db = new Database(path);
    expect(() => db.prepare("UPDATE entries SET kind = 'event' WHERE seq = 0").run()).toThrow(/append-only/);
    expect(() => db.prepare("DELETE FROM entries WHERE seq = 3").run()).toThrow(/append-only/);
    expect(() => db.prepare("UPDATE merkle SET hash = x'00' WHERE node = 15 * 64 + 4").run()).toThrow(/append-only/);
    expect(() => db.prepare("DELETE FROM merkle").run()).toThrow(/append-only/);
    expect((db.prepare("SELECT count(*) AS n FROM entries").get() as { n: number }).n).toBe(21);
    expect(db.prepare("SELECT value FROM meta WHERE key = 'format'").pluck().get()).toBe("worldkernel-journal");
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    db.close();
  });

  it("uses synchronous=FULL by default and NORMAL on request", () => {
    const { dir } = tempDir();
    const full = SqliteJournalStore.open(join(dir, "a.db"), { create: true });
    const normal = SqliteJournalStore.open(join(dir, "b.db"), { create: true, synchronous: "NORMAL" });
    const sync = (s: SqliteJournalStore) =>
      (s as unknown as { db: Database.Database }).db.pragma("synchronous", { simple: true });
    expect(sync(full)).toBe(2);
    expect(sync(normal)).toBe(1);
    full.closeSync();
    normal.closeSync();
  });

  it("lets one writer in at a time, readers alongside, and frees the lock on close", () => {
    const { dir } = tempDir();
    const path = join(dir, "journal.db");
    const { store } = makeJournal(path, 2);
    expect(codeOf(() => SqliteJournalStore.open(path))).toBe("journal.locked");
    const reader = SqliteJournalStore.open(path, { readonly: true });
    store.appendSync("event", eventBody(99));
    expect(reader.countSync()).toBe(4);
    expect(codeOf(() => reader.appendSync("event", eventBody(1)))).toBe("journal.readonly");
    store.closeSync();
    const again = SqliteJournalStore.open(path);
    expect(again.countSync()).toBe(4);
    again.closeSync();
    reader.closeSync();
  });

  it("refuses to create over an existing file", () => {
    const { dir } = tempDir();
    const path = join(dir, "journal.db");
    writeFileSync(path, "hello");
    expect(codeOf(() => SqliteJournalStore.open(path, { create: true }))).toBe("journal.exists");
    expect(readFileSync(path, "utf8")).toBe("hello");
  });

  describe("bad files get a typed error and stay byte-for-byte untouched", () => {
    const cases: [string, (path: string) => void, string][] = [
      ["random bytes", (p) => writeFileSync(p, bytesFrom(mulberry32(0x5eed), 8192)), "journal.not_a_journal"],
      ["an empty file", (p) => writeFileSync(p, ""), "journal.not_a_journal"],
      ["a text file", (p) => writeFileSync(p, "SQLite format 2 — not really\n"), "journal.not_a_journal"],
      [
        "a foreign SQLite database",
        (p) => {
          const db = new Database(p);
          db.exec("CREATE TABLE people (name TEXT); INSERT INTO people VALUES ('ada')");
          db.close();
        },
        "journal.not_a_journal",
      ],
      [
        "a SQLite database with a foreign meta table",
        (p) => {
          const db = new Database(p);
          db.exec("CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('format', 'other-app')");
          db.close();
        },
        "journal.not_a_journal",
      ],
      [
        "a journal truncated mid-page",
        (p) => {
          makeJournal(p, 300).store.closeSync();
          truncateSync(p, Math.floor(statSync(p).size / 2) + 100);
        },
        "journal.corrupt",
      ],
      [
        "a journal truncated at a page boundary",
        (p) => {
          makeJournal(p, 300).store.closeSync();
          truncateSync(p, 4096 * 3);
        },
        "journal.corrupt",
      ],
      ["a header only", (p) => writeFileSync(p, Buffer.from("SQLite format 3\0", "latin1")), "journal.corrupt"],
    ];
    for (const [label, make, code] of cases) {
      it(label, async () => {
        const { dir } = tempDir();
        const path = join(dir, "journal.db");
        make(path);
        const before = digest(path);
        const filesBefore = readdirSync(dir).sort();
        expect(codeOf(() => SqliteJournalStore.open(path))).toBe(code);
        expect(codeOf(() => SqliteJournalStore.open(path, { readonly: true }))).toBe(code);
        const r = await verifyJournal(path);
        expect(r.ok).toBe(false);
        expect(r.fault).toBe(code === "journal.corrupt" ? "corrupt" : "not_a_journal");
        expect(digest(path)).toBe(before);
        expect(readdirSync(dir).sort()).toEqual(filesBefore);
      });
    }

    it("a missing file", async () => {
      const { dir } = tempDir();
      const path = join(dir, "journal.db");
      expect(codeOf(() => SqliteJournalStore.open(path))).toBe("journal.not_found");
      await expect(verifyJournal(path)).rejects.toMatchObject({ code: "journal.not_found" });
      expect(existsSync(path)).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
    });
  });

  it("writes a signed checkpoint whenever the count crosses a multiple of checkpointEvery", async () => {
    const { dir } = tempDir();
    const path = join(dir, "journal.db");
    const { store } = makeJournal(path, 0, { every: 10 });
    for (let i = 0; i < 25; i++) store.appendSync("event", eventBody(i));
    store.appendManySync(Array.from({ length: 30 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) })));
    const cps = [...store.iterateSync()].filter((e) => e.kind === "checkpoint");
    // One checkpoint per crossing; a batch that crosses several multiples gets one, at its end.
    expect(cps.map((e) => e.seq)).toEqual([10, 20, 58]);
    for (const e of cps) expect((decodeStored(e.body) as { tree_size: number }).tree_size).toBe(e.seq);
    expect(await verifyJournal(store)).toMatchObject({ ok: true, checkpoints: 3 });
    store.closeSync();
  });

  it("checks the signing key against genesis, and lets the kernel swap the state provider", () => {
    const { dir } = tempDir();
    const path = join(dir, "journal.db");
    const key = generateKeyPair();
    const other = generateKeyPair();
    expect(codeOf(() => SqliteJournalStore.open(join(dir, "x.db"), { create: true, checkpointEvery: 5 }))).toBe(
      "journal.no_signing_key",
    );
    const wrong = SqliteJournalStore.open(join(dir, "w.db"), { create: true, worldKey: other });
    expect(codeOf(() => wrong.appendSync("genesis", genesisBody(key)))).toBe("journal.wrong_key");
    wrong.closeSync();
    const { store } = makeJournal(path, 2, { key });
    store.closeSync();
    expect(codeOf(() => SqliteJournalStore.open(path, { worldKey: other }))).toBe("journal.wrong_key");
    const s = SqliteJournalStore.open(path, { worldKey: key, checkpointEvery: 4 });
    const seen: string[] = [];
    const live = `sha256:${"7".repeat(64)}` as const;
    s.setStateProvider(() => {
      seen.push("called");
      return { state_root: live, manifest_hash: MANIFEST };
    });
    s.appendSync("event", eventBody(1));
    const cp = s.latestOfKind("checkpoint")!;
    expect((decodeStored(cp.body) as { state_root: string }).state_root).toBe(live);
    expect(seen.length).toBe(1);
    // Default provider: the latest snapshot's state root, else zero.
    const snapRoot = `sha256:${"8".repeat(64)}` as const;
    s.setStateProvider(() => ({ state_root: snapRoot, manifest_hash: MANIFEST }));
    s.closeSync();
    const d = SqliteJournalStore.open(path, { worldKey: key });
    d.appendSync("snapshot", { state_root: snapRoot, cells_ref: snapRoot, height: 5, manifest_hash: MANIFEST });
    const a = d.checkpointSync();
    expect((decodeStored(d.getSync(a.seq)!.body) as { state_root: string }).state_root).toBe(snapRoot);
    d.closeSync();
  });

  it("erasure removes the bytes from the file on disk, not just from queries", () => {
    const { dir } = tempDir();
    const path = join(dir, "journal.db");
    const { store } = makeJournal(path, 3);
    const secret = `patient record ${Buffer.from(bytesFrom(mulberry32(0xe7a5e), 16)).toString("hex")} `.repeat(200);
    const h = store.putBlobSync(new TextEncoder().encode(secret));
    store.appendSync("event", { ...eventBody(1), value: { blob: h } });
    const onDisk = () => readdirSync(dir).some((f) => readFileSync(join(dir, f)).includes(secret.slice(0, 60)));
    expect(onDisk()).toBe(true);
    store.eraseSync(h, "right to erasure");
    expect(onDisk()).toBe(false);
    store.closeSync();
    expect(onDisk()).toBe(false);
  });

  it("reads a storage v1 journal as it is and upgrades it to v2 when opened for writing, proofs unchanged", async () => {
    const { dir } = tempDir();
    const path = join(dir, "journal.db");
    copyFileSync(new URL("../fixtures/journals/counter_v1/journal.db", import.meta.url), path);
    const meta = (): Record<string, string> => {
      const db = new Database(path, { readonly: true });
      try {
        return Object.fromEntries(
          (db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[]).map((r) => [
            r.key,
            r.value,
          ]),
        );
      } finally {
        db.close();
      }
    };
    const proofs = (store: SqliteJournalStore) => {
      const n = store.countSync();
      return {
        root: Buffer.from(store.rootSync()).toString("hex"),
        roots: [16, 17, 64, 100].map((size) => Buffer.from(store.rootSync(size)).toString("hex")),
        inclusion: [0, 15, 16, 77, n - 1].map((i) =>
          store.inclusionProofSync(i).map((h) => Buffer.from(h).toString("hex")),
        ),
        consistency: [1, 16, 33, 100].map((m) =>
          store.consistencyProofSync(m).map((h) => Buffer.from(h).toString("hex")),
        ),
        nodes: [
          [4, 0],
          [5, 3],
          [7, 0],
        ].map(([l, i]) => Buffer.from(store.nodeAt(l!, i!)!).toString("hex")),
      };
    };
    expect(meta().storage_version).toBe("1");
    expect(await verifyJournal(path)).toMatchObject({ ok: true, entries: 131 });
    const v1 = SqliteJournalStore.open(path, { readonly: true });
    const before = proofs(v1);
    v1.closeSync();
    expect(meta().storage_version).toBe("1");

    const store = SqliteJournalStore.open(path);
    expect(meta().storage_version).toBe(String(STORAGE_VERSION));
    expect(proofs(store)).toEqual(before);
    for (let i = 0; i < 40; i++) store.appendSync("event", eventBody(i));
    store.closeSync();
    expect(await verifyJournal(path)).toMatchObject({ ok: true, entries: 171 });
    const db = new Database(path);
    expect(db.prepare("SELECT count(*) FROM merkle").pluck().get()).toBe(10 + 5 + 2 + 1); // perfect nodes of levels 4..7 in 171 leaves
    expect(() => db.prepare("UPDATE merkle SET hash = x'00'").run()).toThrow(/append-only/);
    expect(() => db.prepare("DELETE FROM merkle").run()).toThrow(/append-only/);
    db.close();
  });
});
