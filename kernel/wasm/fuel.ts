/**
 * @module Deterministic fuel metering by rewriting the module at load. Every function
 * entry and every loop header subtracts a static cost from an exported i64 global and
 * traps when it falls below zero. Costs are instruction counts taken from the bytecode
 * (a function entry pays for the straight-line code of the function, a loop header for
 * the instructions directly in the loop body), so a call uses the same fuel on every
 * machine and replay reproduces an out-of-fuel failure exactly. The same rewrite caps
 * the memory maximum and turns a failed `memory.grow` into a flagged trap
 * (`module.out_of_memory`) instead of a -1 the guest might loop on.
 */
import { Reader, WasmFormatError, concat, encodeName, encodeS64, encodeU32, readSections, skipImmediates, skipValType, writeSections, type Section } from "./wasm-bytes.js";

/**
 * Exported accessors. The fuel and out-of-memory globals themselves stay internal:
 * V8 reaches an exported mutable global through an indirection on every access, which
 * showed up as the main metering cost. `__wk_arm(fuel)` sets the fuel and clears the
 * out-of-memory flag, `__wk_fuel()` reads the remaining fuel (negative once
 * exhausted), `__wk_oom()` reads the flag (1 when `memory.grow` hit the ceiling).
 */
export const ARM_EXPORT = "__wk_arm";
export const FUEL_EXPORT = "__wk_fuel";
export const OOM_EXPORT = "__wk_oom";
/** Memory 0, exported under a reserved name so the host can snapshot and restore it. */
export const MEMORY_EXPORT = "__wk_memory";

/** What the rewrite produced. */
export interface Metered {
  wasm: Uint8Array;
  functions: number;
  loops: number;
  /** Export names of the module's own mutable globals, for snapshot and restore. */
  globalExports: string[];
  /** Whether memory 0 is exported as `MEMORY_EXPORT`. */
  hasMemory: boolean;
  /**
   * True when the code can change instance state a snapshot does not cover (tables,
   * dropped segments, v128 globals): such a module gets a fresh instance per call.
   */
  needsFreshInstance: boolean;
}

/** Raised when the module asks for more than its limits before running at all. */
export class MeteringLimitError extends Error {}

// Canonical order of known sections (custom sections, id 0, may sit anywhere).
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

/** Rewrites `wasm` with fuel metering and a memory ceiling of `memoryPages`. */
export function meter(wasm: Uint8Array, opts: { memoryPages: number; initialFuel: bigint }): Metered {
  const sections = readSections(wasm).filter((s) => !(s.id === 0 && customName(s).startsWith(".debug")));
  const get = (id: number): Section | undefined => sections.find((s) => s.id === id);
  const imports = countImports(get(2));
  const typeCount = vecCount(get(1));
  const definedFuncs = vecCount(get(3));
  const globalsDefined = vecCount(get(6));
  const fuelGlobal = imports.globals + globalsDefined;
  const oomGlobal = fuelGlobal + 1;
  const hasMemory = imports.memories > 0 || vecCount(get(5)) > 0;
  // New types and functions go after the existing ones, so no index in the module moves.
  const [armType, getI64Type, getI32Type, guardType] = [typeCount, typeCount + 1, typeCount + 2, typeCount + 3];
  const firstNew = imports.funcs + definedFuncs;
  const [armFunc, fuelFunc, oomFunc, guardFunc] = [firstNew, firstNew + 1, firstNew + 2, hasMemory ? firstNew + 3 : -1];
  checkExportNames(get(7));
  const globals = mutableGlobals(get(6), imports.globals);

  const put = (id: number, content: Uint8Array): void => {
    const i = sections.findIndex((s) => s.id === id);
    if (i >= 0) {
      sections[i] = { id, content };
      return;
    }
    const rank = ORDER.indexOf(id);
    const at = sections.findIndex((s) => s.id !== 0 && ORDER.indexOf(s.id) > rank);
    sections.splice(at < 0 ? sections.length : at, 0, { id, content });
  };

  put(1, appendVec(get(1), [[0x60, 0x01, 0x7e, 0x00], [0x60, 0x00, 0x01, 0x7e], [0x60, 0x00, 0x01, 0x7f], [0x60, 0x01, 0x7f, 0x01, 0x7f]]));
  put(3, appendVec(get(3), [armType, getI64Type, getI32Type, ...(hasMemory ? [guardType] : [])].map((t) => encodeU32(t))));
  const mem = get(5);
  if (mem) put(5, capMemory(mem, opts.memoryPages));
  put(6, appendVec(get(6), [
    [0x7e, 0x01, 0x42, ...encodeS64(opts.initialFuel), 0x0b],
    [0x7f, 0x01, 0x41, 0x00, 0x0b],
  ]));
  const globalExports = globals.indices.map((i) => `__wk_g${i}`);
  put(7, appendVec(get(7), [
    [...encodeName(ARM_EXPORT), 0x00, ...encodeU32(armFunc)],
    [...encodeName(FUEL_EXPORT), 0x00, ...encodeU32(fuelFunc)],
    [...encodeName(OOM_EXPORT), 0x00, ...encodeU32(oomFunc)],
    ...(hasMemory ? [[...encodeName(MEMORY_EXPORT), 0x02, 0x00]] : []),
    ...globals.indices.map((i, k) => [...encodeName(globalExports[k]!), 0x03, ...encodeU32(i)]),
  ]));

  const code = get(10);
  let loops = 0;
  let stateful = globals.opaque;
  const bodies: Uint8Array[] = [];
  if (code) {
    const raw: Uint8Array[] = [];
    const r = new Reader(code.content);
    const n = r.u32();
    for (let i = 0; i < n; i++) {
      const size = r.u32();
      raw.push(code.content.subarray(r.pos, r.pos + size));
      r.skip(size);
    }
    const leaves = leafCosts(raw, imports.funcs);
    for (let i = 0; i < raw.length; i++) {
      const body = rewriteBody(raw[i]!, { fuelGlobal, guardFunc, leaves, self: imports.funcs + i });
      loops += body.loops;
      stateful ||= body.stateful;
      bodies.push(body.bytes);
    }
  }
  const fg = encodeU32(fuelGlobal);
  const og = encodeU32(oomGlobal);
  bodies.push(
    Uint8Array.from([0x00, 0x20, 0x00, 0x24, ...fg, 0x41, 0x00, 0x24, ...og, 0x0b]), // fuel = p0; oom = 0
    Uint8Array.from([0x00, 0x23, ...fg, 0x0b]),
    Uint8Array.from([0x00, 0x23, ...og, 0x0b]),
  );
  if (hasMemory) bodies.push(growGuardBody(oomGlobal));
  {
    put(10, concat([Uint8Array.from(encodeU32(bodies.length)), ...bodies.map((b) => concat([Uint8Array.from(encodeU32(b.length)), b]))]));
  }
  return { wasm: writeSections(sections), functions: bodies.length, loops, globalExports, hasMemory, needsFreshInstance: stateful };
}

