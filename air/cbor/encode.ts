/**
 * @module Canonical CBOR encoder (RFC 8949 §4.2.1 core deterministic encoding).
 * Shortest heads, definite lengths, map keys sorted by their encoded bytes, floats in
 * their shortest exact form, no undefined. cbor-x cannot do this (see PACKAGES.md), so
 * this small writer owns the bytes; the vectors in test/vectors pin them.
 */
import { AirError } from "../errors.js";
import { CborRaw, CborTag, SELF_DESCRIBE_PREFIX, type CborValue, isCborObject } from "./value.js";
import { invalidUnicode, isWellFormedText } from "../unicode.js";

const utf8 = new TextEncoder();
const MAX_U64 = (1n << 64n) - 1n;

/** A growable byte buffer; one per top-level encode. */
class Writer {
  buf = new Uint8Array(256);
  view = new DataView(this.buf.buffer);
  len = 0;

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.ensure(n);
    const buf = this.buf;
    const at = this.len;
    // TypedArray#set has a fixed cost that dominates for map keys and hashes.
    if (n <= 32) for (let i = 0; i < n; i++) buf[at + i] = b[i]!;
    else buf.set(b, at);
    this.len = at + n;
  }

  /** Writes a major type with its argument in the shortest form. */
  head(major: number, arg: number | bigint): void {
    const m = major << 5;
    if (typeof arg === "number") {
      if (arg < 24) return this.byte(m | arg);
      if (arg < 0x100) {
        this.ensure(2);
        this.buf[this.len++] = m | 24;
        this.buf[this.len++] = arg;
        return;
      }
      if (arg < 0x10000) {
        this.ensure(3);
        this.buf[this.len++] = m | 25;
        this.view.setUint16(this.len, arg);
        this.len += 2;
        return;
      }
      if (arg < 0x100000000) {
        this.ensure(5);
        this.buf[this.len++] = m | 26;
        this.view.setUint32(this.len, arg);
        this.len += 4;
        return;
      }
      arg = BigInt(arg);
    }
    if (arg < 0x100000000n) return this.head(major, Number(arg));
    this.ensure(9);
    this.buf[this.len++] = m | 27;
    this.view.setBigUint64(this.len, arg);
    this.len += 8;
  }

  text(s: string): void {
    const n = s.length;
    if (n < 0x100) {
      // Fast path for short ASCII, the overwhelming case for keys, names and notes.
      const h = n < 24 ? 1 : 2;
      this.ensure(n + h);
      const start = this.len;
      const buf = this.buf;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + h + i] = c;
      }
      if (i === n) {
        if (h === 1) buf[start] = 0x60 | n;
        else {
          buf[start] = 0x78;
          buf[start + 1] = n;
        }
        this.len = start + h + n;
        return;
      }
    }
    // TextEncoder would silently write U+FFFD for a lone surrogate, so the bytes would no
    // longer be the string's: refuse it. Only this slow path can see one (surrogates are
    // not ASCII), and isWellFormed is constant time for one-byte strings.
    if (!isWellFormedText(s)) throw invalidUnicode(s, "$");
    // Worst case 3 bytes per UTF-16 unit; write the body first, then move it after the head.
    const max = s.length * 3;
    this.ensure(max + 9);
    const start = this.len;
    const headRoom = max < 24 ? 1 : max < 0x100 ? 2 : max < 0x10000 ? 3 : 5;
    const { written } = utf8.encodeInto(s, this.buf.subarray(start + headRoom));
    const need = written < 24 ? 1 : written < 0x100 ? 2 : written < 0x10000 ? 3 : 5;
    if (need !== headRoom) this.buf.copyWithin(start + need, start + headRoom, start + headRoom + written);
    this.head(3, written);
    this.len = start + need + written;
  }

  result(): Uint8Array {
    return copyOut(this.buf, this.len);
  }
}

// A fresh Uint8Array above 64 bytes gets its own off-heap backing store, which costs
// more than encoding a small record. Small results are carved from a shared slab instead
// (as Buffer.allocUnsafe does), keeping the plain Uint8Array type and copy semantics.
const SLAB_SIZE = 16 * 1024;
const SLAB_MAX_ITEM = 1024;
let slab = new ArrayBuffer(SLAB_SIZE);
let slabUsed = 0;

