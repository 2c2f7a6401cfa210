/**
 * @module Structural drift: a module that behaves differently from one window to the next. Per
 * module it compares the transition entropy (bits, path-stats.ts), fuel per step and path
 * variance of two windows: before and after the last `apply` when the input has one (a new
 * manifest is the usual reason for a change), else the first and second half of the seqs read.
 * An entropy change above `entropy_bits` (default 2.5 bits: a module that always did one thing
 * now does six or more) or a fuel-per-step change by more than `fuel_factor` is a warning; each
 * window needs `min_steps` steps of the module. A step's outputs are the events and intents the
 * kernel journals right after it (same module, key and cause); the stats are kept in segments of
 * a few seqs (cut at every apply), merged in pairs when they grow too many, so memory stays bounded
 * and the halves are split to within 1/1024 of the journal.
 */
import type { AnalysisConfig } from "./config.js";
import type { Detector, DetectorRun } from "./detector.js";
import type { Finding } from "./finding.js";
import {
  addStep,
  emptyStats,
  entropyBits,
  fuelPerStep,
  mergeStats,
  pathVariance,
  type PathStats,
} from "./path-stats.js";

/** Seqs per segment at first; doubled (segments merged in pairs) whenever there are more than MAX_SEGMENTS. */
const FIRST_BLOCK = 1;
const MAX_SEGMENTS = 2048;

interface OpenStep {
  module: string;
  key: string | null;
  causeSeq: number;
  input: string;
  outputs: string[];
  fuel: number;
}

interface Segment {
  start: number;
  /** Started by an apply: never merged into the segment before it. */
  cut: boolean;
  modules: Map<string, PathStats>;
}

function mergeInto(a: Segment, b: Segment): void {
  for (const [m, st] of b.modules) {
    const into = a.modules.get(m);
    if (into === undefined) a.modules.set(m, st);
    else mergeStats(into, st);
  }
}

/** A step's path: its input schema and the sorted outputs. */
const pathOf = (o: OpenStep) => `${o.input} -> ${[...o.outputs].sort().join(",")}`;

const fmt = (x: number) => (Math.round(x * 100) / 100).toString();

/** The structural-drift detector. */
export const structuralDrift: Detector = (cfg: AnalysisConfig): DetectorRun => {
  const c = cfg.structural_drift;
  let segments: Segment[] = [];
  let block = FIRST_BLOCK;
  const schemas = new Map<number, string>();
  let open: OpenStep | null = null;
  let lastApply: number | null = null;
  let first: number | null = null;

  const segmentAt = (seq: number, cut: boolean): Segment => {
    const cur = segments[segments.length - 1];
    if (cur !== undefined && !cut && Math.floor(seq / block) === Math.floor(cur.start / block)) return cur;
    if (segments.length >= MAX_SEGMENTS) {
      // Halve the resolution: merge neighbours, except across an apply.
      const merged: Segment[] = [];
      for (const x of segments) {
        const prev = merged[merged.length - 1];
        if (prev !== undefined && !x.cut && Math.floor(prev.start / (2 * block)) === Math.floor(x.start / (2 * block)))
          mergeInto(prev, x);
        else merged.push(x);
      }
      segments = merged;
      block *= 2;
    }
    const s: Segment = { start: seq, cut, modules: new Map() };
    segments.push(s);
    return s;
  };

  const closeStep = () => {
    if (open === null) return;
    const seg = segments[segments.length - 1]!;
    let st = seg.modules.get(open.module);
    if (st === undefined) seg.modules.set(open.module, (st = emptyStats()));
    addStep(st, pathOf(open), open.fuel, open.outputs.length);
    open = null;
  };

  const owns = (module: string, key: string | null, causeSeq: number) =>
    open !== null && open.module === module && open.key === key && open.causeSeq === causeSeq;

  return {
    observe(f) {
      first ??= f.seq;
      if (f.kind === "event") {
        schemas.set(f.seq, f.schema);
        if (schemas.size > 4096)
          for (const [s] of schemas) {
            if (schemas.size <= 2048) break;
            schemas.delete(s);
          }
        if (f.origin.kind === "module" && owns(f.origin.module, f.origin.key, f.origin.causeSeq))
          open!.outputs.push(f.schema);
      } else if (f.kind === "intent") {
        if (owns(f.module, f.key, f.causeSeq)) open!.outputs.push(`effect:${f.effect}`);
      } else if (f.kind === "step") {
        closeStep();
        segmentAt(f.seq, false);
        if (!f.ok) return;
        open = {
          module: f.module,
          key: f.key,
          causeSeq: f.causeSeq,
          input: schemas.get(f.causeSeq) ?? "?",
          outputs: [],
          fuel: f.fuel,
        };
      } else if (f.kind === "apply") {
        closeStep();
        lastApply = f.seq;
        segmentAt(f.seq, true);
      }
    },
    finish(end) {
      if (first === null) return [];
      const split = lastApply ?? first + Math.floor((end.lastSeq - first + 1) / 2);
      const why =
        lastApply === null ? `the first and second half (split at seq ${split})` : `the apply at seq ${split}`;
      const before = new Map<string, PathStats>();
      const after = new Map<string, PathStats>();
      for (const seg of segments) {
        const side = seg.start < split ? before : after;
        for (const [m, st] of seg.modules) {
          let into = side.get(m);
          if (into === undefined) side.set(m, (into = emptyStats()));
          mergeStats(into, st);
        }
      }
      // The step still open counts as it stands, in its segment's window; it stays open (outputs may follow).
      if (open !== null) {
        const side = segments[segments.length - 1]!.start < split ? before : after;
        let into = side.get(open.module);
        if (into === undefined) side.set(open.module, (into = emptyStats()));
        addStep(into, pathOf(open), open.fuel, open.outputs.length);
      }
      const out: Finding[] = [];
      for (const [m, a] of before) {
        const b = after.get(m);
        if (b === undefined || a.steps < c.min_steps || b.steps < c.min_steps) continue;
        const [ha, hb] = [entropyBits(a), entropyBits(b)];
        const [fa, fb] = [fuelPerStep(a), fuelPerStep(b)];
        const ratio = fa === 0 || fb === 0 ? (fa === fb ? 1 : Infinity) : Math.max(fa / fb, fb / fa);
        const reasons: string[] = [];
        if (Math.abs(hb - ha) > c.entropy_bits)
          reasons.push(`transition entropy ${fmt(ha)} → ${fmt(hb)} bits (${a.paths.size} → ${b.paths.size} paths)`);
        if (ratio > c.fuel_factor) reasons.push(`fuel per step ${fmt(fa)} → ${fmt(fb)}`);
        if (reasons.length === 0) continue;
        out.push({
          detector: "structural_drift",
          severity: "warn",
          module: m,
          seqs: [split],
          // Judged on the two windows whole, so found at the end of what was read.
          detected_seq: end.lastSeq,
          message: `${m} drifted across ${why}: ${reasons.join("; ")}; path variance ${fmt(pathVariance(a))} → ${fmt(pathVariance(b))} (${a.steps} and ${b.steps} steps)`,
        });
      }
      return out;
    },
  };
};
