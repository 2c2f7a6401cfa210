/**
 * @module The SDKs' CBOR codecs against RFC 8949 §4.2.1 deterministic encoding: each
 * language's echo module (`run` returns its input) is fed a *non*-canonical envelope
 * (shuffled map keys, over-long heads) and must answer with exactly the bytes the
 * kernel's canonical encoder produces. The JS SDK codec is checked directly in Node.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeCanonical, toHex } from "../../air/index.js";
import type { CborValue } from "../../air/index.js";
import { packagePath } from "../../kernel/adapters/compile/paths.js";
import { decode as jsDecode, encode as jsEncode } from "../../modules/js/sdk/cbor.js";
import { ctxFor, extismStepper } from "./counter-fixture.js";

/** A CBOR head with a random (possibly over-long) width: legal CBOR, not canonical. */
function looseHead(out: number[], major: number, n: bigint, wide: boolean): void {
  const widths = [n < 24n ? 0 : -1, n <= 0xffn ? 1 : -1, n <= 0xffffn ? 2 : -1, n <= 0xffffffffn ? 4 : -1, 8].filter((w) => w >= 0);
  const w = wide ? widths[widths.length - 1]! : widths[0]!;
  if (w === 0) return void out.push((major << 5) | Number(n));
  out.push((major << 5) | { 1: 24, 2: 25, 4: 26, 8: 27 }[w]!);
  for (let i = w - 1; i >= 0; i--) out.push(Number((n >> BigInt(8 * i)) & 0xffn));
}

/** Encodes with map entries in insertion order reversed and every head widened. */
function looseEncode(v: CborValue, out: number[] = []): number[] {
  if (v === null) out.push(0xf6);
  else if (typeof v === "boolean") out.push(v ? 0xf5 : 0xf4);
  else if (typeof v === "number" || typeof v === "bigint") {
    const b = BigInt(v);
    if (b >= 0n) looseHead(out, 0, b, true);
    else looseHead(out, 1, -1n - b, true);
  } else if (typeof v === "string") {
    const b = new TextEncoder().encode(v);
    looseHead(out, 3, BigInt(b.length), true);
    out.push(...b);
  } else if (v instanceof Uint8Array) {
    looseHead(out, 2, BigInt(v.length), true);
    out.push(...v);
  } else if (Array.isArray(v)) {
    looseHead(out, 4, BigInt(v.length), true);
    for (const x of v) looseEncode(x, out);
  } else if (v instanceof Map) {
    looseHead(out, 5, BigInt(v.size), true);
    for (const [k, x] of [...v.entries()].reverse()) {
      looseEncode(k as CborValue, out);
      looseEncode(x as CborValue, out);
    }
  } else if (typeof v === "object") {
    const entries = Object.entries(v as Record<string, CborValue>).reverse();
    looseHead(out, 5, BigInt(entries.length), true);
    for (const [k, x] of entries) {
      looseEncode(k, out);
      looseEncode(x, out);
    }
  } else throw new Error(`unsupported ${typeof v}`);
  return out;
}

const key = fc.oneof(fc.string({ unit: "grapheme", maxLength: 6 }), fc.constantFrom("a", "b", "aa", "z", "count", "events", "é", "日本"));
const { value } = fc.letrec<{ value: CborValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.bigInt(0n, 2n ** 64n - 1n),
    fc.bigInt(-(2n ** 64n), -1n),
    fc.integer({ min: 0, max: 70000 }),
    fc.string({ unit: "grapheme", maxLength: 10 }),
    fc.uint8Array({ maxLength: 12 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 5 }),
    fc.uniqueArray(fc.tuple(fc.oneof(fc.bigInt(0n, 300n), key), tie("value")), { maxLength: 4, selector: ([k]) => (typeof k === "bigint" ? `n${k}` : `s${k}`) }).map((es) => new Map<CborValue, CborValue>(es)),
  ),
}));

const ECHO = {
  assemblyscript: "modules/assemblyscript/echo/echo.wasm",
  c: "modules/c/echo/echo.wasm",
  zig: "modules/zig/echo/echo.wasm",
} as const;

describe.each(Object.entries(ECHO))("%s SDK codec (echo module through Extism)", (_lang, path) => {
  it("re-encodes unsorted, over-long input canonically (RFC 8949 §4.2.1)", async () => {
    const s = await extismStepper(readFileSync(packagePath(path)), "run");
    try {
      await fc.assert(
        fc.asyncProperty(value, async (v) => {
          const input = Uint8Array.from(looseEncode(new Map<CborValue, CborValue>([["version", 1], ["input", v], ["ctx", ctxFor(0, "k")]])));
          const out = await s.call(input);
          expect(toHex(out)).toBe(toHex(encodeCanonical({ output: v })));
        }),
        { numRuns: 60 },
      );
    } finally {
      await s.close();
    }
  });
});

describe("JS SDK codec (modules/js/sdk/cbor.js, in Node)", () => {
  it("decodes loose input and re-encodes it canonically", () => {
    fc.assert(
      fc.property(value, (v) => {
        const bytes = Uint8Array.from(looseEncode(v));
        expect(toHex(jsEncode(jsDecode(bytes)))).toBe(toHex(encodeCanonical(v)));
      }),
      { numRuns: 200 },
    );
  });

  it("sorts keys by encoded bytes: shorter keys first, then bytewise", () => {
    expect(toHex(jsEncode({ bb: 1, a: 2, c: 3 }))).toBe(toHex(encodeCanonical({ a: 2, c: 3, bb: 1 })));
    expect(toHex(jsEncode({ bb: 1, a: 2, c: 3 }))).toBe("a361610261630362626201");
  });

  it("rejects indefinite lengths and trailing bytes", () => {
    expect(() => jsDecode(Uint8Array.of(0x9f, 0x01, 0xff))).toThrow(/indefinite/);
    expect(() => jsDecode(Uint8Array.of(0x01, 0x02))).toThrow(/trailing/);
  });
});
