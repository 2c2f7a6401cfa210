/**
 * @module A world moved from SQLite to PostgreSQL and back keeps its hashes, signatures and
 * state root (issue 13): every golden journal goes into a fresh PostgreSQL world, which verifies
 * with the same head and Merkle root, then back into a new SQLite file, which verifies and
 * replays to the state root the golden journal recorded. Real PostgreSQL (test/pg/global-setup.ts).
 */
import { randomUUID } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { SqliteJournalStore, worldPaths } from "../../kernel/journal/index.js";
import { moveIntoPg, moveOutOfPg, rowsOfSqlite } from "../../kernel/journal/pg-move.js";
import { openPgJournalStore } from "../../kernel/journal/pg-store.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { replayWorld, verifyWorld } from "../../kernel/world/index.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);
const FIXTURES = new URL("../fixtures/journals/", import.meta.url).pathname;

describe.skipIf(url === null)(
  "moving a world between SQLite and PostgreSQL (skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)",
  () => {
    for (const scenario of readdirSync(FIXTURES)
      .filter((s) => s.endsWith("_v2"))
      .sort()) {
      it(`${scenario}: SQLite → PostgreSQL → SQLite keeps hashes, signatures, Merkle root and state root`, async () => {
        const base = mkdtempSync(join(tmpdir(), "wk-move-"));
        const src = join(base, "src");
        cpSync(join(FIXTURES, scenario), src, { recursive: true });
        const sqlite = SqliteJournalStore.open(worldPaths(src).journal, { readonly: true });
        const rows = rowsOfSqlite(sqlite);
        const head = sqlite.headSync()!;
        const root = await sqlite.root();
        sqlite.closeSync();

        const pg = await openPgJournalStore(url!, `move-${randomUUID()}`, { create: true });
        await moveIntoPg(rows, pg);
        expect(await verifyJournal(pg), scenario).toMatchObject({ ok: true, entries: rows.entries.length });
        expect(Buffer.from((await pg.head())!.hash).equals(Buffer.from(head.hash))).toBe(true);
        expect(Buffer.from(await pg.root()).equals(Buffer.from(root))).toBe(true);
        expect((await pg.erasures()).length).toBe(rows.erasures.length);

        const back = join(base, "back");
        cpSync(src, back, { recursive: true });
        rmSync(worldPaths(back).journal);
        await moveOutOfPg(pg, worldPaths(back).journal);
        await pg.close();
        const expected = JSON.parse(readFileSync(join(src, "expected.json"), "utf8")) as { state_root: string };
        expect(await verifyWorld(worldPaths(back).journal)).toMatchObject({ ok: true });
        expect(await replayWorld(back)).toMatchObject({
          ok: true,
          state_root: expected.state_root,
        });
      });
    }
  },
);
