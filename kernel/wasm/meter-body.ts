/**
 * @module The per-function half of metering: rewrites one code body so that every
 * straight-line region pays its instruction count as it is entered, function entries
 * and loop headers check for exhaustion, the frame is counted against a deterministic
 * stack budget, and `memory.grow` goes through the guard. Everything is decided from
 * the bytecode alone, so the same module meters identically everywhere. Any change to
 * what this emits must bump `FUEL_REWRITER_VERSION` in `fuel.ts` (it keys the disk cache).
 */
import { Reader, WasmFormatError, concat, encodeS64, encodeU32, skipImmediates, skipValType } from "./wasm-bytes.js";

/**
 * Stack budget in estimated bytes. A frame is estimated at 64 + 16 per param or local,
 * at least twice what V8 needs (measured ~50 + 8 per local on Node 20), so a module hits
 * this deterministic limit long before V8's own ~984 KiB stack, whose depth would vary
 * with tiering and callers.
 */
export const STACK_BUDGET = 512 * 1024;
/** Value of the flag global when the stack budget traps (1 is the memory ceiling). */
export const STACK_FLAG = 2;

/** What a body needs from the module around it. */
export interface BodyContext {
  fuelGlobal: number;
  flagGlobal: number;
  depthGlobal: number;
  guardFunc: number;
  /** Small leaf functions (absolute index) → instruction count, charged at call sites. */
  leaves: Map<number, number>;
  /** This function's absolute index. */
  self: number;
  /** Encoded block type of this function's results, for the wrapper block. */
  resultBlockType: number[];
  /** Number of params of this function. */
  params: number;
}

// call, call_indirect, return_call, return_call_indirect, call_ref, return_call_ref
const CALLS = new Set([0x10, 0x11, 0x12, 0x13, 0x14, 0x15]);
const RETURN_CALLS = new Set([0x12, 0x13, 0x15]);
// data.drop, table.init, elem.drop, table.copy, table.grow, table.fill: state outside memory and globals.
const STATEFUL_FC = new Set([9, 12, 13, 14, 15, 17]);
// Leaves with more locals than this keep their own checks: their frame is not negligible.
const SMALL_LEAF_LOCALS = 64;

/** Skips the local declarations of a body; returns the reader at the code and the local count. */
export function skipLocals(body: Uint8Array): { r: Reader; locals: number; groups: number; groupsLen: number } {
  const r = new Reader(body);
  const groups = r.u32();
  const groupsLen = r.pos;
  let locals = 0;
  for (let i = 0; i < groups; i++) {
    locals += r.u32();
    skipValType(r);
  }
  return { r, locals, groups, groupsLen };
}

/**
 * Instruction counts of small leaf functions (no loops, no calls, few locals): they end
 * in bounded time with a small frame, so rather than checking on entry their cost is
 * added at each direct call site. Removes the checks from hot helpers at no loss of
 * determinism.
 */
