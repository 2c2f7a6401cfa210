/**
 * @module The SQLite store passes the `WorldJournal` and `BlobStore` conformance suites
 * (world-journal.case.ts, blob-store.case.ts) on real files.
 */
import { join } from "node:path";
import { STORAGE_VERSION } from "../../kernel/journal/sqlite-open.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import type { WorldJournal } from "../../kernel/journal/world-journal.js";
import { runBlobStoreSuite } from "./blob-store.case.js";
import { tempDir } from "./helpers.js";
import { runWorldJournalSuite, type WorldJournalCreateOptions } from "./world-journal.case.js";

const create = (opts: WorldJournalCreateOptions = {}): WorldJournal =>
  SqliteJournalStore.open(join(tempDir().dir, "journal.db"), { create: true, ...opts });

runWorldJournalSuite({
  create,
  reopen: async (j) => (await j.close(), SqliteJournalStore.open(j.path)),
  storageVersion: STORAGE_VERSION,
});
runBlobStoreSuite({ create: () => create() });
