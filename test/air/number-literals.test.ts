/**
 * @module Number literals become integers only when their exact decimal value is one (issue 21).
 * `1e-400` used to parse to the double 0 and be taken as the nat 0; `1.0000000000000001`
 * as 1. The lossless parse keeps such literals as text and the typed layer reads them
 * exactly, never through a double: a non-integer is `air.type_mismatch`, an integer beyond
 * the type's range `air.out_of_range`, both at the JSON path, in the sugar lens and the
 * tagged lens alike. An exact integer is accepted however it is written (`1e2`, `100.0`,
 * `1e19`): it is that integer, and the ones accepted before keep their bytes.
 */
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  canonicalizeJson,
  decodeDec128,
  encodeStored,
  expandType,
  jsonToCbor,
  parseDef,
  parseJsonLossless,
  toHex,
  type CborValue,
  type TypeExpr,
} from "../../air/index.js";

const T = (t: TypeExpr): TypeExpr => expandType(t, () => undefined);
const U64_MAX = 18446744073709551615n;
const I64_MAX = 9223372036854775807n;
const I64_MIN = -9223372036854775808n;
const TAG_WORD: Record<string, string> = {
  nat: "nat",
  int: "int",
  time: "time_ns",
  duration: "duration_ns",
  dec128: "dec128",
};

type Expect = { value: number | bigint | string } | { code: "air.type_mismatch" | "air.out_of_range" };
const ok = (value: number | bigint | string): Expect => ({ value });
const NOT_INT = { code: "air.type_mismatch" } as const;
const RANGE = { code: "air.out_of_range" } as const;

/** literal (as written in the JSON text), type, and what it becomes. */
const CASES: [string, string, Expect][] = [
  // Underflow and overflow of a double: never 0 or Infinity.
  ["1e-400", "nat", NOT_INT],
  ["1e-400", "int", NOT_INT],
  ["-1e-400", "int", NOT_INT],
  ["1e-400", "time", NOT_INT],
  ["1e-400", "duration", NOT_INT],
  ["1e400", "nat", RANGE],
  ["-1e400", "int", RANGE],
  ["1e400", "time", RANGE],
  ["1e400", "duration", RANGE],
  ["1e99999999999999999999", "nat", RANGE],
  ["1e-99999999999999999999", "nat", NOT_INT],
  // Fractions, however written, and digits a double would drop.
  ["0.5", "nat", NOT_INT],
  ["1.0e-1", "nat", NOT_INT],
  ["-0.5", "int", NOT_INT],
  ["1.0000000000000001", "nat", NOT_INT],
  ["0.99999999999999999", "nat", NOT_INT],
  ["9007199254740993.5", "int", NOT_INT],
  ["3e-324", "nat", NOT_INT],
  // Exact integers written with a fraction or an exponent: that integer (the bytes they always had).
  ["1e2", "nat", ok(100)],
  ["1E+2", "nat", ok(100)],
  ["100.0", "nat", ok(100)],
  ["1000e-1", "nat", ok(100)],
  ["-1e2", "int", ok(-100)],
  ["0.0", "nat", ok(0)],
  ["0e-400", "nat", ok(0)],
  ["0e400", "nat", ok(0)],
  ["1e15", "time", ok(1e15)],
  ["2.5e3", "duration", ok(2500)],
  // -0 is the integer 0 (JSON numbers are values; an integer has no signed zero).
  ["-0", "nat", ok(0)],
  ["-0.0", "nat", ok(0)],
  ["-0e5", "int", ok(0)],
  // Ranges: nat is u64, int / time / duration are i64 (ns), exactly at the edges.
  ["-1", "nat", RANGE],
  ["-1e0", "nat", RANGE],
  ["18446744073709551615", "nat", ok(U64_MAX)],
  ["18446744073709551616", "nat", RANGE],
  ["1.8446744073709551615e19", "nat", ok(U64_MAX)],
  ["1.8446744073709551616e19", "nat", RANGE],
  ["1e19", "nat", ok(10n ** 19n)],
  ["1e19", "int", RANGE],
  ["1e20", "nat", RANGE],
  ["9007199254740993.0", "nat", ok(9007199254740993n)],
  ["9.223372036854775807e18", "int", ok(I64_MAX)],
  ["-9.223372036854775808e18", "int", ok(I64_MIN)],
  ["-9.223372036854775809e18", "int", RANGE],
  ["9223372036854775808", "time", RANGE],
  ["-9223372036854775809", "duration", RANGE],
  // dec128 takes fractions, but never a value a double rounded: write those as strings.
  ["0.5", "dec128", ok("0.5")],
  ["1.50", "dec128", ok("1.5")],
  ["1e2", "dec128", ok("1E2")],
  ["1e21", "dec128", ok("1E21")],
  ["-0", "dec128", ok("0")],
  ["1e-400", "dec128", RANGE],
  ["1e400", "dec128", RANGE],
  ["0.10000000000000000001", "dec128", RANGE],
  ["9007199254740993.0", "dec128", RANGE],
];

const EVENT = (t: string) => T({ record: { key: { text: {} }, by: { [t]: {} } } as never });