function copyOut(src: Uint8Array, len: number): Uint8Array {
  if (len > SLAB_MAX_ITEM) return src.slice(0, len);
  if (slabUsed + len > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, len);
  out.set(src.subarray(0, len));
  slabUsed += (len + 7) & ~7;
  return out;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** Bytewise order of canonical encodings: the order of map keys and set elements. */
export { compareBytes };

function writeInteger(w: Writer, v: number | bigint): void {
  const path = "$";
  if (typeof v === "bigint") {
    if (v >= 0n) {
      if (v > MAX_U64) throw new AirError("cbor.unsupported_value", `integer ${v} exceeds 64 bits`, path);
      return w.head(0, v);
    }
    const n = -1n - v;
    if (n > MAX_U64) throw new AirError("cbor.unsupported_value", `integer ${v} exceeds 64 bits`, path);
    return w.head(1, n);
  }
  if (v >= 0) w.head(0, v);
  else w.head(1, -1 - v);
}

/** Shortest IEEE 754 form that preserves the value exactly (RFC 8949 §4.2.2). */
function writeFloat(w: Writer, v: number): void {
  if (Number.isNaN(v)) {
    w.bytes(Uint8Array.of(0xf9, 0x7e, 0x00));
    return;
  }
  const half = toHalf(v);
  if (half !== null) {
    w.byte(0xf9);
    w.byte(half >> 8);
    w.byte(half & 0xff);
    return;
  }
  if (Math.fround(v) === v) {
    w.ensure(5);
    w.buf[w.len++] = 0xfa;
    w.view.setFloat32(w.len, v);
    w.len += 4;
    return;
  }
  w.ensure(9);
  w.buf[w.len++] = 0xfb;
  w.view.setFloat64(w.len, v);
  w.len += 8;
}

/** The binary16 bits of `v` when it converts exactly, else null. */
function toHalf(v: number): number | null {
  if (Math.fround(v) !== v) return null;
  const f32 = new DataView(new ArrayBuffer(4));
  f32.setFloat32(0, v);
  const bits = f32.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant >>> 13); // infinity
  if (exp === 0 && mant === 0) return sign; // ±0
  const e = exp - 127;
  if (e >= -14 && e <= 15) {
    if ((mant & 0x1fff) !== 0) return null;
    return sign | ((e + 15) << 10) | (mant >>> 13);
  }
  if (e >= -24 && e < -14) {
    // Subnormal half: the full significand (with hidden bit) must fit after the shift.
    const full = mant | 0x800000;
    const shift = 13 + (-14 - e);
    if ((full & ((1 << shift) - 1)) !== 0) return null;
    return sign | (full >>> shift);
  }
  return null;
}

function write(w: Writer, v: CborValue): void {
  const path = "$";
  switch (typeof v) {
    case "boolean":
      return w.byte(v ? 0xf5 : 0xf4);
    case "number":
      if (Number.isSafeInteger(v)) return writeInteger(w, v);
      if (Number.isInteger(v)) {
        throw new AirError("cbor.unsupported_value", `integer ${v} is beyond 2^53: pass it as a bigint`, path);
      }
      return writeFloat(w, v);
    case "bigint":
      return writeInteger(w, v);
    case "string":
      return w.text(v);
    case "object":
      break;
    default:
      throw new AirError("cbor.unsupported_value", `cannot encode a value of type ${typeof v}`, path);
  }
  if (v === null) return w.byte(0xf6);
  if (v instanceof Uint8Array) {
    w.head(2, v.length);
    return w.bytes(v);
  }
  if (Array.isArray(v)) {
    w.head(4, v.length);
    for (let i = 0; i < v.length; i++) {
      try {
        write(w, v[i]!);
      } catch (e) {
        throw withSegment(e, `[${i}]`);
      }
    }
    return;
  }
  if (v instanceof CborTag) {
    w.head(6, v.tag);
    return write(w, v.value);
  }
  if (v instanceof CborRaw) return w.bytes(v.bytes);
  if (v instanceof Map) return writeMap(w, [...v.entries()], path);
  if (isCborObject(v)) return writeObject(w, v);
  throw new AirError("cbor.unsupported_value", `cannot encode ${Object.prototype.toString.call(v)}`, path);
}

/** Paths are built only when an error unwinds, so the hot path never concatenates strings. */
function withSegment(e: unknown, seg: string): unknown {
  if (!(e instanceof AirError)) return e;
  const path = "$" + seg + e.path.slice(1);
  const base = e.message.replace(/ \(at [^)]*\)$/, "");
  return new AirError(e.code, base, path);
}

// Objects of one shape (the same key set in the same insertion order) recur endlessly:
// journal bodies, envelopes, records. Their canonical key order is computed once per shape.
// Plans are found by the first key (one Map lookup) and confirmed by comparing key lists:
// property names are interned strings, so each comparison is a pointer check.
interface KeyPlan {
  /** The keys in insertion order (what Object.keys returns for this shape). */
  shape: string[];
  /** For each canonical position, the key's index in `shape` (and in Object.values). */
  order: number[];
  bytes: Uint8Array[];
}
const plansByFirstKey = new Map<string, KeyPlan[]>();
const PLAN_FIRST_KEYS_LIMIT = 4096;
const PLANS_PER_FIRST_KEY = 16;

