/**
 * @module The initial linear memory a WASM binary asks for, read from its bytes without
 * compiling it: the memory section and memory imports of a core module, and for a
 * component (componentize-js, jco, …) the same of every core module nested in it, at any
 * depth. The largest initial size wins: the kernel caps every core module's memory at the
 * module's `limits.memory_pages`, so the largest one is the one that fails to load.
 */
import { Reader, WasmFormatError } from "./wasm-bytes.js";

/** Where the largest initial memory was found. */
export interface InitialMemory {
  /** Initial size in 64 KiB pages (the largest over every memory found). */
  pages: number;
  /** The kind of binary read. */
  binary: "core" | "component";
  /** How many core modules were read (1 for a core module). */
  coreModules: number;
  /** Where the largest one is: `memory` or `import` of the core module at this index (depth-first order). */
  at: { coreModule: number; source: "memory" | "import" };
}

const MAGIC = [0x00, 0x61, 0x73, 0x6d];

/** Reads memory limits; returns the initial size in pages (64-bit memories too). */
function limitsMin(r: Reader): number {
  const flags = r.byte();
  if (flags > 0x0f) throw new WasmFormatError(`unknown memory limits flags 0x${flags.toString(16)}`, r.pos - 1);
  const min = leb(r);
  if (flags & 0x01) leb(r); // maximum
  if (flags & 0x08) r.u32(); // custom page size (log2)
  return min;
}

/** An unsigned LEB128 of up to 64 bits, as a number (sizes beyond 2^53 saturate). */
function leb(r: Reader): number {
  let result = 0;
  let scale = 1;
  for (let n = 0; n < 10; n++) {
    const b = r.byte();
    result += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return Math.min(result, Number.MAX_SAFE_INTEGER);
    scale *= 128;
  }
  throw new WasmFormatError("LEB128 too long", r.pos);
}

/** Skips a reference or value type (`(ref null? ht)` carries a heap type). */
function skipRefType(r: Reader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) leb(r);
}

/** Initial pages of the memories one core module defines and imports (null: it has none). */
function coreMemory(
  bytes: Uint8Array,
  start: number,
  end: number,
): { pages: number; source: "memory" | "import" } | null {
  const r = new Reader(bytes, start + 8, end);
  let best: { pages: number; source: "memory" | "import" } | null = null;
  const see = (pages: number, source: "memory" | "import") => {
    if (best === null || pages > best.pages) best = { pages, source };
  };
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const at = r.pos;
    if (at + size > end) throw new WasmFormatError("section runs past the end of the module", at);
    const s = new Reader(bytes, at, at + size);
    if (id === 5) {
      const n = s.u32();
      for (let i = 0; i < n; i++) see(limitsMin(s), "memory");
    } else if (id === 2) {
      const n = s.u32();
      for (let i = 0; i < n; i++) {
        s.name();
        s.name();
        const kind = s.byte();
        if (kind === 0x00) s.u32();
        else if (kind === 0x01) {
          skipRefType(s);
          limitsMin(s);
        } else if (kind === 0x02) see(limitsMin(s), "import");
        else if (kind === 0x03) {
          skipRefType(s);
          s.byte();
        } else if (kind === 0x04) {
          s.byte();
          s.u32();
        } else throw new WasmFormatError(`unknown import kind ${kind}`, s.pos - 1);
      }
    }
    r.pos = at + size;
  }
  return best;
}

/**
 * The largest initial memory `bytes` declares (a core module, or any core module inside a
 * component), or null when it declares none. Throws `WasmFormatError` for bytes that are
 * neither.
 */
export function initialMemoryPages(bytes: Uint8Array): InitialMemory | null {
  let coreModules = 0;
  // Held in an object: TypeScript does not follow assignments made inside the closure.
  const found: { best: { pages: number; coreModule: number; source: "memory" | "import" } | null } = { best: null };
  const visit = (start: number, end: number): "core" | "component" => {
    if (end - start < 8) throw new WasmFormatError("truncated WASM header", start);
    for (let i = 0; i < 4; i++)
      if (bytes[start + i] !== MAGIC[i]) throw new WasmFormatError("not a WASM binary (bad magic)", start + i);
    const layer = bytes[start + 6]! | (bytes[start + 7]! << 8);
    if (layer === 0) {
      if (bytes[start + 4] !== 0x01 || bytes[start + 5] !== 0x00)
        throw new WasmFormatError("unknown core WASM version", start + 4);
      const index = coreModules++;
      const m = coreMemory(bytes, start, end);
      if (m !== null && (found.best === null || m.pages > found.best.pages))
        found.best = { pages: m.pages, coreModule: index, source: m.source };
      return "core";
    }
    if (layer !== 1) throw new WasmFormatError(`unknown WASM layer ${layer}`, start + 6);
    const r = new Reader(bytes, start + 8, end);
    while (!r.done) {
      const id = r.byte();
      const size = r.u32();
      const at = r.pos;
      if (at + size > end) throw new WasmFormatError("section runs past the end of the component", at);
      // 1: a core module, 4: a nested component; both are whole binaries with their own preamble.
      if (id === 1 || id === 4) visit(at, at + size);
      r.pos = at + size;
    }
    return "component";
  };
  const binary = visit(0, bytes.length);
  const b = found.best;
  return b === null
    ? null
    : { pages: b.pages, binary, coreModules, at: { coreModule: b.coreModule, source: b.source } };
}
