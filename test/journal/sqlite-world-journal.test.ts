/**
 * @module The SQLite store passes the conformance suite of each port it implements —
 * `JournalReader`, `JournalWriter`, `BlobStore` and `Lease` (test/journal/ports/) — on real files.
 */
import { join } from "node:path";
import { STORAGE_VERSION } from "../../kernel/journal/sqlite-open.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { runBlobStoreSuite } from "./ports/blob-store.case.js";
import type { CreateOptions, PortsUnderTest } from "./ports/fixtures.js";
import { runLeaseSuite } from "./ports/lease.case.js";
import { runJournalReaderSuite } from "./ports/reader.case.js";
import { runJournalWriterSuite } from "./ports/writer.case.js";
import { tempDir } from "./helpers.js";

const create = (opts: CreateOptions = {}): PortsUnderTest =>
  SqliteJournalStore.open(join(tempDir().dir, "journal.db"), { create: true, ...opts });

runJournalReaderSuite({
  create,
  reopen: async (j) => (await j.close(), SqliteJournalStore.open(j.path)),
  storageVersion: STORAGE_VERSION,
});
runJournalWriterSuite({ create, openReadonly: (j) => SqliteJournalStore.open(j.path, { readonly: true }) });
runBlobStoreSuite({ create: () => create() });
runLeaseSuite({ create: () => create(), leased: null });
