/**
 * @module Opening a journal file safely. A file is inspected read-only before anything
 * could write to it, so a missing, truncated, foreign or random file is refused with a
 * typed error and its bytes stay untouched. Writers take an exclusive lock held by a
 * sidecar SQLite connection (`<file>.lock`): the OS drops it when the process dies, so a
 * crash never leaves a stale lock, and a second writer (any process) gets `journal.locked`.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync, renameSync, rmSync } from "node:fs";
import Database from "better-sqlite3";
import { JournalError } from "./errors.js";
import { NODE_KEY_SQL } from "./sqlite-merkle.js";

type Db = Database.Database;

/** The `meta.format` marker that identifies a worldkernel journal. */
export const JOURNAL_MARKER = "worldkernel-journal";
/**
 * Storage layout version of the SQLite file (tables, triggers); independent of entry hashing.
 * 4 adds the `ingress_keys` index (idempotency keys of ingress events).
 * 3 adds a partial index over the rare entry kinds (genesis, keys, governance, snapshots,
 * checkpoints, erasures), so the kernel finds them without scanning the log. 2 keys Merkle
 * nodes by completion order (see sqlite-merkle.ts); 1 keyed them by (level, index), which
 * made every commit dirty pages across the table. Older files are upgraded when opened for
 * writing and read as they are otherwise.
 */
export const STORAGE_VERSION = 4;

/** Entry kinds kept in the partial `entries_rare` index (storage v3). */
export const RARE_KINDS = [
  "genesis",
  "keys",
  "proposal",
  "shadow_report",
  "approval",
  "apply",
  "snapshot",
  "checkpoint",
  "erasure",
] as const;
/** The index's WHERE term; a query uses the index only when it repeats this term verbatim. */
export const RARE_KINDS_SQL = `kind IN (${RARE_KINDS.map((k) => `'${k}'`).join(", ")})`;
const RARE_INDEX = `CREATE INDEX entries_rare ON entries (kind, seq) WHERE ${RARE_KINDS_SQL};`;

const MERKLE_TABLE = `
CREATE TABLE merkle (node INTEGER PRIMARY KEY, hash BLOB NOT NULL);
CREATE TRIGGER merkle_no_update BEFORE UPDATE ON merkle BEGIN SELECT RAISE(ABORT, 'merkle nodes are append-only: UPDATE refused'); END;
CREATE TRIGGER merkle_no_delete BEFORE DELETE ON merkle BEGIN SELECT RAISE(ABORT, 'merkle nodes are append-only: DELETE refused'); END;`;

// Idempotency keys of ingress events (storage v3): a retry under the same key finds the first event.
const INGRESS_KEYS = `
CREATE TABLE ingress_keys (key TEXT PRIMARY KEY, seq INTEGER NOT NULL, request_hash TEXT NOT NULL) WITHOUT ROWID;
CREATE TRIGGER ingress_keys_no_update BEFORE UPDATE ON ingress_keys BEGIN SELECT RAISE(ABORT, 'ingress keys are append-only: UPDATE refused'); END;
CREATE TRIGGER ingress_keys_no_delete BEFORE DELETE ON ingress_keys BEGIN SELECT RAISE(ABORT, 'ingress keys are append-only: DELETE refused'); END;`;

// v1 → v2: re-key the Merkle nodes (derived data; verify audits them against the entries).
// RENAME keeps the triggers' names, so they go first; DROP TABLE fires no triggers.
const UPGRADE_V1 = `
DROP TRIGGER merkle_no_update;
DROP TRIGGER merkle_no_delete;
ALTER TABLE merkle RENAME TO merkle_v1;
${MERKLE_TABLE}
INSERT INTO merkle (node, hash) SELECT ${NODE_KEY_SQL}, hash FROM merkle_v1 ORDER BY 1;
DROP TABLE merkle_v1;
UPDATE meta SET value = '2' WHERE key = 'storage_version';
`;

