/**
 * @module A small canonical CBOR codec in plain JavaScript for worldkernel JS components
 * (no dependencies; runs inside StarlingMonkey). decode: uint/nint as number up to 2^53-1,
 * else bigint; text maps as plain objects, other maps as Map; tags as {tag, value}.
 * encode: RFC 8949 §4.2.1 deterministic — shortest heads, map keys sorted by encoded bytes.
 */

/** A CBOR tag (major type 6). */
export class Tag {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

const nativeEncoder = typeof TextEncoder === "function" ? new TextEncoder() : null;
const nativeDecoder = typeof TextDecoder === "function" ? new TextDecoder("utf-8", { fatal: true }) : null;

function utf8Encode(s) {
  if (nativeEncoder) return nativeEncoder.encode(s);
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.codePointAt(i);
    if (c > 0xffff) i++;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return out;
}

function utf8Decode(b, start, end) {
  if (nativeDecoder) return nativeDecoder.decode(b.subarray(start, end));
  let s = "";
  for (let i = start; i < end; ) {
    const x = b[i++];
    let c;
    if (x < 0x80) c = x;
    else if (x < 0xe0) c = ((x & 31) << 6) | (b[i++] & 63);
    else if (x < 0xf0) c = ((x & 15) << 12) | ((b[i++] & 63) << 6) | (b[i++] & 63);
    else c = ((x & 7) << 18) | ((b[i++] & 63) << 12) | ((b[i++] & 63) << 6) | (b[i++] & 63);
    s += String.fromCodePoint(c);
  }
  return s;
}

// ---- encoder ----

/** Growable output buffer (JS arrays of numbers are slow in an interpreter). */
class Out {
  constructor(capacity) {
    this.buf = new Uint8Array(capacity);
    this.len = 0;
  }
  room(n) {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  push(b) {
    if (this.len === this.buf.length) this.room(1);
    this.buf[this.len++] = b;
  }
  bytes(b) {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  result() {
    return this.buf.slice(0, this.len);
  }
}

function head(out, major, n) {
  const m = major << 5;
  if (typeof n === "number" && n <= 0xffffffff) {
    if (n < 24) out.push(m | n);
    else if (n <= 0xff) {
      out.push(m | 24);
      out.push(n);
    } else if (n <= 0xffff) {
      out.push(m | 25);
      out.push(n >>> 8);
      out.push(n & 0xff);
    } else {
      out.push(m | 26);
      for (let shift = 24; shift >= 0; shift -= 8) out.push((n >>> shift) & 0xff);
    }
    return;
  }
  const big = BigInt(n);
  if (big <= 0xffffffffn) return head(out, major, Number(big));
  out.push(m | 27);
  for (let i = 7; i >= 0; i--) out.push(Number((big >> BigInt(8 * i)) & 0xffn));
}

function compareBytes(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function write(out, v) {
  if (v === null) out.push(0xf6);
  else if (v === undefined) out.push(0xf7);
  else if (v === false) out.push(0xf4);
  else if (v === true) out.push(0xf5);
  else if (typeof v === "number" || typeof v === "bigint") {
    if (typeof v === "number") {
      if (!Number.isInteger(v)) throw new TypeError("cbor: non-integer numbers are not supported");
      if (v >= 0) head(out, 0, v);
      else head(out, 1, Number.isSafeInteger(v) ? -1 - v : -1n - BigInt(v));
      return;
    }
    if (v >= 0n) head(out, 0, v);
    else head(out, 1, -1n - v);
  } else if (typeof v === "string") {
    const b = utf8Encode(v);
    head(out, 3, b.length);
    out.bytes(b);
  } else if (v instanceof Uint8Array) {
    head(out, 2, v.length);
    out.bytes(v);
  } else if (Array.isArray(v)) {
    head(out, 4, v.length);
    for (const x of v) write(out, x);
  } else if (v instanceof Tag) {
    head(out, 6, v.tag);
    write(out, v.value);
  } else {
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
    const encoded = entries.map(([k, val]) => {
      const kb = new Out(16);
      write(kb, k);
      return [kb.result(), val];
    });
    encoded.sort((x, y) => compareBytes(x[0], y[0]));
    for (let i = 1; i < encoded.length; i++) {
      if (compareBytes(encoded[i - 1][0], encoded[i][0]) === 0) throw new TypeError("cbor: duplicate map key");
    }
    head(out, 5, encoded.length);
    for (const [kb, val] of encoded) {
      out.bytes(kb);
      write(out, val);
    }
  }
}

/** Canonical CBOR bytes of a value. */
export function encode(v) {
  const out = new Out(256);
  write(out, v);
  return out.result();
}

// ---- decoder ----

/** Decodes exactly one definite-length CBOR item filling `bytes`. */
export function decode(bytes) {
  let pos = 0;
  const byte = () => {
    if (pos >= bytes.length) throw new RangeError("cbor: truncated");
    return bytes[pos++];
  };
  // Arguments up to 4 bytes are numbers; 8-byte ones are bigint unless they fit 2^53.
  const arg = (ai) => {
    if (ai < 24) return ai;
    if (ai === 24) return byte();
    if (ai === 25) return byte() * 0x100 + byte();
    if (ai === 26) return ((byte() * 0x100 + byte()) * 0x100 + byte()) * 0x100 + byte();
    if (ai > 27) throw new RangeError("cbor: indefinite or reserved length");
    let n = 0n;
    for (let i = 0; i < 8; i++) n = (n << 8n) | BigInt(byte());
    return n <= MAX_SAFE ? Number(n) : n;
  };
  const len = (n) => {
    if (typeof n === "bigint" || n > bytes.length - pos) throw new RangeError("cbor: truncated");
    return n;
  };
  const item = (depth) => {
    if (depth > 64) throw new RangeError("cbor: nesting too deep");
    const ib = byte();
    const major = ib >> 5;
    const ai = ib & 31;
    if (major === 7) {
      if (ai === 20) return false;
      if (ai === 21) return true;
      if (ai === 22) return null;
      if (ai === 23) return undefined;
      if (ai === 25 || ai === 26 || ai === 27) {
        const size = 1 << (ai - 24);
        const view = new DataView(bytes.buffer, bytes.byteOffset + pos, size);
        pos += size;
        if (size === 4) return view.getFloat32(0);
        if (size === 8) return view.getFloat64(0);
        throw new RangeError("cbor: half floats are not supported");
      }
      throw new RangeError("cbor: unsupported simple value");
    }
    const n = arg(ai);
    switch (major) {
      case 0:
        return n;
      case 1: {
        if (typeof n === "number" && n < Number.MAX_SAFE_INTEGER) return -1 - n;
        const v = -1n - BigInt(n);
        return v >= -MAX_SAFE ? Number(v) : v;
      }
      case 2: {
        const l = len(n);
        pos += l;
        return bytes.slice(pos - l, pos);
      }
      case 3: {
        const l = len(n);
        pos += l;
        return utf8Decode(bytes, pos - l, pos);
      }
      case 4: {
        const a = [];
        const count = len(n); // every item takes at least one byte
        for (let i = 0; i < count; i++) a.push(item(depth + 1));
        return a;
      }
      case 5: {
        const entries = [];
        const count = len(n);
        for (let i = 0; i < count; i++) entries.push([item(depth + 1), item(depth + 1)]);
        if (entries.every(([k]) => typeof k === "string")) {
          const o = {};
          for (const [k, v] of entries) o[k] = v;
          return o;
        }
        return new Map(entries);
      }
      default:
        return new Tag(n, item(depth + 1));
    }
  };
  const v = item(0);
  if (pos !== bytes.length) throw new RangeError("cbor: trailing bytes");
  return v;
}
