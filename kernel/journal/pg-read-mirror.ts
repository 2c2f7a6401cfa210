/**
 * @module PostgreSQL's read mirror: a named, documented read cache, not the record. The kernel's
 * `JournalReader` and `BlobStore` reads are synchronous (WASM host calls, the processor, the
 * rules), and a database answers only asynchronously, so a PostgreSQL world keeps a local SQLite
 * copy of its rows for those reads. PostgreSQL stays the source of truth: the mirror is loaded
 * verbatim from it on open (after the lock or lease is taken, so no other writer moves the world
 * meanwhile) and held to it (`verify`: the same count and head row as the database),
 * follows every commit before the write resolves by executing the plan the database executed,
 * and is thrown away on close; a crash loses nothing, the next open rebuilds it. Why a mirror and
 * not direct reads, with the measurements: kernel/journal/README.md, "PostgreSQL read mirror".
 * A mirror lives in `wk-mirror-<pid>-…`; one whose process died is swept by the next open there.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HashText } from "../../air/hash.js";
import { bytesEqual } from "../crypto/merkle-verify.js";
import { JournalError } from "./errors.js";
import { rowsOfPg } from "./pg-move.js";
import type { PgJournalStore } from "./pg-store.js";
import type { AppendPlan } from "./append-plan.js";
import type { BlobStore, JournalReader } from "./ports.js";
import { importVerbatim } from "./sqlite-import.js";
import { SqliteJournalStore } from "./sqlite-store.js";

/** The typed error of a mirror that does not agree with the database (a bug, or a database changed behind the writer). */
function diverged(where: string, seq: number, what: string): JournalError {
  return new JournalError(
    "journal.corrupt",
    `the local read mirror's ${what} at seq ${seq} is not the database's: reopen the world to rebuild it`,
    { path: where, seq },
  );
}

/** True when process `pid` is alive (signal 0 checks without signalling; EPERM means it exists). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes the mirrors of processes that died without closing (a SIGKILL leaves its mirror behind). */
function sweepDeadMirrors(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return; // mkdtemp reports a missing or unwritable directory
  }
  for (const name of names) {
    const m = /^wk-mirror-(\d+)-/.exec(name);
    if (m !== null && !alive(Number(m[1]))) rmSync(join(parent, name), { recursive: true, force: true });
  }
}

/** A PostgreSQL world's local read cache: loaded from the database, held to it, following its commits. */
export class PgReadMirror {
  /** The mirror's synchronous reads, typed as the ports (its writes belong to `follow` only). */
  readonly reader: JournalReader & Omit<BlobStore, "putBlobSync">;

  /** Loads world `db`'s rows into a new mirror under `parentDir` (default: the OS temp directory) and verifies it. */
  static async load(db: PgJournalStore, parentDir: string = tmpdir()): Promise<PgReadMirror> {
    sweepDeadMirrors(parentDir);
    const dir = mkdtempSync(join(parentDir, `wk-mirror-${process.pid}-`));
    let file: SqliteJournalStore | undefined;
    try {
      importVerbatim(join(dir, "journal.db"), await rowsOfPg(db));
      file = SqliteJournalStore.open(join(dir, "journal.db"), { synchronous: "NORMAL" });
      const m = new PgReadMirror(db.path, file, dir);
      await m.verify(db);
      return m;
    } catch (e) {
      file?.closeSync();
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  private constructor(
    private readonly where: string,
    private readonly file: SqliteJournalStore,
    private readonly dir: string,
  ) {
    this.reader = file;
  }

  /**
   * Holds the mirror to the database: its head entry is the database's row at that seq and the
   * database has no row after it (`journal.corrupt` otherwise). The rows are read from the
   * database itself, not the writer's tip, so rows changed behind the writer are found; the hash
   * chain makes the head hash stand for every entry before it, and the mirror's Merkle nodes are
   * derived from its entries. (Whether the database's own rows hold together is verify's to say.)
   */
  async verify(db: PgJournalStore): Promise<void> {
    const n = this.file.countSync();
    const [last, next] = n === 0 ? [null, await db.get(0)] : [await db.get(n - 1), await db.get(n)];
    if (next !== null || (n > 0 && last === null)) throw diverged(this.where, n, "entry count");
    if (last !== null && !bytesEqual(last.hash, this.file.headSync()!.hash))
      throw diverged(this.where, n - 1, "head hash");
  }

  /**
   * Applies a write the database just committed (its `onCommit`): the mirror executes the very
   * plan the database executed (append-plan.ts), refused as `journal.corrupt` unless it extends
   * the mirror's head, so every row (entries, nodes, receipt and ingress-key rows) is the database's.
   */
  follow(plan: AppendPlan, erased?: HashText): void {
    this.file.applyPlanSync(plan, erased);
  }

  /** Puts a blob in the mirror (the writer flushes it to the database before its next entry). */
  putBlobSync(bytes: Uint8Array): HashText {
    return this.file.putBlobSync(bytes);
  }

  /** Closes the mirror and deletes its file. */
  close(): void {
    try {
      this.file.closeSync();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
