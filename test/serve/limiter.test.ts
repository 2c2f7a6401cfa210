/**
 * @module The dispatch pools' semaphore: never more than `max` calls at once, waiters start in
 * arrival order, a failing call frees its slot, and a slot handed over is never double-counted.
 * Calls finish when the test says so (no timers): the order is the test's, not the clock's.
 */
import { describe, expect, it } from "vitest";
import { Limiter } from "../../tools/serve/limiter.js";

describe("Limiter", () => {
  it("runs at most max at once, in arrival order, and frees the slot of a failed call", async () => {
    const l = new Limiter(3);
    const release: (() => void)[] = [];
    const started: number[] = [];
    let peak = 0;
    const runs = Array.from({ length: 10 }, (_, i) =>
      l
        .run(
          () =>
            new Promise<number>((resolve, reject) => {
              started.push(i);
              peak = Math.max(peak, l.running);
              release[i] = () => (i === 4 ? reject(new Error("boom")) : resolve(i));
            }),
        )
        .catch((e: Error) => e.message),
    );
    const tick = () => new Promise((r) => setImmediate(r));
    await tick();
    expect(started).toEqual([0, 1, 2]);
    // Finish out of order: each finish starts exactly the next waiter.
    for (const i of [1, 0, 2, 4, 3, 5, 6, 7, 8, 9]) {
      release[i]!();
      await tick();
      expect(l.running).toBeLessThanOrEqual(3);
    }
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, "boom", 5, 6, 7, 8, 9]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(peak).toBe(3);
    expect(l.running).toBe(0);
  });

  it("refuses a limit that is not a positive integer", () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => new Limiter(bad)).toThrow(RangeError);
  });
});