function planFor(keys: string[]): KeyPlan {
  const first = keys.length === 0 ? "" : keys[0]!;
  let list = plansByFirstKey.get(first);
  if (list !== undefined) {
    next: for (let p = 0; p < list.length; p++) {
      const shape = list[p]!.shape;
      if (shape.length !== keys.length) continue;
      for (let i = 1; i < keys.length; i++) if (shape[i] !== keys[i]) continue next;
      return list[p]!;
    }
  } else {
    if (plansByFirstKey.size >= PLAN_FIRST_KEYS_LIMIT) plansByFirstKey.clear();
    list = [];
    plansByFirstKey.set(first, list);
  }
  const plan = sortedPlan(keys);
  if (list.length >= PLANS_PER_FIRST_KEY) list.pop();
  list.unshift(plan);
  return plan;
}

function sortedPlan(keys: string[]): KeyPlan {
  const sorted = keys.map((k, i) => ({ i, b: encodeKeyAt(k) })).sort((a, b) => compareBytes(a.b, b.b));
  return { shape: keys.slice(), order: sorted.map((x) => x.i), bytes: sorted.map((x) => x.b) };
}

function writeObject(w: Writer, v: { [key: string]: CborValue }): void {
  const plan = planFor(Object.keys(v));
  // Values by position: one Object.values beats a keyed load per property at these sites.
  const values = Object.values(v);
  const n = plan.order.length;
  w.head(5, n);
  for (let i = 0; i < n; i++) {
    const at = plan.order[i]!;
    const val = values[at];
    if (val === undefined)
      throw new AirError("cbor.unsupported_value", "undefined is not encodable", `$.${plan.shape[at]!}`);
    w.bytes(plan.bytes[i]!);
    try {
      write(w, val);
    } catch (err) {
      throw withSegment(err, `.${plan.shape[at]!}`);
    }
  }
}

// Text map keys repeat endlessly (record fields, envelope keys): cache their encodings.
const keyCache = new Map<string, Uint8Array>();
const KEY_CACHE_LIMIT = 4096;

function encodeKey(k: CborValue): Uint8Array {
  if (typeof k !== "string") return encodeCanonical(k);
  let b = keyCache.get(k);
  if (b === undefined) {
    b = encodeCanonical(k);
    if (keyCache.size >= KEY_CACHE_LIMIT) keyCache.clear();
    keyCache.set(k, b);
  }
  return b;
}

/** `encodeKey` with a failure (an ill-formed text key) placed at the entry it keys. Not on the hot path: plans are cached. */
function encodeKeyAt(k: CborValue): Uint8Array {
  try {
    return encodeKey(k);
  } catch (e) {
    throw withSegment(e, typeof k === "string" ? `[${JSON.stringify(k)}]` : "[key]");
  }
}

function writeMap(w: Writer, entries: [CborValue, CborValue][], path: string): void {
  const encoded = entries.map(([k, val]) => ({ key: encodeKeyAt(k), val, k }));
  if (encoded.length > 1) encoded.sort((a, b) => compareBytes(a.key, b.key));
  for (let i = 1; i < encoded.length; i++) {
    if (compareBytes(encoded[i - 1]!.key, encoded[i]!.key) === 0) {
      throw new AirError("cbor.unsupported_value", `duplicate map key ${String(encoded[i]!.k)}`, path);
    }
  }
  w.head(5, encoded.length);
  for (const e of encoded) {
    w.bytes(e.key);
    try {
      write(w, e.val);
    } catch (err) {
      throw withSegment(err, typeof e.k === "string" ? `.${e.k}` : "[key]");
    }
  }
}

// One spare writer is reused across top-level encodes; a nested encode (a map key inside
// an encode in progress) finds it taken and allocates its own.
let spare: Writer | null = null;

function withWriter(prefix: boolean, v: CborValue): Uint8Array {
  const w = spare ?? new Writer();
  spare = null;
  w.len = 0;
  try {
    if (prefix) w.bytes(SELF_DESCRIBE_PREFIX);
    write(w, v);
    return w.result();
  } finally {
    if (w.buf.length <= 1 << 16) spare = w;
  }
}

/** Canonical CBOR bytes of `v`, without the self-describe prefix. */
export function encodeCanonical(v: CborValue): Uint8Array {
  return withWriter(false, v);
}

/** Canonical CBOR bytes of `v` prefixed with tag 55799: the stored and hashed form. */
export function encodeStored(v: CborValue): Uint8Array {
  return withWriter(true, v);
}
