/**
 * @module `wk serve --store postgres://…`: a world whose journal is in PostgreSQL, served like
 * any other: events are journaled under the server's lease (its fencing token on every entry),
 * `/metrics` reports the lease held, and after the drain the world verifies and its state is
 * what the API answered. Real PostgreSQL (test/pg/global-setup.ts), a real server process.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createWorld, sourceFromAirDir, verifyWorldDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { ROOT } from "../world/cli-harness.js";
import { clients, killLeftovers, startServe, writeTokens } from "./server-fixture.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);
afterAll(killLeftovers);

describe.skipIf(url === null)(
  "wk serve over a PostgreSQL world (skipped when no PostgreSQL server can be started here; never in CI)",
  () => {
    it("journals under its lease, reports it in /metrics, and drains to a world that verifies", async () => {
      const base = mkdtempSync(join(tmpdir(), "wk-serve-pg-"));
      const dir = join(base, "w");
      const w = await createWorld(dir, sourceFromAirDir(join(ROOT, "worlds/counter")), {
        store: url!,
        adapters: defaultAdapters(),
      });
      const id = w.id;
      await w.close();
      const { file, tokens } = writeTokens(base);
      const other = join(mkdtempSync(join(tmpdir(), "wk-serve-pg-sqlite-")), "w");
      await (await createWorld(other, sourceFromAirDir(join(ROOT, "worlds/counter")))).close();
      // --store hosts only the worlds in that database: the SQLite one beside it is left alone.
      const server = await startServe([dir, other], file, ["--store", url!]);
      expect(server.worlds).toEqual([id]);
      const c = clients(server.url, tokens);
      const sent = await c.ingest.sendMany(
        id,
        Array.from({ length: 5 }, (_, i) => ({ schema: "demo/CounterEvent@1", value: { key: "a", by: i + 1 } })),
        { idempotencyKey: "batch" },
      );
      expect(sent.map((r) => r.duplicate ?? false)).toEqual([false, false, false, false, false]);
      expect(
        (
          await c.ingest.sendMany(id, [{ schema: "demo/CounterEvent@1", value: { key: "a", by: 1 } }], {
            idempotencyKey: "batch",
          })
        )[0],
      ).toMatchObject({
        seq: sent[0]!.seq,
        duplicate: true,
      });
      const state = await c.read.state(id);
      expect(state.cells[0]!.state).toEqual({ count: 15, events: 5 });
      expect(await c.read.metrics()).toMatch(new RegExp(`^wk_lease_held\\{world="${id}"\\} 1$`, "m"));
      expect((await server.stop()).code).toBe(0);

      // Every entry the server wrote carries its lease's fencing token.
      const db = new pg.Client({ connectionString: url! });
      await db.connect();
      try {
        const rows = await db.query<{ fence: string | null }>(
          "SELECT fence FROM worldkernel.entries WHERE world_id = $1 AND seq >= $2 ORDER BY seq",
          [id, sent[0]!.seq],
        );
        expect(rows.rows.length).toBeGreaterThan(5);
        expect(rows.rows.every((r) => r.fence !== null && Number(r.fence) > 0)).toBe(true);
      } finally {
        await db.end();
      }
      expect(await verifyWorldDir(dir)).toMatchObject({ ok: true });
    }, 120_000);
  },
);