/** Indices of the defined mutable globals; `opaque` if one cannot be read from JS (v128). */
function mutableGlobals(s: Section | undefined, imported: number): { indices: number[]; opaque: boolean } {
  const out = { indices: [] as number[], opaque: false };
  if (!s) return out;
  const r = new Reader(s.content);
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const type = r.bytes[r.pos]!;
    skipValType(r);
    const mutable = r.byte() === 1;
    if (mutable && type === 0x7b) out.opaque = true;
    else if (mutable) out.indices.push(imported + i);
    // A constant expression has no blocks: it ends at the first `end`.
    for (let op = r.byte(); op !== 0x0b; op = r.byte()) skipImmediates(r, op);
  }
  return out;
}

function customName(s: Section): string {
  try {
    return new Reader(s.content).name();
  } catch {
    return "";
  }
}

function vecCount(s: Section | undefined): number {
  return s ? new Reader(s.content).u32() : 0;
}

/** Appends pre-encoded entries to a vector section (or creates it). */
function appendVec(s: Section | undefined, entries: number[][]): Uint8Array {
  const r = s ? new Reader(s.content) : undefined;
  const count = r ? r.u32() : 0;
  const rest = s && r ? s.content.subarray(r.pos) : new Uint8Array(0);
  return concat([Uint8Array.from(encodeU32(count + entries.length)), rest, Uint8Array.from(entries.flat())]);
}

function countImports(s: Section | undefined): { funcs: number; globals: number; memories: number } {
  const out = { funcs: 0, globals: 0, memories: 0 };
  if (!s) return out;
  const r = new Reader(s.content);
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    r.name();
    r.name();
    const kind = r.byte();
    if (kind === 0x00) {
      out.funcs++;
      r.u32();
    } else if (kind === 0x01) {
      skipValType(r);
      skipLimits(r);
    } else if (kind === 0x02) {
      out.memories++;
      skipLimits(r);
    } else if (kind === 0x03) {
      out.globals++;
      skipValType(r);
      r.byte();
    } else if (kind === 0x04) {
      r.byte();
      r.u32();
    } else throw new WasmFormatError(`unknown import kind ${kind}`, r.pos);
  }
  return out;
}

function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.skipLeb();
  if (flags & 0x01) r.skipLeb();
}

function checkExportNames(s: Section | undefined): void {
  if (!s) return;
  const r = new Reader(s.content);
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const name = r.name();
    if (name.startsWith("__wk_")) throw new WasmFormatError(`export "${name}" uses the reserved __wk_ prefix`, r.pos);
    r.byte();
    r.u32();
  }
}

/** Lowers each memory's maximum to `pages`; refuses shared and 64-bit memories. */
function capMemory(s: Section, pages: number): Uint8Array {
  const r = new Reader(s.content);
  const n = r.u32();
  const out: number[] = [...encodeU32(n)];
  for (let i = 0; i < n; i++) {
    const flags = r.byte();
    if (flags > 1) throw new WasmFormatError("shared or 64-bit memories are not supported", r.pos);
    const min = r.u32();
    const max = flags & 1 ? r.u32() : Infinity;
    if (min > pages) throw new MeteringLimitError(`memory starts at ${min} pages, above the ceiling of ${pages}`);
    out.push(0x01, ...encodeU32(min), ...encodeU32(Math.min(max, pages)));
  }
  return Uint8Array.from(out);
}

