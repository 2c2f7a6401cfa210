/**
 * @module The per-function half of metering: rewrites one code body so that its entry
 * and every loop header pay a static fuel cost, its frame is counted against a
 * deterministic stack budget, and `memory.grow` goes through the guard. Everything is
 * decided from the bytecode alone, so the same module meters identically everywhere.
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
export function skipLocals(body: Uint8Array): { r: Reader; locals: number } {
  const r = new Reader(body);
  const groups = r.u32();
  let locals = 0;
  for (let i = 0; i < groups; i++) {
    locals += r.u32();
    skipValType(r);
  }
  return { r, locals };
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
  return [0x23, ...e, 0x42, ...encodeS64(BigInt(cost)), 0x7d, 0x24, ...e, 0x23, ...e, 0x42, 0x00, 0x53, 0x04, 0x40, 0x00, 0x0b];
}

/** `depth += frame; if (depth > budget) { flag = 2; unreachable }` */
function depthEnter(cx: BodyContext, frame: number): number[] {
  const d = encodeU32(cx.depthGlobal);
  return [
    0x23, ...d, 0x41, ...encodeS64(BigInt(frame)), 0x6a, 0x24, ...d,
    0x23, ...d, 0x41, ...encodeS64(BigInt(STACK_BUDGET)), 0x4b, 0x04, 0x40,
    0x41, STACK_FLAG, 0x24, ...encodeU32(cx.flagGlobal), 0x00, 0x0b,
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

/**
 * Rewrites one body. A checked function becomes
 * `fuel check; depth enter; block (result …) <body> end; depth exit; end`, with each
 * `return` turned into a branch to that block so the exit always runs (a trap or an
 * exception skips it, which only ever over-counts, deterministically).
 */
export function rewriteBody(body: Uint8Array, cx: BodyContext): { bytes: Uint8Array; loops: number; stateful: boolean } {
  const { r, locals } = skipLocals(body);
  const checked = !cx.leaves.has(cx.self);
  const frame = 64 + 16 * (cx.params + locals);
  const costs = [0];
  const edits: Edit[] = checked
    ? [{ pos: r.pos, del: 0, ins: () => [...fuelCheck(cx.fuelGlobal, costs[0]!), ...depthEnter(cx, frame), 0x02, ...cx.resultBlockType] }]
    : [];
  const control: number[] = [];
  let cur = 0;
  let stateful = false;
  while (!r.done) {
    const at = r.pos;
    const op = r.byte();
    costs[cur]!++;
    if (op === 0x26 || (op === 0xfc && STATEFUL_FC.has(body[at + 1]!))) stateful = true;
    skipImmediates(r, op);
    if (op === 0x10) costs[cur]! += cx.leaves.get(new Reader(body, at + 1).u32()) ?? 0;
    if (op === 0x02 || op === 0x04 || op === 0x06 || op === 0x1f) control.push(cur);
    else if (op === 0x03) {
      control.push(cur);
      const idx = costs.length;
      costs.push(0);
      cur = idx;
      edits.push({ pos: r.pos, del: 0, ins: () => fuelCheck(cx.fuelGlobal, costs[idx]!) });
    } else if (op === 0x0b || op === 0x18) {
      if (control.length === 0) {
        if (!r.done) throw new WasmFormatError("code after the end of a function body", r.pos);
        break;
      }
      cur = control.pop()!;
    } else if (op === 0x40) {
      if (body[at + 1] !== 0x00) throw new WasmFormatError("multiple memories are not supported", at);
      edits.push({ pos: at, del: r.pos - at, ins: () => [0x10, ...encodeU32(cx.guardFunc)] });
    } else if (checked && op === 0x0f) {
      const depth = control.length;
      edits.push({ pos: at, del: 1, ins: () => [0x0c, ...encodeU32(depth)] });
    } else if (checked && RETURN_CALLS.has(op)) {
      edits.push({ pos: at, del: 0, ins: () => depthExit(cx, frame) });
    }
  }
  if (checked) edits.push({ pos: body.length, del: 0, ins: () => [...depthExit(cx, frame), 0x0b] });
  const parts: Uint8Array[] = [];
  let from = 0;
  for (const e of edits) {
    parts.push(body.subarray(from, e.pos), Uint8Array.from(e.ins()));
    from = e.pos + e.del;
  }
  parts.push(body.subarray(from));
  return { bytes: concat(parts), loops: costs.length - 1, stateful };
}
