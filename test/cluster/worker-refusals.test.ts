/**
 * @module `wk worker`'s inbox batch when the kernel refuses some events (kernel/world/worker.ts):
 * the refused rows are named by the admission's issues and kept with their typed errors, every
 * other row of the batch is journaled in order. Real PostgreSQL (test/pg/global-setup.ts).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, inject, it } from "vitest";
import { PgInbox } from "../../kernel/journal/pg-inbox.js";
import { createWorld, World } from "../../kernel/world/index.js";
import { Worker, type WorkerEvent } from "../../kernel/world/worker.js";
import { counterSource, repoWasm } from "../world/fixtures/counter-source.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);
const COUNTER = "modules/assemblyscript/counter/counter.wasm";
const EV = "demo/CounterEvent@1";

describe.skipIf(url === null)(
  "worker refusals (skipped when no PostgreSQL server can be started here; never in CI)",
  () => {
    it("keeps each refused row with its error and journals the rest of the batch in one go", async () => {
      const dir = join(mkdtempSync(join(tmpdir(), "wk-worker-refusals-")), "w");
      const w = await createWorld(dir, counterSource(repoWasm(COUNTER)), { store: url! });
      await w.send(EV, { key: "a", by: 1 }, { idempotencyKey: "used" });
      const id = w.id;
      await w.close();

      const inbox = await PgInbox.open(url!);
      const row = (idempotencyKey: string, schema: string, value: unknown) => ({
        idempotencyKey,
        schema,
        json: JSON.stringify(value),
      });
      await inbox.enqueue(id, [
        row("e1", EV, { key: "a", by: 2 }),
        row("e2", EV, { key: "a", by: -1 }),
        row("e3", "demo/Nope@1", {}),
        row("used", EV, { key: "a", by: 5 }),
        row("e5", EV, { key: "b", by: 3 }),
      ]);
      const events: WorkerEvent[] = [];
      const node = await Worker.start({
        store: url!,
        worlds: [dir],
        holder: `refusals-${process.pid}`,
        ttlMs: 5000,
        pollMs: 20,
        onEvent: (e) => events.push(e),
      });
      const running = node.run();
      try {
        const deadline = Date.now() + 60_000;
        while (((await inbox.pending()).get(id) ?? 0) > 0 && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 25));
      } finally {
        await node.stop();
        await running;
      }
      const refused = events.filter((e) => e.event === "refused" && e.world === id);
      expect(refused.map((e) => (e.event === "refused" ? [e.idempotency_key, e.code] : null))).toEqual([
        ["e2", "kernel.bad_event"],
        ["e3", "kernel.unknown_schema"],
        ["used", "kernel.idempotency_conflict"],
      ]);
      const failed = await inbox.failed(id);
      expect(failed.map((f) => f.idempotencyKey).sort()).toEqual(["e2", "e3", "used"]);
      expect(failed.find((f) => f.idempotencyKey === "used")!.message).toMatch(
        /^idempotency key "used" was first used at seq \d+ for another request$/,
      );
      await inbox.close();

      const reopened = await World.open(dir);
      try {
        expect(reopened.cellState("demo/Counter@1", "a")).toMatchObject({ count: 3, events: 2 });
        expect(reopened.cellState("demo/Counter@1", "b")).toMatchObject({ count: 3, events: 1 });
      } finally {
        await reopened.close();
      }
    });
  },
);
