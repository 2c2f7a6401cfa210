/**
 * @module Strict canonical CBOR decoder for untrusted bytes (bundles, module output, journal
 * bodies). It accepts exactly the encodings `encodeCanonical` produces and rejects anything
 * else with an error naming the byte offset: long heads, indefinite lengths, unsorted or
 * duplicate map keys, non-shortest floats, any NaN but f97e00, undefined and other simple values, bad UTF-8.
 */
import { AirError } from "../errors.js";
import { compareBytes } from "./encode.js";
import { CborTag, SELF_DESCRIBE_PREFIX, type CborValue, type CborObject } from "./value.js";

// fatal: invalid UTF-8 (overlong forms, encoded surrogates ED A0..BF xx, truncated
// sequences, bytes C0/C1/F5..FF, code points above U+10FFFF) is an error, never U+FFFD.
// ignoreBOM: a leading EF BB BF is the character U+FEFF, not a byte-order mark to drop;
// dropping it would decode to a string whose encoding is not the bytes that were read.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const MAX_DEPTH = 512;

/** Text strings up to this many bytes are checked for ASCII and built without the decoder. */
const SHORT_TEXT = 64;
const TEXT_CACHE_SIZE = 4096;
const textCache: (string | undefined)[] = new Array<string | undefined>(TEXT_CACHE_SIZE).fill(undefined);

class Reader {
  pos = 0;
  readonly view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  fail(message: string, at = this.pos): never {
    throw new AirError("cbor.malformed", `${message} at byte ${at}`, `@${at}`);
  }

  nonCanonical(message: string, at: number): never {
    throw new AirError("cbor.non_canonical", `${message} at byte ${at}`, `@${at}`);
  }

