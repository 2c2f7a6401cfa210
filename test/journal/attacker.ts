/**
 * @module An attacker with write access to the journal file: drops the append-only
 * triggers, edits rows, and can rewrite a whole suffix with recomputed hashes and a
 * recomputed Merkle table, using the public hashing code. What it lacks is the world's
 * secret key and any anchor kept elsewhere.
 */
import Database from "better-sqlite3";
import { encodeStored, decodeStored, type CborValue } from "../../air/index.js";
import { entryHash, entryLeafHash, ZERO_HASH } from "../../kernel/journal/entry-hash.js";
import { MerkleFrontier } from "../../kernel/journal/merkle.js";
import { nodeKey, STORED_NODE_LEVEL } from "../../kernel/journal/sqlite-merkle.js";

type Row = { seq: number; kind: string; body: Buffer; prev_hash: Buffer; hash: Buffer };

/** Opens the raw file with the triggers gone. */
export function rawOpen(path: string): Database.Database {
  const db = new Database(path);
  db.exec(
    "DROP TRIGGER IF EXISTS entries_no_update; DROP TRIGGER IF EXISTS entries_no_delete; DROP TRIGGER IF EXISTS merkle_no_update; DROP TRIGGER IF EXISTS merkle_no_delete;",
  );
  return db;
}

/** Runs `fn` on the raw file with the triggers dropped. */
export function tamper(path: string, fn: (db: Database.Database) => void): void {
  const db = rawOpen(path);
  try {
    fn(db);
  } finally {
    db.close();
  }
}

/** What a rewrite callback sees: the tree and head as rebuilt so far. */
export interface RechainContext {
  size: number;
  root: Uint8Array;
  prev: Uint8Array;
}

/**
 * Rewrites every entry from `fromSeq`: `edit` may return a new body value (or null to keep
 * it); hashes are recomputed down the chain and the Merkle table is rebuilt from scratch.
 */
export function rechain(
  path: string,
  fromSeq: number,
  edit: (seq: number, kind: string, body: CborValue, ctx: RechainContext) => CborValue | null,
): void {
  tamper(path, (db) => {
    const rows = db.prepare("SELECT seq, kind, body, prev_hash, hash FROM entries ORDER BY seq").all() as Row[];
    const tree = new MerkleFrontier();
    let prev: Uint8Array = ZERO_HASH;
    const update = db.prepare("UPDATE entries SET kind = ?, body = ?, prev_hash = ?, hash = ? WHERE seq = ?");
    db.transaction(() => {
      db.exec("DELETE FROM merkle");
      const node = db.prepare("INSERT INTO merkle (node, hash) VALUES (?, ?)");
      for (const r of rows) {
        let body: Uint8Array = r.body;
        if (r.seq >= fromSeq) {
          const next = edit(r.seq, r.kind, decodeStored(r.body), { size: tree.size, root: tree.root(), prev });
          if (next !== null) body = encodeStored(next);
          const hash = entryHash(prev, r.seq, r.kind, body);
          update.run(r.kind, body, prev, hash, r.seq);
          prev = hash;
        } else prev = r.hash;
        tree.append(entryLeafHash(prev), (level, idx, h) => {
          if (level >= STORED_NODE_LEVEL) node.run(nodeKey(level, idx), h);
        });
      }
    })();
  });
}