// v2 → v3: the partial index over rare kinds (derived data).
const UPGRADE_V2 = `
${RARE_INDEX}
UPDATE meta SET value = '3' WHERE key = 'storage_version';
`;

// v3 → v4: the ingress key index. Earlier kernels wrote no idempotency keys, so it starts empty.
const UPGRADE_V3 = `
${INGRESS_KEYS}
UPDATE meta SET value = '4' WHERE key = 'storage_version';
`;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE entries (
  seq INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  body BLOB NOT NULL,
  prev_hash BLOB NOT NULL,
  hash BLOB NOT NULL
);
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'journal entries are append-only: UPDATE refused'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries BEGIN SELECT RAISE(ABORT, 'journal entries are append-only: DELETE refused'); END;
${RARE_INDEX}
${MERKLE_TABLE}
CREATE TABLE blobs (hash BLOB PRIMARY KEY, bytes BLOB NOT NULL);
CREATE TABLE erasures (hash BLOB PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE receipts (intent_id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
CREATE TRIGGER receipts_no_update BEFORE UPDATE ON receipts BEGIN SELECT RAISE(ABORT, 'receipts are append-only: UPDATE refused'); END;
CREATE TRIGGER receipts_no_delete BEFORE DELETE ON receipts BEGIN SELECT RAISE(ABORT, 'receipts are append-only: DELETE refused'); END;
${INGRESS_KEYS}
`;

const MAGIC = Buffer.from("SQLite format 3\0", "latin1");

function sqliteCode(e: unknown): string {
  return typeof e === "object" && e !== null && typeof (e as { code?: unknown }).code === "string"
    ? (e as { code: string }).code
    : "";
}

/** Checks the file's header and size without opening it through SQLite. */
function inspectHeader(path: string): void {
  if (!existsSync(path)) throw new JournalError("journal.not_found", "no journal file", { path });
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(100);
    const n = readSync(fd, head, 0, 100, 0);
    if (n < MAGIC.length || !head.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new JournalError(
        "journal.not_a_journal",
        size === 0 ? "empty file, not a journal" : "not an SQLite file, so not a journal",
        { path },
      );
    }
    if (n < 100) throw new JournalError("journal.corrupt", `truncated SQLite header (${n} of 100 bytes)`, { path });
    const rawPage = head.readUInt16BE(16);
    const pageSize = rawPage === 1 ? 65536 : rawPage;
    const pages = head.readUInt32BE(28);
    const headerCountValid = pages !== 0 && head.readUInt32BE(24) === head.readUInt32BE(92);
    if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0)
      throw new JournalError("journal.corrupt", `bad page size ${pageSize}`, { path });
    if (size % pageSize !== 0 || (headerCountValid && size < pages * pageSize)) {
      throw new JournalError(
        "journal.corrupt",
        `file is truncated: ${size} bytes, header says ${pages} pages of ${pageSize}`,
        { path, expected: String(pages * pageSize), actual: String(size) },
      );
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads the meta marker through a read-only connection; maps SQLite failures to typed errors; returns the storage version. */
function checkMeta(db: Db, path: string): number {
  let rows: { key: string; value: string }[];
  try {
    rows = db.prepare("SELECT key, value FROM meta").all() as { key: string; value: string }[];
  } catch (e) {
    const code = sqliteCode(e);
    if (code === "SQLITE_NOTADB")
      throw new JournalError("journal.not_a_journal", "not an SQLite database", { path, cause: e });
    if (code.startsWith("SQLITE_CORRUPT"))
      throw new JournalError("journal.corrupt", "SQLite reports corruption", { path, cause: e });
    throw new JournalError("journal.not_a_journal", "SQLite file without a journal meta table", { path, cause: e });
  }
  const meta = new Map(rows.map((r) => [r.key, r.value]));
  if (meta.get("format") !== JOURNAL_MARKER)
    throw new JournalError("journal.not_a_journal", "SQLite file without the worldkernel journal marker", { path });
  const version = Number(meta.get("storage_version"));
  if (!(version >= 1 && version <= STORAGE_VERSION)) {
    throw new JournalError(
      "journal.unsupported_version",
      `journal storage version ${meta.get("storage_version")} is not supported (max ${STORAGE_VERSION})`,
      { path },
    );
  }
  return version;
}

/** The storage version of an open journal (checked when it was opened). */
export function storageVersion(db: Db): number {
  return Number(db.prepare("SELECT value FROM meta WHERE key = 'storage_version'").pluck().get());
}

function mapOpenError(e: unknown, path: string): never {
  if (e instanceof JournalError) throw e;
  const code = sqliteCode(e);
  if (code === "SQLITE_NOTADB")
    throw new JournalError("journal.not_a_journal", "not an SQLite database", { path, cause: e });
  if (code.startsWith("SQLITE_CORRUPT"))
    throw new JournalError("journal.corrupt", "SQLite reports corruption", { path, cause: e });
  if (code === "SQLITE_BUSY") throw new JournalError("journal.locked", "journal is busy", { path, cause: e });
  throw e;
}

/** Opens an existing journal read-only after checking it is one. */
export function openReadonly(path: string): Db {
  inspectHeader(path);
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    checkMeta(db, path);
    return db;
  } catch (e) {
    db?.close();
    return mapOpenError(e, path);
  }
}

/** Takes the writer lock for `path`; throws `journal.locked` when another writer holds it. */
export function takeWriterLock(path: string): Db {
  const lock = new Database(`${path}.lock`, { timeout: 0 });
  try {
    lock.pragma("journal_mode = MEMORY"); // nothing is ever written: no -journal file beside it
    lock.exec("BEGIN EXCLUSIVE");
  } catch (e) {
    lock.close();
    if (sqliteCode(e) === "SQLITE_BUSY" || sqliteCode(e) === "SQLITE_LOCKED") {
      throw new JournalError("journal.locked", "another writer has this journal open", { path, cause: e });
    }
    throw e;
  }
  return lock;
}

/** Releases a writer lock. */
export function releaseWriterLock(lock: Db): void {
  try {
    if (lock.inTransaction) lock.exec("ROLLBACK");
  } finally {
    lock.close();
  }
}

/** Write-connection pragmas: WAL, the chosen fsync policy, zeroed pages on delete (erasure). */
function configure(db: Db, synchronous: "FULL" | "NORMAL"): void {
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma("secure_delete = ON");
}

/** Opens an existing journal for writing (lock already held). */
export function openWritable(path: string, synchronous: "FULL" | "NORMAL"): Db {
  let db: Db | undefined;
  try {
    db = new Database(path, { fileMustExist: true });
    configure(db, synchronous);
    const version = checkMeta(db, path);
    if (version < STORAGE_VERSION) {
      db.transaction(() => {
        if (version === 1) db!.exec(UPGRADE_V1);
        if (version <= 2) db!.exec(UPGRADE_V2);
        db!.exec(UPGRADE_V3);
      }).immediate();
    }
    return db;
  } catch (e) {
    db?.close();
    return mapOpenError(e, path);
  }
}

/**
 * Creates a new, empty journal (lock already held); refuses an existing file. The file is
 * built under a temporary name and renamed into place, so a crash mid-creation never
 * leaves a half-made journal at `path`.
 */
export function createFile(path: string, synchronous: "FULL" | "NORMAL"): Db {
  if (existsSync(path)) throw new JournalError("journal.exists", "a file already exists here", { path });
  const tmp = `${path}.creating-${process.pid}`;
  rmSync(tmp, { force: true });
  const fresh = new Database(tmp);
  try {
    configure(fresh, synchronous);
    fresh.transaction(() => {
      fresh.exec(SCHEMA);
      const put = fresh.prepare("INSERT INTO meta (key, value) VALUES (?, ?)");
      put.run("format", JOURNAL_MARKER);
      put.run("storage_version", String(STORAGE_VERSION));
    })();
  } finally {
    fresh.close(); // folds the WAL into the file and removes it
  }
  renameSync(tmp, path);
  return openWritable(path, synchronous);
}