  need(n: number): void {
    if (this.pos + n > this.buf.length) this.fail(`truncated: need ${n} more byte(s)`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  /** Reads the argument of a head and checks it is in shortest form. */
  arg(ai: number, start: number): number | bigint {
    if (ai < 24) return ai;
    let v: number | bigint;
    let min: number | bigint;
    switch (ai) {
      case 24:
        v = this.u8();
        min = 24;
        break;
      case 25:
        this.need(2);
        v = this.view.getUint16(this.pos);
        this.pos += 2;
        min = 0x100;
        break;
      case 26:
        this.need(4);
        v = this.view.getUint32(this.pos);
        this.pos += 4;
        min = 0x10000;
        break;
      case 27: {
        this.need(8);
        const big = this.view.getBigUint64(this.pos);
        this.pos += 8;
        if (big < 0x100000000n) this.nonCanonical("integer head longer than needed", start);
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      case 31:
        return this.nonCanonical("indefinite length is not allowed", start);
      default:
        return this.fail(`reserved additional info ${ai}`, start);
    }
    if (v < min) this.nonCanonical("integer head longer than needed", start);
    return v;
  }

  length(ai: number, start: number): number {
    const n = this.arg(ai, start);
    if (typeof n === "bigint" || n > this.buf.length - this.pos) this.fail(`length ${n} exceeds the input`, start);
    return n as number;
  }

  item(depth: number): CborValue {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const start = this.pos;
    const ib = this.u8();
    const major = ib >> 5;
    const ai = ib & 0x1f;
    switch (major) {
      case 0:
        return this.arg(ai, start);
      case 1: {
        const n = this.arg(ai, start);
        return typeof n === "bigint" || n >= Number.MAX_SAFE_INTEGER ? -1n - BigInt(n) : -1 - n;
      }
      case 2: {
        const n = this.length(ai, start);
        const out = this.buf.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3: {
        const n = this.length(ai, start);
        const s = this.text(this.pos, n, start);
        this.pos += n;
        return s;
      }
      case 4: {
        const n = this.length(ai, start);
        const out: CborValue[] = new Array(n);
        for (let i = 0; i < n; i++) out[i] = this.item(depth + 1);
        return out;
      }
      case 5:
        return this.map(this.length(ai, start), depth, start);
      case 6: {
        const tag = this.arg(ai, start);
        if (tag === 55799) this.nonCanonical("self-describe tag inside an item", start);
        const value = this.item(depth + 1);
        return new CborTag(Number(tag), value);
      }
      default:
        return this.simple(ai, start);
    }
  }

  /**
   * A text string's bytes as a string. Short ASCII strings (keys, names, kinds) repeat
   * endlessly: they are found in a direct-mapped cache by a hash of their bytes and
   * confirmed byte by byte, so the UTF-8 decoder only sees the rest.
   */
  text(at: number, n: number, start: number): string {
    const buf = this.buf;
    if (n <= SHORT_TEXT) {
      let h = n;
      let ascii = true;
      for (let i = at; i < at + n; i++) {
        const c = buf[i]!;
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        h = (Math.imul(h, 31) + c) | 0;
      }
      if (ascii) {
        const slot = h & (TEXT_CACHE_SIZE - 1);
        const hit = textCache[slot];
        if (hit !== undefined && hit.length === n) {
          let same = true;
          for (let i = 0; i < n; i++) {
            if (hit.charCodeAt(i) !== buf[at + i]) {
              same = false;
              break;
            }
          }
          if (same) return hit;
        }
        let s = "";
        for (let i = at; i < at + n; i++) s += String.fromCharCode(buf[i]!);
        textCache[slot] = s;
        return s;
      }
    }
    try {
      return utf8.decode(buf.subarray(at, at + n));
    } catch {
      return this.fail("invalid UTF-8 in text string", start);
    }
  }

  map(n: number, depth: number, start: number): CborValue {
    const keys: CborValue[] = [];
    const values: CborValue[] = [];
    let prev: Uint8Array | null = null;
    let allText = true;
    for (let i = 0; i < n; i++) {
      const keyStart = this.pos;
      const key = this.item(depth + 1);
      const keyBytes = this.buf.subarray(keyStart, this.pos);
      if (prev !== null) {
        const c = compareBytes(prev, keyBytes);
        if (c === 0) this.nonCanonical("duplicate map key", keyStart);
        if (c > 0) this.nonCanonical("map keys not in canonical order", keyStart);
      }
      prev = keyBytes;
      if (typeof key !== "string") allText = false;
      keys.push(key);
      values.push(this.item(depth + 1));
    }
    if (!allText) return new Map(keys.map((k, i) => [k, values[i]!]));
    const obj: CborObject = {};
    for (let i = 0; i < n; i++) {
      const k = keys[i] as string;
      if (k === "__proto__")
        Object.defineProperty(obj, k, { value: values[i], enumerable: true, writable: true, configurable: true });
      else obj[k] = values[i]!;
    }
    void start;
    return obj;
  }

  simple(ai: number, start: number): CborValue {
    const v = this.simpleRaw(ai, start);
    // A float holding an integral value would re-encode as an integer in our data model.
    if (typeof v === "number" && Number.isSafeInteger(v)) this.nonCanonical("integral value encoded as a float", start);
    return v;
  }

  simpleRaw(ai: number, start: number): CborValue {
    switch (ai) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 25: {
        this.need(2);
        const bits = this.view.getUint16(this.pos);
        // RFC 8949 §4.2.2: the one deterministic NaN is f97e00 (quiet, positive, no payload).
        if ((bits & 0x7c00) === 0x7c00 && (bits & 0x03ff) !== 0 && bits !== CANONICAL_NAN_HALF) {
          this.nonCanonical("NaN not in canonical form f97e00", start);
        }
        const v = halfToNumber(bits);
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        // Any single-precision NaN (every sign, payload, quiet or signalling) is non-canonical.
        if ((this.view.getUint32(this.pos) & 0x7fffffff) > 0x7f800000)
          this.nonCanonical("NaN not in canonical form f97e00", start);
        const v = this.view.getFloat32(this.pos);
        this.pos += 4;
        if (isHalfExact(v)) this.nonCanonical("float not in shortest form", start);
        return v;
      }
      case 27: {
        this.need(8);
        // Any double-precision NaN is non-canonical.
        if ((this.view.getBigUint64(this.pos) & 0x7fffffffffffffffn) > 0x7ff0000000000000n) {
          this.nonCanonical("NaN not in canonical form f97e00", start);
        }
        const v = this.view.getFloat64(this.pos);
        this.pos += 8;
        if (Math.fround(v) === v || Number.isNaN(v)) this.nonCanonical("float not in shortest form", start);
        return v;
      }
      case 31:
        return this.nonCanonical("break outside an indefinite item", start);
      default:
        return this.fail(`simple value ${ai} is not allowed`, start);
    }
  }
}

/** The binary16 bits of the only NaN deterministic encoding allows (RFC 8949 §4.2.2). */
const CANONICAL_NAN_HALF = 0x7e00;

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function isHalfExact(v: number): boolean {
  if (Number.isNaN(v) || !Number.isFinite(v) || v === 0) return true;
  const a = Math.abs(v);
  if (a > 65504 || a < 2 ** -24) return false;
  const e = Math.floor(Math.log2(a));
  const quantum = 2 ** (Math.max(e, -14) - 10);
  return a / quantum === Math.round(a / quantum);
}

/** Decodes canonical CBOR (no prefix); throws `cbor.*` errors naming the byte offset. */
export function decodeCanonical(bytes: Uint8Array): CborValue {
  const r = new Reader(bytes);
  const v = r.item(0);
  if (r.pos !== bytes.length)
    throw new AirError(
      "cbor.trailing_bytes",
      `${bytes.length - r.pos} trailing byte(s) after the item at byte ${r.pos}`,
      `@${r.pos}`,
    );
  return v;
}

/** Decodes the stored form: the 55799 prefix followed by one canonical item. */
export function decodeStored(bytes: Uint8Array): CborValue {
  if (
    bytes.length < 3 ||
    bytes[0] !== SELF_DESCRIBE_PREFIX[0] ||
    bytes[1] !== SELF_DESCRIBE_PREFIX[1] ||
    bytes[2] !== SELF_DESCRIBE_PREFIX[2]
  ) {
    throw new AirError("cbor.missing_prefix", "stored CBOR must start with the self-describe tag d9d9f7", "@0");
  }
  return decodeCanonical(bytes.subarray(3));
}
