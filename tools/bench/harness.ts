/**
 * @module Benchmark harness: every figure is printed beside a baseline measured in the
 * same run and the ratio between them, so a number never stands without its context.
 */

/** One measured rate. */
export interface Rate {
  label: string;
  opsPerSec: number;
}

/** A benchmark's result: its figure, the same-run baseline and (derived) their ratio. */
export interface BenchResult {
  name: string;
  figure: Rate;
  baseline: Rate;
  extra?: Record<string, string | number>;
}

/** A named benchmark that measures itself and its baseline. */
export interface Bench {
  name: string;
  run(): Promise<BenchResult | BenchResult[]>;
}

/** Calls `fn` repeatedly (in batches of `batch` ops) for at least `minMs` and returns ops/s. */
export async function measure(
  label: string,
  fn: () => unknown | Promise<unknown>,
  opts: { minMs?: number; batch?: number; warmup?: number } = {},
): Promise<Rate> {
  const minMs = opts.minMs ?? 1000;
  const batch = opts.batch ?? 1;
  for (let i = 0; i < (opts.warmup ?? 50); i++) await fn();
  let ops = 0;
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (elapsed < minMs) {
    const r = fn();
    if (r instanceof Promise) await r;
    ops += batch;
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  return { label, opsPerSec: (ops / elapsed) * 1000 };
}

/** One side of an interleaved comparison. */
export interface Side {
  label: string;
  fn: () => unknown;
  /** Ops per call of `fn` (default 1). */
  batch?: number;
}

/**
 * Measures a figure and its baseline in alternating slices (the order flips every round),
 * so drift on this shared machine — disk writeback after an fsync-heavy run, noisy
 * neighbours — falls on both alike instead of on whichever ran second. Each rate is its
 * total ops over its total time.
 */
export function compare(
  figure: Side,
  baseline: Side,
  opts: { rounds?: number; sliceMs?: number; warmup?: number } = {},
): [Rate, Rate] {
  const rounds = opts.rounds ?? 8;
  const sliceMs = opts.sliceMs ?? 250;
  const sides = [figure, baseline];
  const ops = [0, 0];
  const ns = [0, 0];
  for (const s of sides) for (let i = 0; i < (opts.warmup ?? 50); i++) s.fn();
  for (let r = 0; r < rounds; r++) {
    for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const s = sides[k]!;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      while (elapsed < sliceMs * 1e6) {
        s.fn();
        ops[k]! += s.batch ?? 1;
        elapsed = Number(process.hrtime.bigint() - start);
      }
      ns[k]! += elapsed;
    }
  }
  return [0, 1].map((k) => ({ label: sides[k]!.label, opsPerSec: (ops[k]! / ns[k]!) * 1e9 })) as [Rate, Rate];
}

/** One side of an interleaved comparison of async work. */
export interface AsyncSide {
  label: string;
  fn: () => Promise<unknown>;
  batch: number;
}

/** `compare` for async work (each call awaited): alternating slices, order flipped each round, total ops over total time. */
export async function compareAsync(
  figure: AsyncSide,
  baseline: AsyncSide,
  opts: { rounds?: number; sliceMs?: number; warmup?: number } = {},
): Promise<[Rate, Rate]> {
  const sides = [figure, baseline];
  const ops = [0, 0];
  const ns = [0, 0];
  for (const s of sides) for (let i = 0; i < (opts.warmup ?? 20); i++) await s.fn();
  for (let r = 0; r < (opts.rounds ?? 6); r++) {
    for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) {
      const s = sides[k]!;
      const start = process.hrtime.bigint();
      let elapsed = 0;
      while (elapsed < (opts.sliceMs ?? 300) * 1e6) {
        await s.fn();
        ops[k]! += s.batch;
        elapsed = Number(process.hrtime.bigint() - start);
      }
      ns[k]! += elapsed;
    }
  }
  return [0, 1].map((k) => ({ label: sides[k]!.label, opsPerSec: (ops[k]! / ns[k]!) * 1e9 })) as [Rate, Rate];
}

/** The manifest hash the journal benches' genesis names. */
export const BENCH_MANIFEST = `sha256:${"ab".repeat(32)}` as const;

/** The journal benches' event body number `i`: a typical small event. */
export const benchEvent = (i: number) => ({
  schema: "demo/Order@1",
  value: { id: i, total: 1250, note: "a typical small event body" },
  key: `order-${i % 97}`,
  ctx: { now_ns: 1_767_225_600_000_000_000n + BigInt(i), logical_now: i },
  origin: { source: "bench" },
});

/** Formats a rate as `123,456/s`. */
export function fmtRate(r: number): string {
  return `${Math.round(r).toLocaleString("en-US")}/s`;
}

/** Prints one result line: figure, baseline and ratio. */
export function report(r: BenchResult): string {
  const ratio = r.figure.opsPerSec / r.baseline.opsPerSec;
  const extra = r.extra
    ? "  " +
      Object.entries(r.extra)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")
    : "";
  return `${r.name}\n  ${r.figure.label}: ${fmtRate(r.figure.opsPerSec)}  |  baseline ${r.baseline.label}: ${fmtRate(r.baseline.opsPerSec)}  |  ratio ${ratio.toFixed(3)}${extra}`;
}
