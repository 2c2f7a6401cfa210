/**
 * @module Seeded randomness for tests that draw timings or inputs at random: mulberry32
 * (a small, fast 32-bit PRNG), and the run's seed — `WK_TEST_SEED` to reproduce a failure,
 * else a fresh one. A test using it must name the seed in its failure output.
 */
import { randomInt } from "node:crypto";

/** A generator of floats in [0, 1) from a 32-bit seed (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export const below = (random: () => number, n: number): number => Math.floor(random() * n);

/** `n` bytes from the generator. */
export function bytesFrom(random: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => below(random, 256));
}

/** The seed of this run: `WK_TEST_SEED` (an integer in [0, 2^32)) when set, else a fresh random one. */
export function testSeed(): number {
  const env = process.env.WK_TEST_SEED;
  if (env === undefined || env === "") return randomInt(2 ** 32);
  const n = Number(env);
  if (!/^[0-9]+$/.test(env) || n >= 2 ** 32)
    throw new Error(`WK_TEST_SEED must be an integer in [0, 2^32), got ${JSON.stringify(env)}`);
  return n;
}

/** How to re-run a test file with the same seed. */
export const reproduce = (seed: number, file: string): string => `WK_TEST_SEED=${seed} npx vitest run ${file}`;