function outcome(t: TypeExpr, json: string): { value: CborValue } | { code: string; path: string } {
  try {
    return { value: canonicalizeJson(t, parseJsonLossless(json)) };
  } catch (e) {
    const err = e as { code: string; path: string };
    return { code: err.code, path: err.path };
  }
}

function rendered(v: CborValue): unknown {
  const by = (v as { by: CborValue }).by;
  return typeof by === "object" && by !== null && "value" in by ? decodeDec128(by.value as Uint8Array) : by;
}

describe("number literals for integer types (table)", () => {
  for (const [literal, type, want] of CASES) {
    for (const lens of ["sugar", "tagged"] as const) {
      const word = TAG_WORD[type]!;
      const json = lens === "sugar" ? `{"key":"a","by":${literal}}` : `{"key":"a","by":{"${word}":${literal}}}`;
      it(`${type} ${literal} (${lens}) → ${"value" in want ? String(want.value) : want.code}`, () => {
        const got = outcome(EVENT(type), json);
        if ("value" in want) {
          expect(got).toHaveProperty("value");
          expect(rendered((got as { value: CborValue }).value)).toBe(want.value);
        } else {
          expect(got).toEqual({ code: want.code, path: lens === "sugar" ? "$.by" : `$.by.${word}` });
        }
      });
    }
  }

  it("an accepted literal has the bytes of the same integer written plainly", () => {
    for (const [literal, type, want] of CASES) {
      if (!("value" in want) || type === "dec128") continue;
      const plain = outcome(EVENT(type), `{"key":"a","by":${String(want.value)}}`) as { value: CborValue };
      const written = outcome(EVENT(type), `{"key":"a","by":${literal}}`) as { value: CborValue };
      expect(toHex(encodeStored(written.value)), literal).toBe(toHex(encodeStored(plain.value)));
    }
  });

  it("messages show the literal as written, not the double it would have been", () => {
    const msg = (json: string) => (outcome(EVENT("nat"), json) as unknown as { code: string }).code;
    expect(msg('{"key":"a","by":1e-400}')).toBe("air.type_mismatch");
    expect(() => canonicalizeJson(EVENT("nat"), parseJsonLossless('{"key":"a","by":1e-400}'))).toThrow(
      "expected nat, got 1e-400",
    );
    expect(() => canonicalizeJson(EVENT("nat"), parseJsonLossless('{"key":"a","by":1e400}'))).toThrow(
      "nat 1e400 is out of range 0..18446744073709551615",
    );
    expect(() => canonicalizeJson(EVENT("dec128"), parseJsonLossless('{"key":"a","by":1e-400}'))).toThrow(
      "dec128 1e-400 would be rounded to 0 as a JSON number: write it as a decimal string",
    );
    // A number passed in-process (not parsed from text) that is not finite shows as itself, not as null.
    expect(() => canonicalizeJson(T({ nat: {} }), Infinity)).toThrow("expected nat, got Infinity");
  });

  it("a literal kept as text is a number, not a record, option payload or variant, wherever it sits", () => {
    const rec = T({ record: { a: { option: { nat: {} } } } });
    expect(outcome(rec, '{"a":1e-400}')).toEqual({ code: "air.type_mismatch", path: "$.a" });
    expect(outcome(rec, "1e-400")).toMatchObject({ code: "air.type_mismatch", path: "$" });
    expect(outcome(T({ list: { nat: {} } }), "[1, 2, 1e-400]")).toEqual({ code: "air.type_mismatch", path: "$[2]" });
    expect(outcome(T({ variant: { A: { nat: {} } } }), '{"A": 1e400}')).toEqual({
      code: "air.out_of_range",
      path: "$.A",
    });
    expect(outcome(T({ unit: {} }), "1e-400")).toMatchObject({ code: "air.type_mismatch" });
    expect(outcome(T({ map: { key: { nat: {} }, value: { nat: {} } } }), "[[1e-400, 1]]")).toMatchObject({
      code: "air.type_mismatch",
      path: "$[0].key",
    });
    // A bare top-level literal too (a schema that is just a nat).
    expect(outcome(T({ nat: {} }), "1e-400")).toEqual({ code: "air.type_mismatch", path: "$" });
    expect(outcome(T({ nat: {} }), "1e19")).toEqual({ value: 10n ** 19n });
  });
});