export function smallLeaves(bodies: Uint8Array[], importedFuncs: number, params: number[]): Map<number, number> {
  const out = new Map<number, number>();
  bodies.forEach((body, i) => {
    const { r, locals } = skipLocals(body);
    if (locals + params[i]! > SMALL_LEAF_LOCALS) return;
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

/** `fuel -= cost; if (fuel < 0) unreachable` */
function fuelCheck(g: number, cost: number): number[] {
  const e = encodeU32(g);
  return [
    0x23,
    ...e,
    0x42,
    ...encodeS64(BigInt(cost)),
    0x7d,
    0x24,
    ...e,
    0x23,
    ...e,
    0x42,
    0x00,
    0x53,
    0x04,
    0x40,
    0x00,
    0x0b,
  ];
}

/** `depth += frame; if (depth > budget) { flag = 2; unreachable }` */
function depthEnter(cx: BodyContext, frame: number): number[] {
  const d = encodeU32(cx.depthGlobal);
  return [
    0x23,
    ...d,
    0x41,
    ...encodeS64(BigInt(frame)),
    0x6a,
    0x24,
    ...d,
    0x23,
    ...d,
    0x41,
    ...encodeS64(BigInt(STACK_BUDGET)),
    0x4b,
    0x04,
    0x40,
    0x41,
    STACK_FLAG,
    0x24,
    ...encodeU32(cx.flagGlobal),
    0x00,
    0x0b,
  ];
}

/** `depth -= frame` */
function depthExit(cx: BodyContext, frame: number): number[] {
  const d = encodeU32(cx.depthGlobal);
  return [0x23, ...d, 0x41, ...encodeS64(BigInt(frame)), 0x6b, 0x24, ...d];
}

interface Edit {
  pos: number;
  del: number;
  ins: () => number[];
}

// Opcodes after which execution may continue elsewhere or arrive from elsewhere: the
// next instruction starts a new region. if, else, end, delegate, catch, catch_all,
// br_if, br_on_null, br_on_non_null (conditional); br, br_table, return, unreachable,
// throw, rethrow, throw_ref, return_call* (what follows is reached only via a label).
const REGION_END = new Set([
  0x04, 0x05, 0x0b, 0x18, 0x07, 0x19, 0x0d, 0xd5, 0xd6, 0x0c, 0x0e, 0x0f, 0x00, 0x08, 0x09, 0x0a, 0x12, 0x13, 0x15,
]);

/** `acc += cost` (a local: registers, not memory) */
function accCharge(acc: number, cost: number): number[] {
  const a = encodeU32(acc);
  return [0x20, ...a, 0x42, ...encodeS64(BigInt(cost)), 0x7c, 0x21, ...a];
}

/** `fuel -= acc; acc = 0` */
function flush(g: number, acc: number): number[] {
  const e = encodeU32(g);
  const a = encodeU32(acc);
  return [0x23, ...e, 0x20, ...a, 0x7d, 0x24, ...e, 0x42, 0x00, 0x21, ...a];
}

/** `fuel -= acc + cost; acc = 0; if (fuel < 0) unreachable` (a loop header) */
function flushCheck(g: number, acc: number, cost: number): number[] {
  const e = encodeU32(g);
  const a = encodeU32(acc);
  return [
    0x23,
    ...e,
    0x20,
    ...a,
    0x7d,
    0x42,
    ...encodeS64(BigInt(cost)),
    0x7d,
    0x24,
    ...e,
    0x42,
    0x00,
    0x21,
    ...a,
    0x23,
    ...e,
    0x42,
    0x00,
    0x53,
    0x04,
    0x40,
    0x00,
    0x0b,
  ];
}

// Calls that leave this frame's code: the callee (or host) must see up-to-date fuel.
const FLUSH_BEFORE = new Set([0x10, 0x11, 0x12, 0x13, 0x14, 0x15]);

/**
 * Rewrites one body. The code is cut into regions — straight-line runs that control
 * can only enter at the top (every branch target and every conditional arm starts a
 * region) — and each region adds its instruction count to a local accumulator when
 * entered, so fuel is the exact number of instructions executed (a direct call to a
 * small leaf counts the whole leaf). The accumulator is flushed into the fuel global
 * before every call and at exit, and loop headers flush and check: exhaustion is caught
 * at every function entry and loop header, which bounds the work between two checks,
 * while the common path costs only register arithmetic. A trap loses the unflushed
 * part of the count, identically on every run.
 *
 * A checked function also becomes
 * `check; depth enter; block (result …) <body> end; depth exit; end`, with each
 * `return` turned into a branch to that block so the exit always runs (a trap or an
 * exception skips it, which only ever over-counts, deterministically).
 */
export function rewriteBody(
  body: Uint8Array,
  cx: BodyContext,
): { bytes: Uint8Array; loops: number; stateful: boolean } {
  const { r, locals, groups, groupsLen } = skipLocals(body);
  const checked = !cx.leaves.has(cx.self);
  const frame = 64 + 16 * (cx.params + locals);
  // The accumulator is a new i64 local after all existing ones.
  const acc = cx.params + locals;
  const g = cx.fuelGlobal;
  const costs = [0];
  const edits: Edit[] = checked
    ? [
        { pos: 0, del: groupsLen, ins: () => encodeU32(groups + 1) },
        {
          pos: r.pos,
          del: 0,
          ins: () => [0x01, 0x7e, ...fuelCheck(g, costs[0]!), ...depthEnter(cx, frame), 0x02, ...cx.resultBlockType],
        },
      ]
    : [];
  let cur = 0;
  let depth = 0;
  let loops = 0;
  let stateful = false;
  const region = (pos: number, check: boolean): void => {
    const idx = costs.push(0) - 1;
    cur = idx;
    // Small leaves carry no instrumentation at all: their callers paid for all of them.
    if (!checked) return;
    edits.push({
      pos,
      del: 0,
      ins: () => (check ? flushCheck(g, acc, costs[idx]!) : costs[idx]! > 0 ? accCharge(acc, costs[idx]!) : []),
    });
  };
  while (!r.done) {
    const at = r.pos;
    const op = r.byte();
    costs[cur]!++;
    if (op === 0x26 || (op === 0xfc && STATEFUL_FC.has(body[at + 1]!))) stateful = true;
    skipImmediates(r, op);
    const leafCost = op === 0x10 ? cx.leaves.get(new Reader(body, at + 1).u32()) : undefined;
    costs[cur]! += leafCost ?? 0;
    // A small leaf never touches fuel, so calling it needs no flush.
    if (checked && FLUSH_BEFORE.has(op) && leafCost === undefined)
      edits.push({ pos: at, del: 0, ins: () => flush(g, acc) });
    if (op === 0x02 || op === 0x03 || op === 0x04 || op === 0x06 || op === 0x1f) depth++;
    if (op === 0x0b || op === 0x18) {
      if (depth === 0) {
        if (!r.done) throw new WasmFormatError("code after the end of a function body", r.pos);
        break;
      }
      depth--;
    }
    if (op === 0x40) {
      if (body[at + 1] !== 0x00) throw new WasmFormatError("multiple memories are not supported", at);
      edits.push({ pos: at, del: r.pos - at, ins: () => [0x10, ...encodeU32(cx.guardFunc)] });
    } else if (checked && op === 0x0f) {
      const label = depth;
      edits.push({ pos: at, del: 1, ins: () => [0x0c, ...encodeU32(label)] });
    } else if (checked && RETURN_CALLS.has(op)) {
      edits.push({ pos: at, del: 0, ins: () => depthExit(cx, frame) });
    }
    if (op === 0x03) {
      loops++;
      region(r.pos, true);
    } else if (REGION_END.has(op)) region(r.pos, false);
  }
  if (checked) edits.push({ pos: body.length, del: 0, ins: () => [...flush(g, acc), ...depthExit(cx, frame), 0x0b] });
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const e of edits) {
    parts.push(body.subarray(from, e.pos), Uint8Array.from(e.ins()));
    from = e.pos + e.del;
  }
  parts.push(body.subarray(from));
  return { bytes: concat(parts), loops, stateful };
}
