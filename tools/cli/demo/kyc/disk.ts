/**
 * @module The attacker with disk access and none of the keys: edits a world's journal.db
 * directly (dropping the append-only triggers first, as anyone holding the file can), and
 * searches every file of a world for bytes that must be gone. Each edit returns a short
 * description of what it did, for the verdict table.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { worldPaths } from "../../../../kernel/journal/world-paths.js";

function withJournal<T>(dir: string, edit: (db: Database.Database) => T): T {
  const db = new Database(worldPaths(dir).journal);
  try {
    db.exec("DROP TRIGGER IF EXISTS entries_no_update; DROP TRIGGER IF EXISTS entries_no_delete;");
    return db.transaction(() => edit(db))();
  } finally {
    db.close();
  }
}

/** Flips the last byte of one column of the entry at `seq`. */
export function flipByte(dir: string, seq: number, column: "body" | "hash"): string {
  return withJournal(dir, (db) => {
    const row = db.prepare(`SELECT ${column} AS v FROM entries WHERE seq = ?`).get(seq) as { v: Buffer };
    const v = Buffer.from(row.v);
    v[v.length - 1] = v[v.length - 1]! ^ 0x01;
    db.prepare(`UPDATE entries SET ${column} = ? WHERE seq = ?`).run(v, seq);
    return `flipped one bit of the ${column} of seq ${seq}`;
  });
}

/** Deletes the entry at `seq` and moves every later entry up by one, so the seqs stay dense. */
export function removeEntry(dir: string, seq: number): string {
  return withJournal(dir, (db) => {
    db.prepare("DELETE FROM entries WHERE seq = ?").run(seq);
    // Through negative seqs: the primary key must hold after every row of an UPDATE.
    db.prepare("UPDATE entries SET seq = -seq WHERE seq > ?").run(seq);
    db.prepare("UPDATE entries SET seq = -seq - 1 WHERE seq < 0").run();
    return `deleted seq ${seq}, renumbered the rest`;
  });
}

/** Swaps the entries at `seq` and `seq + 1` (kind, body and hashes move; the seqs stay). */
export function swapEntries(dir: string, seq: number): string {
  return withJournal(dir, (db) => {
    db.prepare("UPDATE entries SET seq = -1 WHERE seq = ?").run(seq);
    db.prepare("UPDATE entries SET seq = ? WHERE seq = ?").run(seq, seq + 1);
    db.prepare("UPDATE entries SET seq = ? WHERE seq = -1").run(seq + 1);
    return `swapped seq ${seq} and ${seq + 1}`;
  });
}

/** Every file under `dir` whose bytes contain `needle` (UTF-8). */
export function filesHolding(dir: string, needle: string): string[] {
  const hit = Buffer.from(needle, "utf8");
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((n) => {
      const p = join(d, n);
      return statSync(p).isDirectory() ? walk(p) : readFileSync(p).includes(hit) ? [p] : [];
    });
  return walk(dir);
}