describe("generic JSON keeps the double those literals always gave", () => {
  it("jsonToCbor maps a literal kept as text to the same double as before", () => {
    for (const s of ["1e-400", "3e-324", "1.0000000000000001", "0.10000000000000000001"])
      expect(jsonToCbor(parseJsonLossless(`{"x":${s}}`))).toEqual({ x: Number(s) });
    expect(() => jsonToCbor(parseJsonLossless('{"x":1e400}'))).toThrow(
      expect.objectContaining({ code: "cbor.unsupported_value", path: "$.x" }),
    );
    // Literals a double holds exactly are plain numbers, as always.
    expect(parseJsonLossless("[0.5, 1e2, 1.50, -0.0, 2.5e-5, 5e-324, 12345678901234567890]")).toEqual([
      0.5,
      100,
      1.5,
      -0,
      0.000025,
      5e-324,
      12345678901234567890n,
    ]);
  });

  it("a def's integer fields refuse them too (no nat 0 from 1e-400)", () => {
    const policy = (threshold: string) =>
      parseDef(parseJsonLossless(`{"$kind":"defpolicy","name":"demo/P@1","rules":[],"threshold":${threshold}}`));
    expect(policy("1e0")).toMatchObject({ ok: true });
    expect(policy("1.0000000000000001")).toMatchObject({
      ok: false,
      issues: [expect.objectContaining({ code: "air.schema_violation", path: "$.threshold" })],
    });
    const cost = (c: string) =>
      parseDef(
        parseJsonLossless(
          `{"$kind":"defpolicy","name":"demo/P@1","rules":[{"when":{"cost_over_cents":${c}},"decision":"deny"}]}`,
        ),
      );
    expect(cost("1e-400")).toMatchObject({
      ok: false,
      issues: [expect.objectContaining({ code: "air.schema_violation", path: "$.rules[0].when.cost_over_cents" })],
    });
  });
});

/** A literal's exact value as a fraction num / 10^den (den ≥ 0), by BigInt arithmetic on its text. */
function oracle(literal: string): { num: bigint; den: bigint } {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal)!;
  const frac = m[3] ?? "";
  const mant = BigInt(m[2]! + frac) * (m[1] === "-" ? -1n : 1n);
  const scale = BigInt(m[4] ?? "0") - BigInt(frac.length);
  return scale >= 0n ? { num: mant * 10n ** scale, den: 0n } : { num: mant, den: -scale };
}

/** The exact integer a literal denotes, or undefined when it is not an integer. */
function exactInteger(literal: string): bigint | undefined {
  const { num, den } = oracle(literal);
  const d = 10n ** den;
  return num % d === 0n ? num / d : undefined;
}

const digits = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((a) => a.join(""));
const literal = fc
  .tuple(
    fc.boolean(),
    fc.oneof(
      fc.constant("0"),
      fc.tuple(fc.integer({ min: 1, max: 9 }), digits(0, 24)).map(([a, b]) => `${a}${b}`),
    ),
    fc.option(digits(1, 24), { nil: undefined }),
    fc.option(fc.integer({ min: -450, max: 450 }), { nil: undefined }),
  )
  .map(
    ([neg, int, frac, exp]) =>
      `${neg ? "-" : ""}${int}${frac === undefined ? "" : `.${frac}`}${exp === undefined ? "" : `e${exp}`}`,
  );

describe("number literals (property, against BigInt arithmetic on the text)", () => {
  const ranges: [string, bigint, bigint][] = [
    ["nat", 0n, U64_MAX],
    ["int", I64_MIN, I64_MAX],
    ["time", I64_MIN, I64_MAX],
    ["duration", I64_MIN, I64_MAX],
  ];
  for (const [type, min, max] of ranges) {
    it(`${type}: accepted exactly when the literal is an integer in range, and then with the old bytes`, () => {
      const t = T({ [type]: {} } as never);
      fc.assert(
        fc.property(literal, (s) => {
          const got = outcome(t, s);
          const n = exactInteger(s);
          if (n === undefined) expect(got, s).toEqual({ code: "air.type_mismatch", path: "$" });
          else if (n < min || n > max) expect(got, s).toEqual({ code: "air.out_of_range", path: "$" });
          else expect(BigInt((got as { value: number | bigint }).value), s).toBe(n);
          // What the old parse gave (the double): whenever both accept, the bytes are the same.
          let before: CborValue | undefined;
          try {
            before = canonicalizeJson(t, Number(s));
          } catch {
            before = undefined;
          }
          if (before !== undefined && "value" in got)
            expect(toHex(encodeStored(got.value)), s).toBe(toHex(encodeStored(before)));
          // And whatever the old parse accepted but this refuses was a double's rounding, not the literal.
          if (before !== undefined && !("value" in got)) expect(BigInt(before as number), s).not.toBe(n);
        }),
        { numRuns: 2000 },
      );
    });
  }

  it("dec128: a literal is its exact value or refused, and keeps the bytes the double gave", () => {
    const t = T({ dec128: {} });
    fc.assert(
      fc.property(literal, (s) => {
        const got = outcome(t, s);
        let before: CborValue | undefined;
        try {
          before = canonicalizeJson(t, Number(s));
        } catch {
          before = undefined;
        }
        if (!("value" in got)) {
          expect(got.code, s).toBe("air.out_of_range");
          return;
        }
        const text = decodeDec128((got.value as { value: Uint8Array }).value);
        const a = oracle(s);
        const b = oracle(text.replace("E", "e"));
        const den = a.den > b.den ? a.den : b.den;
        expect(a.num * 10n ** (den - a.den), s).toBe(b.num * 10n ** (den - b.den));
        if (before !== undefined) expect(toHex(encodeStored(got.value)), s).toBe(toHex(encodeStored(before)));
      }),
      { numRuns: 2000 },
    );
  });
});
