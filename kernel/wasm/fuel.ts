/**
 * @module Deterministic fuel metering by rewriting the module at load. Fuel counts the
 * WASM instructions a call executes: every straight-line region of code adds its
 * instruction count as it is entered, and function entries and loop headers trap once
 * the budget is overdrawn. Costs come from the bytecode alone, so a call uses the same
 * fuel on every machine, whatever V8 tier runs it, and replay reproduces an
 * out-of-fuel failure exactly. The same rewrite caps the memory maximum, turns a
 * failed `memory.grow` into a flagged trap (`module.out_of_memory`) instead of a -1
 * the guest might loop on, and counts call depth against a static stack budget so deep
 * recursion traps at the same depth on every machine rather than wherever V8's stack
 * happens to run out. Body rewriting lives in `meter-body.ts`.
 */
import { rewriteBody, smallLeaves } from "./meter-body.js";
export { STACK_BUDGET } from "./meter-body.js";
import {
  Reader,
  WasmFormatError,
  concat,
  encodeName,
  encodeS64,
  encodeU32,
  readSections,
  writeSections,
  type Section,
} from "./wasm-bytes.js";
import {
  appendVec,
  capMemory,
  checkExportNames,
  countImports,
  customName,
  mutableGlobals,
  readFuncTypes,
  readTypes,
  vecCount,
} from "./wasm-sections.js";

/**
 * Identity of the metering rewrite (this file and `meter-body.ts`). Bump it with ANY
 * change to what the rewrite emits — costs, charge placement, leaf inlining, stack
 * estimates, guards, exports, section layout — however small: it is part of every disk
 * cache key (`disk-cache.ts`), so a process never runs a module metered by another
 * rewriter, whose fuel (replay-relevant) could differ.
 */
export const FUEL_REWRITER_VERSION = "exact-instructions-2";

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
/** Sets the remaining fuel only (host calls charge mid-step; depth and flags must survive). */
export const REFUEL_EXPORT = "__wk_refuel";
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

export { MeteringLimitError } from "./wasm-sections.js";

// Canonical order of known sections (custom sections, id 0, may sit anywhere).
const ORDER = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11];

