/**
 * @module A small CBOR value type for worldkernel AssemblyScript modules: decode any
 * definite-length CBOR, encode canonically (RFC 8949 §4.2.1: shortest heads, map keys
 * sorted by their encoded bytes) so the kernel's strict decoder accepts module output.
 */

/** The shape of a CBOR value. */
export enum Kind { Uint, Nint, Bytes, Text, Array, Map, Tag, False, True, Null, Undefined, Float }

/** One CBOR value; which fields are meaningful depends on `kind`. */
export class Cbor {
  /** Uint: the value; Nint: n where value = -1 - n; Tag: the tag number. */
  num: u64 = 0;
  /** Bytes: the bytes; Float: the raw big-endian float bytes (2, 4 or 8). */
  bytes: Uint8Array = new Uint8Array(0);
  text: string = "";
  /** Array items; for a Tag, items[0] is the tagged value. */
  items: Array<Cbor> = [];
  keys: Array<Cbor> = [];
  values: Array<Cbor> = [];

  constructor(public kind: Kind) {}

  static uint(n: u64): Cbor { const v = new Cbor(Kind.Uint); v.num = n; return v; }
  static int(n: i64): Cbor {
    if (n >= 0) return Cbor.uint(<u64>n);
    const v = new Cbor(Kind.Nint); v.num = <u64>(-1 - n); return v;
  }
  static text(s: string): Cbor { const v = new Cbor(Kind.Text); v.text = s; return v; }
  static bytesOf(b: Uint8Array): Cbor { const v = new Cbor(Kind.Bytes); v.bytes = b; return v; }
  static nil(): Cbor { return new Cbor(Kind.Null); }
  static bool(b: bool): Cbor { return new Cbor(b ? Kind.True : Kind.False); }
  static array(): Cbor { return new Cbor(Kind.Array); }
  static map(): Cbor { return new Cbor(Kind.Map); }
  /** `text` when given, else null. */
  static textOrNull(s: string | null): Cbor { return s === null ? Cbor.nil() : Cbor.text(s); }

  isNull(): bool { return this.kind == Kind.Null; }

  /** Sets a text-keyed map entry (replacing an existing one); returns this for chaining. */
  set(key: string, value: Cbor): Cbor {
    assert(this.kind == Kind.Map, "cbor: set on a non-map");
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i];
      if (k.kind == Kind.Text && k.text == key) { this.values[i] = value; return this; }
    }
    this.keys.push(Cbor.text(key));
    this.values.push(value);
    return this;
  }

  /** The value under a text key of a map, or null when absent. */
  get(key: string): Cbor | null {
    if (this.kind != Kind.Map) return null;
    for (let i = 0; i < this.keys.length; i++) {
      const k = this.keys[i];
      if (k.kind == Kind.Text && k.text == key) return this.values[i];
    }
    return null;
  }

  /** Appends an array item; returns this for chaining. */
  push(item: Cbor): Cbor {
    assert(this.kind == Kind.Array, "cbor: push on a non-array");
    this.items.push(item);
    return this;
  }

  asU64(): u64 { assert(this.kind == Kind.Uint, "cbor: expected an unsigned integer"); return this.num; }
  asText(): string { assert(this.kind == Kind.Text, "cbor: expected text"); return this.text; }
  asBytes(): Uint8Array { assert(this.kind == Kind.Bytes, "cbor: expected bytes"); return this.bytes; }
  /** Text, or null when the value is CBOR null. */
  asTextOrNull(): string | null { return this.kind == Kind.Null ? null : this.asText(); }

  /** Canonical CBOR bytes of this value. */
  encode(): Uint8Array {
    const w = new Writer();
    w.value(this);
    return w.finish();
  }

  /** Decodes exactly one CBOR value filling all of `buf`. */
  static decode(buf: Uint8Array): Cbor {
    const r = new Reader(buf);
    const v = r.value(0);
    assert(r.pos == buf.length, "cbor: trailing bytes");
    return v;
  }
}

/** Growable byte buffer with canonical CBOR writers. */
class Writer {
  buf: Uint8Array = new Uint8Array(256);
  len: i32 = 0;

  byte(b: u8): void {
    if (this.len == this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.len++] = b;
  }
  raw(b: Uint8Array): void { for (let i = 0; i < b.length; i++) this.byte(b[i]); }

  /** Shortest head for major type `major` with argument `n`. */
  head(major: u8, n: u64): void {
    const m = major << 5;
    if (n < 24) { this.byte(m | <u8>n); return; }
    let size = 8;
    let ai: u8 = 27;
    if (n <= 0xff) { size = 1; ai = 24; } else if (n <= 0xffff) { size = 2; ai = 25; } else if (n <= 0xffffffff) { size = 4; ai = 26; }
    this.byte(m | ai);
    for (let i = size - 1; i >= 0; i--) this.byte(<u8>(n >> (<u64>i * 8)));
  }

