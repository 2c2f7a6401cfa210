import { join } from "node:path";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { runJournalSuite } from "./journal.case.js";
import { tempDir } from "./helpers.js";

runJournalSuite({
  create: () => SqliteJournalStore.open(join(tempDir().dir, "journal.db"), { create: true }),
  reopen: async (s) => (await s.close(), SqliteJournalStore.open(s.path)),
});