/** `(func (param i32) (result i32))` growing memory 0, flagging and trapping on failure. */
function growGuardBody(oomGlobal: number): Uint8Array {
  return Uint8Array.from([
    0x01, 0x01, 0x7f, // one i32 local
    0x20, 0x00, 0x40, 0x00, 0x22, 0x01, // local.get 0; memory.grow 0; local.tee 1
    0x41, 0x7f, 0x46, 0x04, 0x40, // i32.const -1; i32.eq; if
    0x41, 0x01, 0x24, ...encodeU32(oomGlobal), 0x00, 0x0b, // oom = 1; unreachable; end
    0x20, 0x01, 0x0b,
  ]);
}

/** `fuel -= cost; if (fuel < 0) unreachable` */
function fuelCheck(fuelGlobal: number, cost: number): number[] {
  const g = encodeU32(fuelGlobal);
  return [0x23, ...g, 0x42, ...encodeS64(BigInt(cost)), 0x7d, 0x24, ...g, 0x23, ...g, 0x42, 0x00, 0x53, 0x04, 0x40, 0x00, 0x0b];
}

// data.drop, table.init, elem.drop, table.copy, table.grow, table.fill: state outside memory and globals.
const STATEFUL_FC = new Set([9, 12, 13, 14, 15, 17]);

interface Edit {
  pos: number;
  del: number;
  ins: () => number[];
}

/** Skips the local declarations at the start of a code body; returns where the code starts. */
function skipLocals(body: Uint8Array): Reader {
  const r = new Reader(body);
  const groups = r.u32();
  for (let i = 0; i < groups; i++) {
    r.u32();
    skipValType(r);
  }
  return r;
}

// call, call_indirect, return_call, return_call_indirect, call_ref, return_call_ref
const CALLS = new Set([0x10, 0x11, 0x12, 0x13, 0x14, 0x15]);

/**
 * Instruction counts of leaf functions (no loops, no calls): they finish in bounded
 * time, so instead of checking fuel on entry their cost is added to each direct call
 * site. Removes the check from small hot helpers at no loss of determinism.
 */
function leafCosts(bodies: Uint8Array[], importedFuncs: number): Map<number, number> {
  const out = new Map<number, number>();
  bodies.forEach((body, i) => {
    const r = skipLocals(body);
    let cost = 0;
    while (!r.done) {
      const op = r.byte();
      if (op === 0x03 || CALLS.has(op)) return;
      cost++;
      skipImmediates(r, op);
    }
    out.set(importedFuncs + i, cost);
  });
  return out;
}

interface RewriteContext {
  fuelGlobal: number;
  guardFunc: number;
  leaves: Map<number, number>;
  /** This function's index. */
  self: number;
}

/** Inserts the fuel checks into one code body and routes `memory.grow` through the guard. */
function rewriteBody(body: Uint8Array, cx: RewriteContext): { bytes: Uint8Array; loops: number; stateful: boolean } {
  const { fuelGlobal, guardFunc, leaves } = cx;
  const r = skipLocals(body);
  const costs = [0];
  const edits: Edit[] = leaves.has(cx.self) ? [] : [{ pos: r.pos, del: 0, ins: () => fuelCheck(fuelGlobal, costs[0]!) }];
  const control: number[] = [];
  let cur = 0;
  let stateful = false;
  while (!r.done) {
    const at = r.pos;
    const op = r.byte();
    costs[cur]!++;
    if (op === 0x26 || (op === 0xfc && STATEFUL_FC.has(body[at + 1]!))) stateful = true;
    skipImmediates(r, op);
    if (op === 0x10) costs[cur]! += leaves.get(new Reader(body, at + 1).u32()) ?? 0;
    if (op === 0x02 || op === 0x04 || op === 0x06 || op === 0x1f) control.push(cur);
    else if (op === 0x03) {
      control.push(cur);
      const idx = costs.length;
      costs.push(0);
      cur = idx;
      edits.push({ pos: r.pos, del: 0, ins: () => fuelCheck(fuelGlobal, costs[idx]!) });
    } else if (op === 0x0b || op === 0x18) {
      if (control.length === 0) {
        if (!r.done) throw new WasmFormatError("code after the end of a function body", r.pos);
        break;
      }
      cur = control.pop()!;
    } else if (op === 0x40) {
      if (body[at + 1] !== 0x00) throw new WasmFormatError("multiple memories are not supported", at);
      edits.push({ pos: at, del: r.pos - at, ins: () => [0x10, ...encodeU32(guardFunc)] });
    }
  }
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const e of edits) {
    parts.push(body.subarray(from, e.pos), Uint8Array.from(e.ins()));
    from = e.pos + e.del;
  }
  parts.push(body.subarray(from));
  return { bytes: concat(parts), loops: costs.length - 1, stateful };
}
