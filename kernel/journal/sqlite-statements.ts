/**
 * @module Every SQL statement the SQLite journal runs, prepared once per connection.
 * Write statements exist only on a writable connection; a read-only store refuses writes
 * before it could reach one.
 */
import type Database from "better-sqlite3";
import { RARE_KINDS_SQL } from "./sqlite-open.js";

/** A prepared statement (a named interface, so the declaration files can spell it). */
export interface Stmt extends Database.Statement<unknown[], unknown> {}

/** The prepared statements of one connection. */
export type Statements = ReturnType<typeof prepareStatements>;

/** Every statement the store runs, prepared once per connection (write statements only when writable). */
export function prepareStatements(db: Database.Database, storageVersion: number) {
  const cols = "seq, kind, body, prev_hash, hash";
  const ro = (sql: string): Stmt => db.prepare(sql);
  // A read-only store refuses writes before reaching a write statement (see `writable`).
  // A statement that returns its single column's value (named type: declarations must spell it).
  const column = (sql: string): Stmt => db.prepare(sql).pluck();
  const rw = (sql: string): Stmt => (db.readonly ? (undefined as unknown as Stmt) : db.prepare(sql));
  return {
    head: ro("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1"),
    get: ro(`SELECT ${cols} FROM entries WHERE seq = ?`),
    hashRange: column("SELECT hash FROM entries WHERE seq >= ? AND seq <= ? ORDER BY seq"),
    range: ro(`SELECT ${cols} FROM entries WHERE seq >= ? AND seq <= ? ORDER BY seq`),
    page: ro(`SELECT ${cols} FROM entries WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?`),
    latestOfKind: ro(`SELECT ${cols} FROM entries WHERE kind = ? ORDER BY seq DESC LIMIT 1`),
    // The term repeats the partial index's WHERE verbatim, so storage v3 answers from the index;
    // older files (read-only) scan.
    latestRare: ro(
      `SELECT ${cols} FROM entries WHERE ${RARE_KINDS_SQL} AND kind = ? AND seq <= ? ORDER BY seq DESC LIMIT 1`,
    ),
    rareRange: ro(`SELECT ${cols} FROM entries WHERE ${RARE_KINDS_SQL} AND seq >= ? AND seq <= ? ORDER BY seq`),
    // The rare kinds that carry rules state (not the frequent snapshots and checkpoints).
    ruleRange: ro(
      `SELECT ${cols} FROM entries WHERE ${RARE_KINDS_SQL} AND kind NOT IN ('snapshot', 'checkpoint') AND seq >= ? AND seq <= ? ORDER BY seq`,
    ),
    blobs: ro("SELECT hash, bytes FROM blobs ORDER BY hash"),
    erasureIndex: ro("SELECT hash, seq FROM erasures ORDER BY seq"),
    receiptIndex: ro("SELECT intent_id, seq FROM receipts ORDER BY seq"),
    // Files before storage v4 (read-only here) have no ingress key table, and held no keys.
    ingressKeyIndex: ro(
      storageVersion >= 4
        ? "SELECT key, seq, request_hash FROM ingress_keys ORDER BY seq"
        : "SELECT NULL AS key, NULL AS seq, NULL AS request_hash WHERE 0",
    ),
    ingressKeyOf: ro(
      storageVersion >= 4
        ? "SELECT seq, request_hash FROM ingress_keys WHERE key = ?"
        : "SELECT NULL AS seq, NULL AS request_hash WHERE ? IS NULL AND 0",
    ),
    insertIngressKey: rw("INSERT INTO ingress_keys (key, seq, request_hash) VALUES (?, ?, ?)"),
    getBlob: ro("SELECT bytes FROM blobs WHERE hash = ?"),
    hasBlob: ro("SELECT 1 FROM blobs WHERE hash = ?"),
    getErasure: ro("SELECT seq FROM erasures WHERE hash = ?"),
    insert: rw("INSERT INTO entries (seq, kind, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?)"),
    putBlob: rw("INSERT OR IGNORE INTO blobs (hash, bytes) VALUES (?, ?)"),
    deleteBlob: rw("DELETE FROM blobs WHERE hash = ?"),
    insertReceipt: rw("INSERT INTO receipts (intent_id, seq) VALUES (?, ?)"),
    receiptOf: column("SELECT seq FROM receipts WHERE intent_id = ?"),
    putErasure: rw("INSERT OR REPLACE INTO erasures (hash, seq) VALUES (?, ?)"),
  };
}
