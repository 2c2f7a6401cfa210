/**
 * @module Minimal reading and writing of the core WASM binary format: LEB128, sections,
 * and the immediates of every instruction the metering rewriter may meet. Just enough to
 * walk code bodies; anything unknown is refused rather than guessed.
 */
import { WorldkernelError } from "../../air/errors.js";

/** Thrown for bytes this reader does not understand; callers map it to a load error. */
export class WasmFormatError extends WorldkernelError<"module.unsupported_feature"> {
  /** Byte offset in the module where reading stopped. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super("module.unsupported_feature", `${message} at byte ${offset}`);
    this.name = "WasmFormatError";
    this.offset = offset;
  }
}

/** A cursor over a byte array. */
export class Reader {
  pos: number;
  constructor(
    readonly bytes: Uint8Array,
    start = 0,
    readonly end = bytes.length,
  ) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  byte(): number {
    if (this.pos >= this.end) throw new WasmFormatError("unexpected end", this.pos);
    return this.bytes[this.pos++]!;
  }
  /** The next byte, without consuming it. */
  peek(): number {
    if (this.pos >= this.end) throw new WasmFormatError("unexpected end", this.pos);
    return this.bytes[this.pos]!;
  }
  /** Unsigned LEB128 up to 32 bits (as a number). */
  u32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new WasmFormatError("LEB128 too long", this.pos);
    }
  }
  /** Skips any LEB128 (signed or unsigned, up to 64 bits). */
  skipLeb(): void {
    for (let n = 0; n < 10; n++) if ((this.byte() & 0x80) === 0) return;
    throw new WasmFormatError("LEB128 too long", this.pos);
  }
  skip(n: number): void {
    if (this.pos + n > this.end) throw new WasmFormatError("unexpected end", this.pos);
    this.pos += n;
  }
  name(): string {
    const len = this.u32();
    const start = this.pos;
    this.skip(len);
    return new TextDecoder().decode(this.bytes.subarray(start, start + len));
  }
}

/** Unsigned LEB128 encoding. */
export function encodeU32(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 encoding of a bigint (for i64.const). */
export function encodeS64(v: bigint): number[] {
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0);
    out.push(done ? b : b | 0x80);
    if (done) return out;
  }
}

/** A name as length-prefixed UTF-8. */
export function encodeName(s: string): number[] {
  const b = new TextEncoder().encode(s);
  return [...encodeU32(b.length), ...b];
}

/** One top-level section: id and its content bytes (without the size header). */
export interface Section {
  id: number;
  content: Uint8Array;
}

/** Splits a core module into its sections; refuses components and unknown versions. */
export function readSections(bytes: Uint8Array): Section[] {
  const r = new Reader(bytes);
  const header = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  for (const h of header)
    if (r.byte() !== h) throw new WasmFormatError("not a core WASM module (bad magic or version)", r.pos - 1);
  const sections: Section[] = [];
  while (!r.done) {
    const id = r.byte();
    const size = r.u32();
    const start = r.pos;
    r.skip(size);
    sections.push({ id, content: bytes.subarray(start, start + size) });
  }
  return sections;
}

/** Reassembles a module from sections. */
export function writeSections(sections: Section[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00)];
  for (const s of sections) {
    parts.push(Uint8Array.of(s.id, ...encodeU32(s.content.length)), s.content);
  }
  return concat(parts);
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Skips a value type, including the typed references `(ref null? ht)`. */
export function skipValType(r: Reader): void {
  const b = r.byte();
  if (b === 0x63 || b === 0x64) r.skipLeb();
}

/** Skips a block type: empty, a value type, or a type index (s33). */
export function skipBlockType(r: Reader): void {
  const b = r.peek();
  // A one-byte negative s33 (0x40..0x7f) is `empty` or a value-type shorthand; an index is >= 0.
  if (b === 0x63 || b === 0x64) skipValType(r);
  else if ((b & 0xc0) === 0x40) r.pos++;
  else r.skipLeb();
}

/** Skips a memarg (alignment with optional memory index, then offset). */
function skipMemarg(r: Reader): void {
  const align = r.u32();
  if (align & 0x40) r.u32();
  r.skipLeb();
}

