/**
 * @module `PgWorldJournal` (PostgreSQL the record, a local SQLite mirror for the sync reads)
 * passes the same conformance suites as the SQLite store — `JournalStore` (journal.case.ts),
 * `WorldJournal` and `BlobStore` — on a real server (test/pg/global-setup.ts); and a blob put
 * before an append is in the database, as the database's own readers see it, once the append
 * resolves.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, inject, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { PG_SCHEMA_VERSION } from "../../kernel/journal/pg-schema.js";
import { PgJournalStore } from "../../kernel/journal/pg-store.js";
import { PgWorldJournal } from "../../kernel/journal/pg-world-journal.js";
import type { JournalStore } from "../../kernel/journal/store.js";
import type { WorldJournal } from "../../kernel/journal/world-journal.js";
import { runBlobStoreSuite } from "./blob-store.case.js";
import { codeOfAsync, eventBody, genesisBody } from "./helpers.js";
import { runJournalSuite } from "./journal.case.js";
import { runWorldJournalSuite, type WorldJournalCreateOptions } from "./world-journal.case.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);

const create = (opts: WorldJournalCreateOptions = {}, id = `test-${randomUUID()}`) =>
  PgWorldJournal.open(url!, id, { create: true, ...opts });
const reopen = async (j: JournalStore | WorldJournal) => {
  await j.close();
  return PgWorldJournal.open(url!, (j as PgWorldJournal).db.worldId);
};

describe.skipIf(url === null)(
  "PostgreSQL world journal (skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)",
  () => {
    runJournalSuite({ create: () => create(), reopen });
    runWorldJournalSuite({ create, reopen, storageVersion: PG_SCHEMA_VERSION });
    runBlobStoreSuite({ create: () => create() });

    it("a blob put before an append is in the database once the append resolves", async () => {
      const id = `test-${randomUUID()}`;
      const key = generateKeyPair();
      const j = await create({}, id);
      const reader = await PgJournalStore.open(url!, id, { readonly: true });
      try {
        await j.append("genesis", genesisBody(key));
        const bytes = new TextEncoder().encode("named by the next entry");
        const h = j.putBlobSync(bytes);
        expect(j.hasBlobSync(h)).toBe(true);
        await j.append("event", { ...eventBody(1), value: { blob: h } });
        expect(await reader.hasBlob(h)).toBe(true);
        expect(Buffer.from(await reader.getBlob(h)).toString()).toBe("named by the next entry");
        const viaWorld = await PgWorldJournal.open(url!, id, { readonly: true });
        try {
          expect(Buffer.from(viaWorld.getBlobSync(h)).toString()).toBe("named by the next entry");
          expect(viaWorld.countSync()).toBe(2);
          expect(await codeOfAsync(viaWorld.append("event", eventBody(2)))).toBe("journal.readonly");
        } finally {
          await viaWorld.close();
        }
        // So is one put just before an erasure of another, and one put just before a checkpoint.
        const a = j.putBlobSync(new TextEncoder().encode("a"));
        const b = j.putBlobSync(new TextEncoder().encode("b"));
        await j.erase(a, "GDPR");
        expect([await reader.hasBlob(a), await reader.hasBlob(b)]).toEqual([false, true]);
        const c = j.putBlobSync(new TextEncoder().encode("c"));
        await j.checkpoint(key);
        expect(await reader.hasBlob(c)).toBe(true);
      } finally {
        await reader.close();
        await j.close();
      }
    });
  },
);
