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

function utf8Encode(s) {
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

function head(out, major, n) {
  const m = major << 5;
  const big = BigInt(n);
  if (big < 24n) out.push(m | Number(big));
  else if (big <= 0xffn) out.push(m | 24, Number(big));
  else if (big <= 0xffffn) out.push(m | 25, Number(big >> 8n), Number(big & 0xffn));
  else {
    const size = big <= 0xffffffffn ? 4 : 8;
    out.push(m | (size === 4 ? 26 : 27));
    for (let i = size - 1; i >= 0; i--) out.push(Number((big >> BigInt(8 * i)) & 0xffn));
  }
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
    if (typeof v === "number" && !Number.isInteger(v)) throw new TypeError("cbor: non-integer numbers are not supported");
    const big = BigInt(v);
    if (big >= 0n) head(out, 0, big);
    else head(out, 1, -1n - big);
  } else if (typeof v === "string") {
    const b = utf8Encode(v);
    head(out, 3, b.length);
    for (const x of b) out.push(x);
  } else if (v instanceof Uint8Array) {
    head(out, 2, v.length);
    for (const x of v) out.push(x);
  } else if (Array.isArray(v)) {
    head(out, 4, v.length);
    for (const x of v) write(out, x);
  } else if (v instanceof Tag) {
    head(out, 6, v.tag);
    write(out, v.value);
  } else {
    const entries = v instanceof Map ? [...v.entries()] : Object.entries(v);
    const encoded = entries.map(([k, val]) => {
      const kb = [];
      write(kb, k);
      return [kb, val];
    });
    encoded.sort((x, y) => compareBytes(x[0], y[0]));
    for (let i = 1; i < encoded.length; i++) {
      if (compareBytes(encoded[i - 1][0], encoded[i][0]) === 0) throw new TypeError("cbor: duplicate map key");
    }
    head(out, 5, encoded.length);
    for (const [kb, val] of encoded) {
      for (const x of kb) out.push(x);
      write(out, val);
    }
  }
}

/** Canonical CBOR bytes of a value. */
export function encode(v) {
  const out = [];
  write(out, v);
  return Uint8Array.from(out);
}

// ---- decoder ----

/** Decodes exactly one definite-length CBOR item filling `bytes`. */
export function decode(bytes) {
  let pos = 0;
  const byte = () => {
    if (pos >= bytes.length) throw new RangeError("cbor: truncated");
    return bytes[pos++];
  };
  const arg = (ai) => {
    if (ai < 24) return BigInt(ai);
    if (ai > 27) throw new RangeError("cbor: indefinite or reserved length");
    let n = 0n;
    for (let i = 0; i < 1 << (ai - 24); i++) n = (n << 8n) | BigInt(byte());
    return n;
  };
  const int = (n) => (n <= MAX_SAFE ? Number(n) : n);
  const len = (n) => {
    if (n > BigInt(bytes.length - pos)) throw new RangeError("cbor: truncated");
    return Number(n);
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
        return int(n);
      case 1:
        return int(-1n - n) === -1n - n ? -1n - n : Number(-1n - n) >= -Number.MAX_SAFE_INTEGER ? Number(-1n - n) : -1n - n;
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
        for (let i = 0n; i < n; i++) a.push(item(depth + 1));
        return a;
      }
      case 5: {
        const entries = [];
        for (let i = 0n; i < n; i++) entries.push([item(depth + 1), item(depth + 1)]);
        if (entries.every(([k]) => typeof k === "string")) {
          const o = {};
          for (const [k, v] of entries) o[k] = v;
          return o;
        }
        return new Map(entries);
      }
      default:
        return new Tag(int(n), item(depth + 1));
    }
  };
  const v = item(0);
  if (pos !== bytes.length) throw new RangeError("cbor: trailing bytes");
  return v;
}
