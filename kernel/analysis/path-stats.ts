/**
 * @module The statistics structural drift compares: for a module over a stretch of the journal,
 * how often each transition path occurred (input event schema → the schemas it emitted and the
 * effect kinds it asked for), its fuel, and its number of outputs per step. Shannon entropy of
 * the path distribution says how many bits of choice the module exercises; stats merge, so
 * stretches (segments between applies, blocks of seqs) add up into windows.
 */

/** Path counts, fuel and output moments of one module over a stretch. */
export interface PathStats {
  paths: Map<string, number>;
  steps: number;
  fuel: number;
  outputs: number;
  outputsSq: number;
}

/** Empty stats. */
export function emptyStats(): PathStats {
  return { paths: new Map(), steps: 0, fuel: 0, outputs: 0, outputsSq: 0 };
}

/** Adds one step: its path, fuel and number of outputs. */
export function addStep(s: PathStats, path: string, fuel: number, outputs: number): void {
  s.paths.set(path, (s.paths.get(path) ?? 0) + 1);
  s.steps++;
  s.fuel += fuel;
  s.outputs += outputs;
  s.outputsSq += outputs * outputs;
}

/** Adds `b` into `a`. */
export function mergeStats(a: PathStats, b: PathStats): void {
  for (const [p, n] of b.paths) a.paths.set(p, (a.paths.get(p) ?? 0) + n);
  a.steps += b.steps;
  a.fuel += b.fuel;
  a.outputs += b.outputs;
  a.outputsSq += b.outputsSq;
}

/** Shannon entropy of the path distribution, in bits (0 for no steps). */
export function entropyBits(s: PathStats): number {
  let h = 0;
  for (const n of s.paths.values()) {
    const p = n / s.steps;
    h -= p * Math.log2(p);
  }
  return h;
}

/** Mean fuel per step. */
export function fuelPerStep(s: PathStats): number {
  return s.steps === 0 ? 0 : s.fuel / s.steps;
}

/** Variance of the number of outputs (events and intents) per step. */
export function pathVariance(s: PathStats): number {
  if (s.steps === 0) return 0;
  const mean = s.outputs / s.steps;
  return s.outputsSq / s.steps - mean * mean;
}