  value(v: Cbor): void {
    switch (v.kind) {
      case Kind.Uint: this.head(0, v.num); break;
      case Kind.Nint: this.head(1, v.num); break;
      case Kind.Bytes: this.head(2, v.bytes.length); this.raw(v.bytes); break;
      case Kind.Text: {
        const b = Uint8Array.wrap(String.UTF8.encode(v.text));
        this.head(3, b.length); this.raw(b); break;
      }
      case Kind.Array: {
        this.head(4, v.items.length);
        for (let i = 0; i < v.items.length; i++) this.value(v.items[i]);
        break;
      }
      case Kind.Map: this.map(v); break;
      case Kind.Tag: this.head(6, v.num); this.value(v.items[0]); break;
      case Kind.False: this.byte(0xf4); break;
      case Kind.True: this.byte(0xf5); break;
      case Kind.Null: this.byte(0xf6); break;
      case Kind.Undefined: this.byte(0xf7); break;
      case Kind.Float: {
        const ai: u8 = v.bytes.length == 2 ? 25 : v.bytes.length == 4 ? 26 : 27;
        this.byte(0xe0 | ai); this.raw(v.bytes); break;
      }
    }
  }

  /** Map entries in the order of their encoded keys (bytewise), as RFC 8949 requires. */
  map(v: Cbor): void {
    const n = v.keys.length;
    const encoded = new Array<Uint8Array>(n);
    const order = new Array<i32>(n);
    for (let i = 0; i < n; i++) { encoded[i] = v.keys[i].encode(); order[i] = i; }
    for (let i = 1; i < n; i++) {
      const cur = order[i];
      let j = i - 1;
      while (j >= 0 && compareBytes(encoded[order[j]], encoded[cur]) > 0) { order[j + 1] = order[j]; j--; }
      order[j + 1] = cur;
    }
    for (let i = 1; i < n; i++) assert(compareBytes(encoded[order[i - 1]], encoded[order[i]]) != 0, "cbor: duplicate map key");
    this.head(5, n);
    for (let i = 0; i < n; i++) { this.raw(encoded[order[i]]); this.value(v.values[order[i]]); }
  }

  finish(): Uint8Array { return this.buf.slice(0, this.len); }
}

/** Bytewise comparison, shorter first on a common prefix. */
function compareBytes(a: Uint8Array, b: Uint8Array): i32 {
  const n = min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] != b[i]) return <i32>a[i] - <i32>b[i];
  return a.length - b.length;
}

/** Cursor over input bytes; rejects indefinite lengths and nesting deeper than 64. */
class Reader {
  pos: i32 = 0;
  constructor(public buf: Uint8Array) {}

  byte(): u8 { assert(this.pos < this.buf.length, "cbor: truncated"); return this.buf[this.pos++]; }
  take(n: u64): Uint8Array {
    assert(n <= <u64>(this.buf.length - this.pos), "cbor: truncated");
    const out = this.buf.slice(this.pos, this.pos + <i32>n);
    this.pos += <i32>n;
    return out;
  }
  arg(ai: u8): u64 {
    if (ai < 24) return ai;
    assert(ai <= 27, "cbor: indefinite or reserved length");
    const size = 1 << (ai - 24);
    let n: u64 = 0;
    for (let i = 0; i < size; i++) n = (n << 8) | this.byte();
    return n;
  }

  value(depth: i32): Cbor {
    assert(depth < 64, "cbor: nesting too deep");
    const ib = this.byte();
    const major = ib >> 5;
    const ai: u8 = ib & 31;
    if (major == 7) {
      if (ai == 20) return new Cbor(Kind.False);
      if (ai == 21) return new Cbor(Kind.True);
      if (ai == 22) return new Cbor(Kind.Null);
      if (ai == 23) return new Cbor(Kind.Undefined);
      assert(ai >= 25 && ai <= 27, "cbor: unsupported simple value");
      const f = new Cbor(Kind.Float);
      f.bytes = this.take(1 << (ai - 24));
      return f;
    }
    const n = this.arg(ai);
    switch (major) {
      case 0: return Cbor.uint(n);
      case 1: { const v = new Cbor(Kind.Nint); v.num = n; return v; }
      case 2: return Cbor.bytesOf(this.take(n));
      case 3: return Cbor.text(String.UTF8.decode(this.take(n).buffer));
      case 4: {
        const v = Cbor.array();
        for (let i: u64 = 0; i < n; i++) v.items.push(this.value(depth + 1));
        return v;
      }
      case 5: {
        const v = Cbor.map();
        for (let i: u64 = 0; i < n; i++) { v.keys.push(this.value(depth + 1)); v.values.push(this.value(depth + 1)); }
        return v;
      }
      default: {
        const v = new Cbor(Kind.Tag);
        v.num = n;
        v.items.push(this.value(depth + 1));
        return v;
      }
    }
  }
}
