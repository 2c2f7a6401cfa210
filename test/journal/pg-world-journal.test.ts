/**
 * @module `PgWorldJournal` (PostgreSQL the record, its read replica for the sync reads) passes
 * the same conformance suites as the SQLite store — `JournalStore` (journal.case.ts) and each
 * port's (test/journal/ports/: reader, writer, blob store, lease) — on a real server
 * (test/pg/global-setup.ts); the read mirror is held to the database (a database changed behind
 * the writer is `journal.corrupt`, and the next open rebuilds the mirror from it); and a blob put
 * before an append is in the database, as the database's own readers see it, once the append
 * resolves.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { describe, expect, inject, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { PG_SCHEMA_VERSION } from "../../kernel/journal/pg-schema.js";
import { PgJournalStore } from "../../kernel/journal/pg-store.js";
import { PgWorldJournal } from "../../kernel/journal/pg-world-journal.js";
import type { JournalStore } from "../../kernel/journal/store.js";
import { codeOfAsync, eventBody, genesisBody } from "./helpers.js";
import { rechainPg } from "./pg-attacker.js";
import { runJournalSuite } from "./journal.case.js";
import { runBlobStoreSuite } from "./ports/blob-store.case.js";
import type { CreateOptions } from "./ports/fixtures.js";
import { runLeaseSuite } from "./ports/lease.case.js";
import { runJournalReaderSuite } from "./ports/reader.case.js";
import { runJournalWriterSuite } from "./ports/writer.case.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);

/** The world id of each journal the suites opened (the port does not name it: its genesis may say anything). */
const ids = new WeakMap<JournalStore, string>();
const open = async (id: string, opts: Parameters<typeof PgWorldJournal.open>[2]) => {
  const j = await PgWorldJournal.open(url!, id, opts);
  ids.set(j, id);
  return j;
};
const create = (opts: CreateOptions = {}, id = `test-${randomUUID()}`) => open(id, { create: true, ...opts });
const reopen = async (j: JournalStore) => {
  await j.close();
  return open(ids.get(j)!, {});
};

describe.skipIf(url === null)(
  "PostgreSQL world journal (skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)",
  () => {
    runJournalSuite({ create: () => create(), reopen });
    runJournalReaderSuite({ create, reopen, storageVersion: PG_SCHEMA_VERSION });
    runJournalWriterSuite({ create, openReadonly: (j) => open(ids.get(j)!, { readonly: true }) });
    runBlobStoreSuite({ create: () => create() });
    runLeaseSuite({
      create: () => create(),
      // Renewal off: the suite moves the clock itself.
      leased: (id, lease, create) => open(id, { lease, renewEveryMs: 0, ...(create ? { create } : {}) }),
    });

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

    it("the read mirror is held to the database: it agrees after every kind of write, and a database changed behind the writer is journal.corrupt", async () => {
      const id = `test-${randomUUID()}`;
      const key = generateKeyPair();
      const j = await create({ checkpointEvery: 8, worldKey: key }, id);
      const raw = new pg.Client({ connectionString: url! });
      await raw.connect();
      try {
        await j.append("genesis", genesisBody(key));
        const blob = j.putBlobSync(new TextEncoder().encode("x"));
        await j.appendMany(Array.from({ length: 10 }, (_, i) => ({ kind: "event" as const, body: eventBody(i + 1) })));
        await j.erase(blob, "GDPR");
        await j.checkpoint(key);
        await j.verifyMirror();
        // An attacker with database access re-chains a suffix: the mirror no longer is the database.
        await rechainPg(raw, id, 5, (_seq, _kind, body) => ({ ...(body as object), forged: true }));
        expect(await codeOfAsync(j.verifyMirror())).toBe("journal.corrupt");
        const again = await PgWorldJournal.open(url!, id, { readonly: true });
        try {
          await again.verifyMirror();
          expect(again.countSync()).toBe(j.countSync());
          expect(Buffer.compare(again.headSync()!.hash, j.headSync()!.hash)).not.toBe(0);
        } finally {
          await again.close();
        }
      } finally {
        await raw.end();
        await j.close();
      }
    });
  },
);
