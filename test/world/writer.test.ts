/**
 * @module The world's writer lock (kernel/world/writer.ts): sections never interleave, and a
 * write nested in a section the same caller holds runs inside it instead of waiting forever
 * for the lock its own caller holds (the deadlock `wk serve` used to document).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { COUNTER, COUNTER_EVENT } from "./attack-helpers.js";

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("the writer lock", () => {
  it("is reentrant: a send nested in an exclusive section completes and is journaled", async () => {
    const w = await createWorld(join(mkdtempSync(join(tmpdir(), "wk-writer-")), "w"), sourceFromAirDir(COUNTER), {
      synchronous: "NORMAL",
    });
    try {
      const inner = await w.exclusive(() => w.exclusive(async () => "nested"));
      expect(inner).toBe("nested");
      const sent = await w.exclusive(() => w.send(COUNTER_EVENT, { key: "alice", by: 3 }));
      expect(w.store.getSync(sent.seq)?.kind).toBe("event");
      expect(w.cellState("demo/Counter@1", "alice")).toBeDefined();
    } finally {
      await w.close();
    }
  }, 120_000);

  it("still serializes sections that are not nested: the second starts after the first ends", async () => {
    const w = await createWorld(join(mkdtempSync(join(tmpdir(), "wk-writer-")), "w"), sourceFromAirDir(COUNTER), {
      synchronous: "NORMAL",
    });
    try {
      const order: string[] = [];
      const gate = deferred();
      const first = w.exclusive(async () => {
        order.push("first starts");
        await gate.promise;
        order.push("first ends");
      });
      const second = w.exclusive(async () => {
        order.push("second runs");
      });
      // Let every queued continuation run: the second must still be waiting for the first.
      for (let i = 0; i < 10; i++) await Promise.resolve();
      expect(order).toEqual(["first starts"]);
      gate.resolve();
      await Promise.all([first, second]);
      expect(order).toEqual(["first starts", "first ends", "second runs"]);
    } finally {
      await w.close();
    }
  }, 120_000);
});
