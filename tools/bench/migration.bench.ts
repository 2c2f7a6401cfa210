/**
 * @module State migration rate: the AssemblyScript counter-migrate module rewriting 10,000
 * cells (demo/CounterState@1 → @2, as an apply does: every new state computed and checked
 * against the new schema) against replay re-running the 10,000 steps that made those cells
 * (verified beforehand, so it only re-executes), in alternating rounds of the same run. Both
 * sides make one AssemblyScript call per item, so the ratio is the migration path's own cost.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildCatalogOrThrow, compilePatch } from "../../air/index.js";
import { PatchDocumentSchema } from "../../air/schemas/patch.js";
import { World, createWorld, replayWorld } from "../../kernel/world/index.js";
import { runMigrations } from "../../kernel/world/migration.js";
import { counterSource, repoWasm } from "../../test/world/fixtures/counter-source.js";
import { COUNTER_V2, MIGRATE_COUNTER, migrationPatch } from "../../test/world/fixtures/counter-migration.js";
import type { Bench, Rate } from "./harness.js";

const CELLS = 10_000;

export const benchmarks: Bench[] = [
  {
    name: "migration: cells/s vs replay steps/s (10,000 cells)",
    async run() {
      const dir = join(mkdtempSync(join(tmpdir(), "wk-bench-migrate-")), "w");
      const created = await createWorld(dir, counterSource(repoWasm("modules/assemblyscript/counter/counter.wasm")), {
        synchronous: "NORMAL",
      });
      for (let i = 0; i < CELLS; i += 1000)
        await created.sendMany(
          Array.from({ length: 1000 }, (_, j) => ({
            schema: "demo/CounterEvent@1",
            json: { key: `cell-${i + j}`, by: (i + j) % 250 },
          })),
        );
      await created.close({ snapshot: false });

      const w = await World.open(dir);
      for (const b of [MIGRATE_COUNTER, COUNTER_V2]) w.store.putBlobSync(b);
      const mod = w.catalog.modules.get("demo/Counter@1")!.def;
      const doc = migrationPatch(w.catalog.manifestHash, mod, { counter: COUNTER_V2, migrate: MIGRATE_COUNTER });
      const patched = compilePatch(w.catalog.sources, PatchDocumentSchema.parse(doc));
      if (!patched.ok) throw new Error(patched.issues[0]!.message);
      const next = buildCatalogOrThrow([{ file: "<patch>", value: patched.defs }]);
      const plans = [{ module: "demo/Counter@1", migration: "demo/MigrateCounter@1" }];

      const migrateMs: number[] = [];
      const replayMs: number[] = [];
      for (let round = 0; round < 4; round++) {
        for (const side of round % 2 === 0 ? ["migrate", "replay"] : ["replay", "migrate"]) {
          const t = process.hrtime.bigint();
          if (side === "migrate") {
            const out = await runMigrations(
              w.state.cells,
              w.modules,
              w.catalog,
              next,
              plans,
              `sha256:${"0".repeat(64)}`,
            );
            if (out.failures.length > 0 || out.runs[0]!.cells !== CELLS)
              throw new Error(
                `expected ${CELLS} migrated cells: ${JSON.stringify(out.runs)} ${out.failures[0]?.message}`,
              );
          } else {
            const r = await replayWorld(dir, { verified: true });
            if (!r.ok || r.steps !== CELLS) throw new Error(`replay: ${JSON.stringify(r.divergence ?? r.steps)}`);
          }
          (side === "migrate" ? migrateMs : replayMs).push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
      await w.close({ snapshot: false });
      const rate = (label: string, ms: number[]): Rate => ({
        label,
        opsPerSec: (CELLS * ms.length) / (ms.reduce((a, b) => a + b, 0) / 1000),
      });
      return {
        name: "migration: cells/s (AssemblyScript migrate, checked against the new schema) vs replay steps/s",
        figure: rate("state migration, cells/s", migrateMs),
        baseline: rate("replay of the steps that made the cells, verified beforehand", replayMs),
      };
    },
  },
];