/** Skips the immediates of the 0xFC-prefixed (saturating, bulk memory, table) ops. */
function skipFC(r: Reader, sub: number): void {
  if (sub <= 7) return;
  const counts: Record<number, number> = { 8: 2, 9: 1, 10: 2, 11: 1, 12: 2, 13: 1, 14: 2, 15: 1, 16: 1, 17: 1 };
  const n = counts[sub];
  if (n === undefined) throw new WasmFormatError(`unknown 0xfc ${sub} instruction`, r.pos);
  for (let i = 0; i < n; i++) r.u32();
}

/** Skips the immediates of a 0xFD-prefixed (SIMD, relaxed SIMD) op. */
function skipFD(r: Reader, sub: number): void {
  if (sub <= 11 || sub === 92 || sub === 93) skipMemarg(r);
  else if (sub === 12 || sub === 13) r.skip(16);
  else if (sub >= 21 && sub <= 34) r.skip(1);
  else if (sub >= 84 && sub <= 91) {
    skipMemarg(r);
    r.skip(1);
  } else if (sub > 0x113) throw new WasmFormatError(`unknown 0xfd ${sub} instruction`, r.pos);
}

/** Skips the immediates of a 0xFE-prefixed (atomic) op. */
function skipFE(r: Reader, sub: number): void {
  if (sub === 3) r.skip(1);
  else if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) skipMemarg(r);
  else throw new WasmFormatError(`unknown 0xfe ${sub} instruction`, r.pos);
}

/**
 * Skips the immediates of `op` (already consumed). Control opcodes (block, loop, if,
 * try, else, end) are the caller's business except for their block type, skipped here.
 */
export function skipImmediates(r: Reader, op: number): void {
  if (op <= 0x01 || op === 0x05 || op === 0x0b || op === 0x0a || op === 0x0f || op === 0x19) return;
  if (op >= 0x02 && op <= 0x04) return skipBlockType(r);
  switch (op) {
    case 0x06:
      return skipBlockType(r); // try (legacy exceptions)
    case 0x07:
    case 0x08:
    case 0x09:
    case 0x18: // catch, throw, rethrow, delegate
    case 0x0c:
    case 0x0d:
    case 0x10:
    case 0x12:
    case 0x14:
    case 0x15:
    case 0x20:
    case 0x21:
    case 0x22:
    case 0x23:
    case 0x24:
    case 0x25:
    case 0x26:
    case 0x3f:
    case 0x40:
    case 0xd2:
    case 0xd5:
    case 0xd6:
      r.u32();
      return;
    case 0x0e: {
      // br_table
      const n = r.u32();
      for (let i = 0; i <= n; i++) r.u32();
      return;
    }
    case 0x11:
    case 0x13:
      r.u32();
      r.u32();
      return; // call_indirect: type, table
    case 0x1c: {
      const n = r.u32();
      for (let i = 0; i < n; i++) skipValType(r);
      return;
    }
    case 0x1f: {
      // try_table
      skipBlockType(r);
      const n = r.u32();
      for (let i = 0; i < n; i++) {
        const kind = r.byte();
        if (kind <= 1) r.u32();
        r.u32();
      }
      return;
    }
    case 0x41:
    case 0x42:
      r.skipLeb();
      return;
    case 0x43:
      r.skip(4);
      return;
    case 0x44:
      r.skip(8);
      return;
    case 0xd0: {
      // ref.null heaptype
      r.skipLeb();
      return;
    }
    case 0xfc:
      return skipFC(r, r.u32());
    case 0xfd:
      return skipFD(r, r.u32());
    case 0xfe:
      return skipFE(r, r.u32());
  }
  if (op >= 0x28 && op <= 0x3e) return skipMemarg(r);
  if ((op >= 0x1a && op <= 0x1b) || (op >= 0x45 && op <= 0xc4) || op === 0xd1 || op === 0xd3 || op === 0xd4) return;
  throw new WasmFormatError(`unsupported instruction 0x${op.toString(16)}`, r.pos - 1);
}
