/**
 * @module A counting semaphore: at most `max` calls run at once, the rest wait in order. A
 * finished call hands its slot straight to the next waiter, so the bound holds exactly.
 * Hand-written: twenty lines, and the server's dispatch pools need nothing more.
 */

/** Runs at most `max` calls at a time. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`a limit is a positive integer, got ${max}`);
  }

  /** Calls in flight now. */
  get running(): number {
    return this.active;
  }

  /** Runs `fn` once a slot is free. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}
