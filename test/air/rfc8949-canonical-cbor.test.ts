/**
 * @module RFC 8949 §4.2 deterministic encoding: golden vectors (cross-checked against
 * cborg's independent RFC 8949 encoder), strict decoding of non-canonical input, and
 * property tests for round trips and key-order independence.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { encode as cborgEncode, rfc8949EncodeOptions } from "cborg";
import {
  decodeCanonical,
  decodeStored,
  encodeCanonical,
  encodeStored,
  fromHex,
  hashBytes,
  hashCanonical,
  hashValue,
  jsonToCbor,
  parseJsonLossless,
  sha256,
  toHex,
  type CborValue,
} from "../../air/index.js";

interface Vector {
  label: string;
  json: unknown;
  cbor_hex: string;
  hash: string;
}
const vectors = parseJsonLossless(
  readFileSync(new URL("../vectors/canonical-cbor.json", import.meta.url), "utf8"),
) as Vector[];

describe("golden vectors", () => {
  it("has the DESIGN §3 empty-map vector", () => {
    const v = vectors.find((x) => x.label === "empty map")!;
    expect(v.cbor_hex).toBe("d9d9f7a0");
    expect(v.hash).toBe("sha256:75bd49cb964988d6fd2c058f51230c3dc2a254753751fbe0f313b4b1e0681b69");
  });

  for (const v of vectors) {
    it(`encodes ${v.label}`, () => {
      const value = jsonToCbor(v.json);
      expect(toHex(encodeStored(value))).toBe(v.cbor_hex);
      expect(hashValue(value)).toBe(v.hash);
      // An independent RFC 8949 encoder agrees byte for byte.
      expect(toHex(cborgEncode(value, rfc8949EncodeOptions))).toBe(v.cbor_hex.slice(6));
      // Strict decoding then re-encoding is the identity on canonical bytes.
      const bytes = fromHex(v.cbor_hex);
      expect(toHex(encodeStored(decodeStored(bytes)))).toBe(v.cbor_hex);
    });
  }
});

describe("strict decoder rejects non-canonical input", () => {
  const cases: [string, string, string][] = [
    ["unsorted map keys", "a2616202616101", "cbor.non_canonical"],
    ["duplicate map keys", "a2616101616102", "cbor.non_canonical"],
    ["longer key before shorter key", "a262616101616202", "cbor.non_canonical"],
    ["integer head too long (24 in two bytes)", "190018", "cbor.non_canonical"],
    ["small integer in one-byte head", "1817", "cbor.non_canonical"],
    ["eight-byte head for a four-byte value", "1b00000000ffffffff", "cbor.non_canonical"],
    ["indefinite-length array", "9f01ff", "cbor.non_canonical"],
    ["indefinite-length text", "7f6161ff", "cbor.non_canonical"],
    ["undefined", "f7", "cbor.malformed"],
    ["simple value 16", "f0", "cbor.malformed"],
    ["float that fits in half precision written as double", "fb3ff8000000000000", "cbor.non_canonical"],
    ["integral value as a float", "f93c00", "cbor.non_canonical"],
    ["invalid UTF-8", "62c328", "cbor.malformed"],
    ["truncated text", "6561626364", "cbor.malformed"],
    ["length beyond input", "5bffffffffffffffff", "cbor.malformed"],
    ["trailing bytes", "0000", "cbor.trailing_bytes"],
    ["nested self-describe tag", "d9d9f700", "cbor.non_canonical"],
  ];
  for (const [label, hex, code] of cases) {
    it(label, () => {
      let err: unknown;
      try {
        decodeCanonical(fromHex(hex));
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code });
      expect((err as Error).message).toMatch(/at byte \d+/);
    });
  }
  it("requires the 55799 prefix on stored bytes", () => {
    expect(() => decodeStored(fromHex("a0"))).toThrow(expect.objectContaining({ code: "cbor.missing_prefix" }));
  });
  it("refuses to encode undefined, functions and unsafe integers", () => {
    expect(() => encodeCanonical({ a: undefined } as unknown as CborValue)).toThrow(
      expect.objectContaining({ code: "cbor.unsupported_value" }),
    );
    expect(() => encodeCanonical(2 ** 60)).toThrow(expect.objectContaining({ code: "cbor.unsupported_value" }));
    expect(() => encodeCanonical(2n ** 64n)).toThrow(expect.objectContaining({ code: "cbor.unsupported_value" }));
  });
  it("survives deep nesting without a stack overflow", () => {
    const deep = new Uint8Array(100_000).fill(0x81);
    expect(() => decodeCanonical(deep)).toThrow(expect.objectContaining({ code: "cbor.malformed" }));
  });
});

const jsonValue: fc.Arbitrary<CborValue> = fc.letrec<{ v: CborValue }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    fc
      .bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n })
      .filter((b) => b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)),
    fc.double({ noNaN: true }).filter((d) => !Number.isInteger(d)),
    fc.string({ unit: "grapheme" }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie("v"), { maxLength: 5 }),
    fc.dictionary(
      fc.string({ unit: "grapheme", maxLength: 8 }).filter((k) => k !== "__proto__"),
      tie("v"),
      { maxKeys: 5 },
    ),
  ),
})).v;

describe("properties", () => {
  it("decode(encode(x)) = x", () => {
    fc.assert(
      fc.property(jsonValue, (x) => {
        expect(decodeCanonical(encodeCanonical(x))).toEqual(x);
      }),
      { numRuns: 500 },
    );
  });
  it("re-encoding canonical bytes is the identity", () => {
    fc.assert(
      fc.property(jsonValue, (x) => {
        const b = encodeStored(x);
        expect(toHex(encodeStored(decodeStored(b)))).toBe(toHex(b));
      }),
      { numRuns: 500 },
    );
  });
  it("permuting object keys never changes the hash", () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ maxLength: 6 }).filter((k) => k !== "__proto__"),
          jsonValue,
          { maxKeys: 8 },
        ),
        fc.integer(),
        (obj, seed) => {
          const keys = Object.keys(obj);
          const shuffled: Record<string, CborValue> = {};
          const order = [...keys].sort(
            (a, b) => ((a.length * 31 + seed) % 7) - ((b.length * 31 + seed) % 7) || (a < b ? 1 : -1),
          );
          for (const k of order) shuffled[k] = obj[k]!;
          expect(hashValue(shuffled)).toBe(hashValue(obj));
        },
      ),
      { numRuns: 300 },
    );
  });
  it("agrees with cborg's RFC 8949 encoder on random values", () => {
    fc.assert(
      fc.property(jsonValue, (x) => {
        expect(toHex(encodeCanonical(x))).toBe(toHex(cborgEncode(x, rfc8949EncodeOptions)));
      }),
      { numRuns: 300 },
    );
  });
});

describe("fast paths agree with the slow ones", () => {
  it("texts of every head size, ASCII or not, match cborg byte for byte", () => {
    for (const n of [0, 1, 23, 24, 25, 100, 254, 255, 256, 257, 1000, 70000]) {
      for (const s of ["a".repeat(n), "é".repeat(n), `${"x".repeat(Math.max(0, n - 1))}€`]) {
        expect(toHex(encodeCanonical(s)), `${n} chars of ${s.slice(-1)}`).toBe(
          toHex(cborgEncode(s, rfc8949EncodeOptions)),
        );
      }
    }
  });

  it("objects sharing a first key but not a shape never share a key order (more shapes than the plan cache holds)", () => {
    const shapes = Array.from({ length: 40 }, (_, i) => {
      const o: Record<string, number> = { a: i };
      for (let k = 0; k < (i % 5) + 1; k++) o[String.fromCharCode(122 - ((i + k * 7) % 26)) + "x".repeat(i % 3)] = k;
      return o;
    });
    for (let round = 0; round < 3; round++) {
      for (const o of round === 1 ? [...shapes].reverse() : shapes)
        expect(toHex(encodeCanonical(o))).toBe(toHex(cborgEncode(o, rfc8949EncodeOptions)));
    }
  });

  it("short ASCII texts come back right when more of them than the decoder's text cache holds collide", () => {
    const texts = Array.from({ length: 10_000 }, (_, i) => `k${(i * 7919) % 100_000}`.padEnd(1 + (i % 60), "x"));
    const bytes = texts.map((t) => encodeCanonical([t, { [t]: t }]));
    for (const order of [texts.keys(), [...texts.keys()].reverse()]) {
      for (const i of order) expect(decodeCanonical(bytes[i]!)).toEqual([texts[i], { [texts[i]!]: texts[i] }]);
    }
  });

  it("results carved from a shared slab stay independent of later encodes", () => {
    const values = Array.from({ length: 3000 }, (_, i) => ({ i, pad: "p".repeat(i % 1200), list: [i, -i, `n${i}`] }));
    const bytes = values.map((v) => encodeStored(v));
    bytes[0]!.fill(0);
    values.slice(1).forEach((v, i) => expect(decodeStored(bytes[i + 1]!)).toEqual(v));
  });

  it("sha256, hashBytes and hashCanonical equal node:crypto's streaming digest at every size class", () => {
    const prefix = Uint8Array.of(0xd9, 0xd9, 0xf7);
    for (const n of [0, 1, 31, 32, 33, 64, 4092, 4093, 4094, 5000, 65532, 65533, 65534, 100_000]) {
      const b = Uint8Array.from({ length: n }, (_, i) => (i * 131 + n) & 0xff);
      const hex = createHash("sha256").update(b).digest("hex");
      expect(toHex(sha256(b)), `sha256 of ${n} bytes`).toBe(hex);
      expect(hashBytes(b)).toBe(`sha256:${hex}`);
      expect(hashCanonical(b), `hashCanonical of ${n} bytes`).toBe(
        `sha256:${createHash("sha256").update(prefix).update(b).digest("hex")}`,
      );
    }
  });
});

describe("NaN: only the deterministic encoding f97e00 is accepted (RFC 8949 §4.2.2)", () => {
  const rejectNaN = (hex: string): unknown => {
    try {
      decodeCanonical(fromHex(hex));
    } catch (e) {
      return e;
    }
    return undefined;
  };
  const nonCanonical: [string, string][] = [
    ["half NaN with payload 1", "f97e01"],
    ["half signalling NaN", "f97c01"],
    ["half NaN with the top payload bit only", "f97d00"],
    ["half NaN with all payload bits", "f97fff"],
    ["negative half NaN", "f9fe00"],
    ["negative half NaN with payload", "f9fc01"],
    ["single quiet NaN", "fa7fc00000"],
    ["single signalling NaN", "fa7f800001"],
    ["single NaN with all payload bits", "fa7fffffff"],
    ["negative single NaN", "faffc00000"],
    ["double quiet NaN", "fb7ff8000000000000"],
    ["double signalling NaN", "fb7ff0000000000001"],
    ["double NaN with all payload bits", "fb7fffffffffffffff"],
    ["negative double NaN", "fbfff8000000000000"],
  ];
  for (const [label, hex] of nonCanonical) {
    it(`rejects ${label} (${hex}) as cbor.non_canonical`, () => {
      const err = rejectNaN(hex);
      expect(err).toMatchObject({ code: "cbor.non_canonical", path: "@0" });
      expect((err as Error).message).toMatch(/NaN.* at byte 0\b/);
    });
  }
  it("rejects a non-canonical NaN nested in a map, naming its offset", () => {
    expect(rejectNaN("a16161f97e01")).toMatchObject({ code: "cbor.non_canonical", path: "@3" });
  });
  it("rejects every half-precision NaN bit pattern except 7e00", () => {
    for (let bits = 0; bits <= 0xffff; bits++) {
      if ((bits & 0x7c00) !== 0x7c00 || (bits & 0x3ff) === 0) continue;
      const hex = "f9" + bits.toString(16).padStart(4, "0");
      if (bits === 0x7e00) expect(Number.isNaN(decodeCanonical(fromHex(hex)))).toBe(true);
      else expect(rejectNaN(hex), hex).toMatchObject({ code: "cbor.non_canonical" });
    }
  });
  it("accepts f97e00 and the encoder emits exactly f97e00 for any NaN", () => {
    expect(Number.isNaN(decodeCanonical(fromHex("f97e00")))).toBe(true);
    expect(toHex(encodeCanonical(NaN))).toBe("f97e00");
    // A NaN read from other bit patterns still encodes canonically.
    const dv = new DataView(new ArrayBuffer(8));
    dv.setBigUint64(0, 0xfff8000000000001n);
    expect(toHex(encodeCanonical(dv.getFloat64(0)))).toBe("f97e00");
    expect(toHex(encodeCanonical([NaN, { n: NaN }]))).toBe("82f97e00a1616ef97e00");
    // Infinities are not NaNs and stay accepted.
    expect(decodeCanonical(fromHex("f97c00"))).toBe(Infinity);
    expect(decodeCanonical(fromHex("f9fc00"))).toBe(-Infinity);
  });
});