/** Rewrites `wasm` with fuel metering and a memory ceiling of `memoryPages`. */
export function meter(wasm: Uint8Array, opts: { memoryPages: number; initialFuel: bigint }): Metered {
  const sections = readSections(wasm).filter((s) => !(s.id === 0 && customName(s).startsWith(".debug")));
  const get = (id: number): Section | undefined => sections.find((s) => s.id === id);
  const imports = countImports(get(2));
  const types = readTypes(get(1));
  const typeCount = types.length;
  const funcTypes = readFuncTypes(get(3), typeCount);
  const definedFuncs = funcTypes.length;
  const globalsDefined = vecCount(get(6));
  const fuelGlobal = imports.globals + globalsDefined;
  const oomGlobal = fuelGlobal + 1;
  const depthGlobal = fuelGlobal + 2;
  const hasMemory = imports.memories > 0 || vecCount(get(5)) > 0;
  // New types and functions go after the existing ones, so no index in the module moves.
  const [armType, getI64Type, getI32Type, guardType] = [typeCount, typeCount + 1, typeCount + 2, typeCount + 3];
  const firstNew = imports.funcs + definedFuncs;
  const [armFunc, fuelFunc, oomFunc, guardFunc] = [firstNew, firstNew + 1, firstNew + 2, hasMemory ? firstNew + 3 : -1];
  const refuelFunc = firstNew + (hasMemory ? 4 : 3);
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

  const newTypes: number[][] = [
    [0x60, 0x01, 0x7e, 0x00],
    [0x60, 0x00, 0x01, 0x7e],
    [0x60, 0x00, 0x01, 0x7f],
    [0x60, 0x01, 0x7f, 0x01, 0x7f],
  ];
  put(
    3,
    appendVec(
      get(3),
      [armType, getI64Type, getI32Type, ...(hasMemory ? [guardType] : []), armType].map((t) => encodeU32(t)),
    ),
  );
  const mem = get(5);
  if (mem) put(5, capMemory(mem, opts.memoryPages));
  put(
    6,
    appendVec(get(6), [
      [0x7e, 0x01, 0x42, ...encodeS64(opts.initialFuel), 0x0b],
      [0x7f, 0x01, 0x41, 0x00, 0x0b],
      [0x7f, 0x01, 0x41, 0x00, 0x0b],
    ]),
  );
  const globalExports = globals.indices.map((i) => `__wk_g${i}`);
  put(
    7,
    appendVec(get(7), [
      [...encodeName(ARM_EXPORT), 0x00, ...encodeU32(armFunc)],
      [...encodeName(FUEL_EXPORT), 0x00, ...encodeU32(fuelFunc)],
      [...encodeName(OOM_EXPORT), 0x00, ...encodeU32(oomFunc)],
      [...encodeName(REFUEL_EXPORT), 0x00, ...encodeU32(refuelFunc)],
      ...(hasMemory ? [[...encodeName(MEMORY_EXPORT), 0x02, 0x00]] : []),
      ...globals.indices.map((i, k) => [...encodeName(globalExports[k]!), 0x03, ...encodeU32(i)]),
    ]),
  );

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
    if (raw.length !== definedFuncs) throw new WasmFormatError("function and code sections disagree", 0);
    // readFuncTypes checked every type index against the type section.
    const params = funcTypes.map((t) => types[t]!.params);
    const leaves = smallLeaves(raw, imports.funcs, params);
    // A block returning a function's results: shorthand for 0 or 1, else a (new) type index.
    const blockType = (results: Uint8Array, count: number): number[] => {
      if (count === 0) return [0x40];
      if (count === 1) return [...results];
      const enc = [0x60, 0x00, ...encodeU32(count), ...results];
      let idx = newTypes.findIndex((t) => t.length === enc.length && t.every((b, k) => b === enc[k]));
      if (idx < 0) idx = newTypes.push(enc) - 1;
      return encodeS64(BigInt(typeCount + idx));
    };
    for (let i = 0; i < raw.length; i++) {
      const type = types[funcTypes[i]!]!;
      const body = rewriteBody(raw[i]!, {
        fuelGlobal,
        flagGlobal: oomGlobal,
        depthGlobal,
        guardFunc,
        leaves,
        self: imports.funcs + i,
        resultBlockType: blockType(type.results, type.resultCount),
        params: type.params,
      });
      loops += body.loops;
      stateful ||= body.stateful;
      bodies.push(body.bytes);
    }
  }
  put(1, appendVec(get(1), newTypes));
  const fg = encodeU32(fuelGlobal);
  const og = encodeU32(oomGlobal);
  const dg = encodeU32(depthGlobal);
  bodies.push(
    Uint8Array.from([0x00, 0x20, 0x00, 0x24, ...fg, 0x41, 0x00, 0x24, ...og, 0x41, 0x00, 0x24, ...dg, 0x0b]), // fuel = p0; flag = 0; depth = 0
    Uint8Array.from([0x00, 0x23, ...fg, 0x0b]),
    Uint8Array.from([0x00, 0x23, ...og, 0x0b]),
  );
  if (hasMemory) bodies.push(growGuardBody(oomGlobal));
  bodies.push(Uint8Array.from([0x00, 0x20, 0x00, 0x24, ...fg, 0x0b])); // refuel: fuel = p0
  {
    put(
      10,
      concat([
        Uint8Array.from(encodeU32(bodies.length)),
        ...bodies.map((b) => concat([Uint8Array.from(encodeU32(b.length)), b])),
      ]),
    );
  }
  return {
    wasm: writeSections(sections),
    functions: bodies.length,
    loops,
    globalExports,
    hasMemory,
    needsFreshInstance: stateful,
  };
}

/** `(func (param i32) (result i32))` growing memory 0, flagging and trapping on failure. */
function growGuardBody(oomGlobal: number): Uint8Array {
  return Uint8Array.from([
    0x01,
    0x01,
    0x7f, // one i32 local
    0x20,
    0x00,
    0x40,
    0x00,
    0x22,
    0x01, // local.get 0; memory.grow 0; local.tee 1
    0x41,
    0x7f,
    0x46,
    0x04,
    0x40, // i32.const -1; i32.eq; if
    0x41,
    0x01,
    0x24,
    ...encodeU32(oomGlobal),
    0x00,
    0x0b, // oom = 1; unreachable; end
    0x20,
    0x01,
    0x0b,
  ]);
}
