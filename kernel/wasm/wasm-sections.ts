/**
 * @module Reading and appending to the module-level sections the metering rewrite
 * touches: types, imports, functions, globals, exports and memory limits. Appending
 * only, never renumbering: every new type, function and global goes after the
 * existing ones, so no index already in the code moves.
 */
import { WorldkernelError } from "../../air/errors.js";
import { Reader, WasmFormatError, concat, encodeU32, skipImmediates, skipValType, type Section } from "./wasm-bytes.js";

/** Raised when the module asks for more than its limits before running at all. */
export class MeteringLimitError extends WorldkernelError<"module.limits_exceeded"> {
  constructor(message: string) {
    super("module.limits_exceeded", message);
    this.name = "MeteringLimitError";
  }
}

/** Indices of the defined mutable globals; `opaque` if one cannot be read from JS (v128). */
export function mutableGlobals(s: Section | undefined, imported: number): { indices: number[]; opaque: boolean } {
  const out = { indices: [] as number[], opaque: false };
  if (!s) return out;
  const r = new Reader(s.content);
  const n = r.u32();
  for (let i = 0; i < n; i++) {
    const type = r.peek();
    skipValType(r);
    const mutable = r.byte() === 1;
    if (mutable && type === 0x7b) out.opaque = true;
    else if (mutable) out.indices.push(imported + i);
    // A constant expression has no blocks: it ends at the first `end`.
    for (let op = r.byte(); op !== 0x0b; op = r.byte()) skipImmediates(r, op);
  }
  return out;
}

/** The name of a custom section, or "" when unreadable. */
export function customName(s: Section): string {
  try {
    return new Reader(s.content).name();
  } catch {
    return "";
  }
}

/** A function type: param count and the encoded result types. */
export interface FuncType {
  params: number;
  /** The encoded result value types. */
  results: Uint8Array;
  resultCount: number;
}

/** The type section; only function types (no GC types) are supported. */
export function readTypes(s: Section | undefined): FuncType[] {
  if (!s) return [];
  const r = new Reader(s.content);
  const n = r.u32();
  const out: FuncType[] = [];
  for (let i = 0; i < n; i++) {
    if (r.byte() !== 0x60) throw new WasmFormatError("only function types are supported (no GC types)", r.pos - 1);
    const params = r.u32();
    for (let k = 0; k < params; k++) skipValType(r);
    const resultCount = r.u32();
    const start = r.pos;
    for (let k = 0; k < resultCount; k++) skipValType(r);
    out.push({ params, results: s.content.slice(start, r.pos), resultCount });
  }
  return out;
}

/** The function section: each defined function's type index. */
export function readFuncTypes(s: Section | undefined, typeCount: number): number[] {
  if (!s) return [];
  const r = new Reader(s.content);
  const n = r.u32();
  // Each entry takes at least a byte: a larger count is a lie, not an array to allocate.
  const room = s.content.length - r.pos;
  if (n > room) throw new WasmFormatError(`function section declares ${n} functions in ${room} bytes`, r.pos);
  return Array.from({ length: n }, () => {
    const at = r.pos;
    const t = r.u32();
    if (t >= typeCount) throw new WasmFormatError(`function type index ${t} is out of range (${typeCount} types)`, at);
    return t;
  });
}

/** Entry count of a vector section (0 when absent). */
export function vecCount(s: Section | undefined): number {
  return s ? new Reader(s.content).u32() : 0;
}

/** Appends pre-encoded entries to a vector section (or creates it). */
export function appendVec(s: Section | undefined, entries: number[][]): Uint8Array {
  const r = s ? new Reader(s.content) : undefined;
  const count = r ? r.u32() : 0;
  const rest = s && r ? s.content.subarray(r.pos) : new Uint8Array(0);
  return concat([Uint8Array.from(encodeU32(count + entries.length)), rest, Uint8Array.from(entries.flat())]);
}

/** How many functions, globals and memories the module imports. */
export function countImports(s: Section | undefined): { funcs: number; globals: number; memories: number } {
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

/** Skips table or memory limits. */
export function skipLimits(r: Reader): void {
  const flags = r.byte();
  r.skipLeb();
  if (flags & 0x01) r.skipLeb();
}

/** Refuses exports in the reserved `__wk_` namespace. */
export function checkExportNames(s: Section | undefined): void {
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
export function capMemory(s: Section, pages: number): Uint8Array {
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
