/**
 * @module The kernel replays and verifies every golden journal (test/fixtures/journals/*_v2)
 * from PostgreSQL: each is moved into a fresh PostgreSQL world (pg-move.ts), its world directory
 * names that database in config.json (`store`) and keeps no journal.db, and `replayWorld` and
 * `verifyWorldDir` — which open the world where its config says — reach the state root the
 * golden journal recorded. Real PostgreSQL (test/pg/global-setup.ts), real WASM.
 */
import { randomUUID } from "node:crypto";
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { SqliteJournalStore, worldPaths } from "../../kernel/journal/index.js";
import { moveIntoPg, rowsOfSqlite } from "../../kernel/journal/pg-move.js";
import { PgJournalStore } from "../../kernel/journal/pg-store.js";
import { replayWorld, verifyWorldDir } from "../../kernel/world/index.js";
import { tempDir } from "../journal/helpers.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);
const FIXTURES = new URL("../fixtures/journals/", import.meta.url).pathname;
const scenarios = readdirSync(FIXTURES)
  .filter((s) => s.endsWith("_v2"))
  .sort();

describe.skipIf(url === null)(
  "golden journals replayed from PostgreSQL (skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)",
  () => {
    it("there are golden journals to replay", () => {
      expect(scenarios.length).toBeGreaterThanOrEqual(4);
    });

    for (const scenario of scenarios) {
      it(`${scenario}: replayWorld and verifyWorldDir from PostgreSQL give the recorded state root`, async () => {
        const src = join(FIXTURES, scenario);
        const dir = join(tempDir("wk-pg-golden-").dir, scenario);
        // Read from a copy: opening the fixture itself would leave SQLite's -shm/-wal files in the repository.
        cpSync(src, dir, { recursive: true });
        const sqlite = SqliteJournalStore.open(worldPaths(dir).journal, { readonly: true });
        const rows = rowsOfSqlite(sqlite);
        sqlite.closeSync();
        // The test database is shared: a fresh world id, not the fixture's, names this copy (replay reads genesis).
        const worldId = `golden-${scenario}-${randomUUID()}`;
        const pg = await PgJournalStore.open(url!, worldId, { create: true });
        try {
          await moveIntoPg(rows, pg);
        } finally {
          await pg.close();
        }
        rmSync(worldPaths(dir).journal);
        rmSync(`${worldPaths(dir).journal}-shm`, { force: true });
        rmSync(`${worldPaths(dir).journal}-wal`, { force: true });
        if (existsSync(join(src, "keys"))) cpSync(join(src, "keys"), join(dir, "keys"), { recursive: true });
        const config = JSON.parse(readFileSync(join(src, "config.json"), "utf8")) as Record<string, unknown>;
        writeFileSync(join(dir, "config.json"), JSON.stringify({ ...config, world_id: worldId, store: url }, null, 2));
        const expected = JSON.parse(readFileSync(join(src, "expected.json"), "utf8")) as { state_root: string };

        expect(await verifyWorldDir(dir)).toMatchObject({ ok: true, entries: rows.entries.length });
        expect(await replayWorld(dir)).toMatchObject({
          ok: true,
          state_root: expected.state_root,
        });
        expect(existsSync(worldPaths(dir).journal)).toBe(false);
      });
    }
  },
);
