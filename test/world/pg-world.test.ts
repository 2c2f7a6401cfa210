/**
 * @module A world whose journal lives in PostgreSQL (config.json `store`) behaves as one in
 * SQLite: created, written, closed, reopened to the same state, verified, replayed by a fresh
 * kernel, forked into SQLite; a second writer is refused while the first holds the lease.
 * Real PostgreSQL (test/pg/global-setup.ts), real WASM.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { createWorld, forkWorld, replayWorld, verifyWorldDir, World } from "../../kernel/world/index.js";
import { codeOfAsync } from "../journal/helpers.js";
import { counterSource, repoWasm } from "./fixtures/counter-source.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);
const COUNTER = "modules/assemblyscript/counter/counter.wasm";

describe.skipIf(url === null)(
  "a world in PostgreSQL (skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)",
  () => {
    it("creates, writes, reopens, verifies, replays and forks into SQLite", async () => {
      const base = mkdtempSync(join(tmpdir(), "wk-pgworld-"));
      const dir = join(base, "w");
      const w = await createWorld(dir, counterSource(repoWasm(COUNTER)), { store: url!, checkpointEvery: 7 });
      expect(existsSync(join(dir, "journal.db"))).toBe(false);
      expect(JSON.parse(readFileSync(join(dir, "config.json"), "utf8"))).toMatchObject({ store: url });
      for (let i = 0; i < 20; i++) await w.send("demo/CounterEvent@1", { key: `k${i % 3}`, by: i });
      const dup = await w.send("demo/CounterEvent@1", { key: "k0", by: 1 }, { idempotencyKey: "once" });
      expect((await w.send("demo/CounterEvent@1", { key: "k0", by: 1 }, { idempotencyKey: "once" })).duplicate).toBe(
        true,
      );
      const root = w.state.cells.stateRoot();
      const count = w.store.countSync();
      await w.close();

      const again = await World.open(dir);
      expect(again.state.cells.stateRoot()).toBe(root);
      expect(again.store.countSync()).toBeGreaterThanOrEqual(count);
      expect(again.store.ingressKeySeq("once")?.seq).toBe(dup.seq);
      // One writer per world: a second open is refused while this one holds the lease.
      expect(await codeOfAsync(World.open(dir))).toBe("journal.lease_held");
      await again.close();

      expect(await verifyWorldDir(dir)).toMatchObject({ ok: true });
      expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
      const f = await forkWorld(dir, 10, join(base, "fork"));
      expect(existsSync(join(base, "fork", "journal.db"))).toBe(true);
      await f.close();
      expect(await verifyWorldDir(join(base, "fork"))).toMatchObject({ ok: true });
    }, 60_000);

    it("refuses a store URL that carries a password, before anything is written", async () => {
      const dir = join(mkdtempSync(join(tmpdir(), "wk-pgworld-")), "w");
      const withPassword = url!.replace(/^(postgres(ql)?:\/\/)([^@/]*@)?/, "$1u:secret@");
      expect(await codeOfAsync(createWorld(dir, counterSource(repoWasm(COUNTER)), { store: withPassword }))).toBe(
        "kernel.bad_world",
      );
      expect(existsSync(dir)).toBe(false);
    });
  },
);
