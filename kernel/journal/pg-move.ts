/**
 * @module Moving a world's journal between SQLite and PostgreSQL (issue 13) with its hashes,
 * signatures and Merkle roots unchanged. Into PostgreSQL, entries are appended in order through
 * the store's own append path — an entry's hash depends only on its seq, kind, body and the
 * previous hash, so appending the same bodies reproduces every hash, and each is checked
 * against the source row (`journal.corrupt` naming the seq when one differs). Out of
 * PostgreSQL, the rows go verbatim into a new SQLite file (sqlite-import.ts). Blobs move with
 * their bytes; erased blobs move as erasure records only. `verifyJournal` judges the result.
 */
import { hashToBytes, type HashText } from "../../air/hash.js";
import { decodeStored } from "../../air/cbor/decode.js";
import type { EntryKind } from "./entries.js";
import { JournalError } from "./errors.js";
import type { PgJournalStore } from "./pg-store.js";
import { importVerbatim, type VerbatimRows } from "./sqlite-import.js";
import type { SqliteJournalStore } from "./sqlite-store.js";

const CHUNK = 500;

/** The rows of an open SQLite journal, as a move or an audit archive takes them. */
export function rowsOfSqlite(store: SqliteJournalStore): VerbatimRows {
  const entries = [...store.iterateSync()].map((e) => ({
    seq: e.seq,
    kind: e.kind,
    body: e.body,
    prev_hash: e.prev_hash,
    hash: e.hash,
  }));
  const blobs = [...store.iterateBlobsSync()].map((b) => ({ hash: hashToBytes(b.hash), bytes: b.bytes }));
  return { entries, blobs, erasures: [...store.iterateErasuresSync()] };
}

/** The rows of a PostgreSQL world. */
export async function rowsOfPg(store: PgJournalStore): Promise<VerbatimRows> {
  const entries = [];
  for await (const e of store.iterate(0))
    entries.push({ seq: e.seq, kind: e.kind, body: e.body, prev_hash: e.prev_hash, hash: e.hash });
  const blobs = (await store.blobs()).map((b) => ({ hash: hashToBytes(b.hash), bytes: b.bytes }));
  return { entries, blobs, erasures: await store.erasures() };
}

/** Appends `rows` to the empty PostgreSQL world `to`, checking every hash against its source row. */
export async function moveIntoPg(rows: VerbatimRows, to: PgJournalStore): Promise<void> {
  if ((await to.count()) !== 0)
    throw new JournalError("journal.exists", "a world is moved into an empty journal only", { path: to.path });
  for (const b of rows.blobs) await to.putBlob(b.bytes);
  for (let i = 0; i < rows.entries.length; i += CHUNK) {
    const chunk = rows.entries.slice(i, i + CHUNK);
    const appended = await to.appendMany(chunk.map((e) => ({ kind: e.kind as EntryKind, body: decodeStored(e.body) })));
    appended.forEach((a, j) => {
      const want = chunk[j]!;
      if (a.seq !== want.seq || Buffer.compare(Buffer.from(a.hash), Buffer.from(want.hash)) !== 0)
        throw new JournalError("journal.corrupt", `the moved entry does not hash as its source row`, {
          path: to.path,
          seq: want.seq,
        });
    });
  }
  for (const x of rows.erasures) await to.importErasure(x.hash as HashText, x.seq);
}

/** Writes the rows of a PostgreSQL world verbatim into a new SQLite journal file at `path`. */
export async function moveOutOfPg(from: PgJournalStore, path: string): Promise<void> {
  importVerbatim(path, await rowsOfPg(from));
}
