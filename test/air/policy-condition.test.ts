/**
 * @module Policy conditions (air/policy-condition.ts, air/cel-values.ts): canonical values reach
 * CEL as ints, never doubles, whatever their JS representation; what has no faithful CEL form is
 * a typed fault, never a rounded value; evaluation never throws; compiling is cached by text.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { encodeDec128 } from "../../air/cbor/dec128.js";
import { CborTag, DEC128_TAG, type CborValue } from "../../air/cbor/value.js";
import { CelInputFault, toCel } from "../../air/cel-values.js";
import { compileCondition, type ConditionSubject } from "../../air/policy-condition.js";

const subject = (params: CborValue, extra: Partial<ConditionSubject> = {}): ConditionSubject => ({
  params,
  originKind: "workflow",
  originName: "t/M@1",
  key: "k",
  effectKind: "pay.send",
  capName: "ok",
  capType: "pay",
  module: "t/M@1",
  estimate: { tokens: 0, cents: 0 },
  ...extra,
});

function run(source: string, params: CborValue, extra: Partial<ConditionSubject> = {}) {
  const c = compileCondition(source);
  if (!c.ok) throw new Error(c.message);
  return c.condition.evaluate(subject(params, extra));
}

describe("canonical values as CEL inputs", () => {
  it("maps every integer to a CEL int, so a number and a bigint of one value compare alike", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (n) => {
        const asNumber = Number.isSafeInteger(Number(n)) ? Number(n) : n;
        expect(toCel({ a: asNumber })).toEqual(new Map([["a", n]]));
        expect(run(`params.a == ${n}`, { a: asNumber })).toEqual({ ok: true, value: true });
        expect(run(`params.a + 0 == params.a`, { a: asNumber })).toEqual({ ok: true, value: true });
      }),
      { numRuns: 200 },
    );
    expect(run("params.amount > 1000", { amount: 1001 })).toEqual({ ok: true, value: true });
    expect(run("params.amount > 1000", { amount: 1000 })).toEqual({ ok: true, value: false });
    expect(run("params.amount > 1000", { amount: 10n ** 18n })).toEqual({ ok: true, value: true });
  });

  it("refuses what has no faithful CEL form, with its path", () => {
    expect(() => toCel({ big: 2n ** 63n })).toThrow(CelInputFault);
    expect(run("true", { a: [1, { big: 2n ** 64n }] })).toEqual({
      ok: false,
      message: "$.params.a[1].big: 18446744073709551616 is outside CEL's 64-bit int range",
    });
    expect(run("true", { f: 1.5 })).toMatchObject({ ok: false, message: expect.stringMatching(/float/) });
    expect(run("true", new Map([[new Uint8Array(1), 1]]))).toMatchObject({ ok: false });
  });

  it("gives dec128 as its canonical decimal text, bytes as bytes, int-keyed maps with int keys", () => {
    const price = new CborTag(DEC128_TAG, encodeDec128("12.50"));
    expect(run("params.price == '12.5'", { price })).toEqual({ ok: true, value: true });
    expect(run("params.h == b'\\x01\\x02'", { h: Uint8Array.of(1, 2) })).toEqual({ ok: true, value: true });
    expect(run("params.m[7] == 'x'", { m: new Map<CborValue, CborValue>([[7, "x"]]) })).toEqual({
      ok: true,
      value: true,
    });
    // A variant is {"$tag", "$value"}; its tag is read by index.
    expect(run("params.v['$tag'] == 'card'", { v: { $tag: "card", $value: {} } })).toEqual({ ok: true, value: true });
  });
});

describe("evaluating a condition", () => {
  it("returns errors as data: a missing field, a wrong type, an overflow, a non-bool result", () => {
    expect(run("params.nope > 1", {})).toEqual({ ok: false, message: "field not found: nope" });
    expect(run("params.to > 1", { to: "bob" })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/overload/),
    });
    expect(run("params.a + 1 > 0", { a: 2n ** 63n - 1n })).toMatchObject({
      ok: false,
      message: expect.stringMatching(/overflow/),
    });
    expect(run("params.a", { a: 3 })).toEqual({ ok: false, message: "the condition gave an int, not a bool" });
    expect(run("has(params.nope) && params.nope > 1", {})).toEqual({ ok: true, value: false });
  });

  it("sees the key, origin, grant, module and estimate", () => {
    const s = { key: null, estimate: { tokens: 10, cents: 7 } };
    expect(
      run(
        "key == null && origin.name == 't/M@1' && cap_name == 'ok' && cap_type == 'pay' && effect_kind == 'pay.send' && estimate.cents == 7",
        {},
        s,
      ),
    ).toEqual({ ok: true, value: true });
    expect(run("key == b'\\x00'", {}, { key: Uint8Array.of(0) })).toEqual({ ok: true, value: true });
  });

  it("knows CEL's type names and macros' variables, and refuses names it does not declare", () => {
    expect(run("type(params.a) == int && type(params.s) == string", { a: 1, s: "x" })).toEqual({
      ok: true,
      value: true,
    });
    expect(run("params.l.exists(x, x > 2) && params.l.all(y, y > 0)", { l: [1, 2, 3] })).toEqual({
      ok: true,
      value: true,
    });
    expect(compileCondition("params.l.exists(x, x > y)")).toEqual({
      ok: false,
      message: expect.stringMatching(/unknown variable "y"/),
    });
  });

  it("compiles each distinct text once", () => {
    const a = compileCondition("params.x == 1");
    expect(compileCondition("params.x == 1")).toBe(a);
    expect(compileCondition("params.x ==")).toMatchObject({ ok: false });
    expect(compileCondition("x".repeat(5000))).toMatchObject({ ok: false, message: expect.stringMatching(/at most/) });
  });

  it("bounds nesting far below any stack, so whether a condition loads never depends on the host", () => {
    const parens = (n: number) => "(".repeat(n) + "true" + ")".repeat(n);
    expect(compileCondition(parens(64))).toMatchObject({ ok: true });
    // 500 nested parentheses overflow the parser's stack on a default Node: refused by count first.
    expect(compileCondition(parens(500))).toEqual({
      ok: false,
      message: "a condition has at most 64 opening brackets ( [ {, this one 500",
    });
    expect(compileCondition(Array(65).fill("true ? true : ").join("") + "false")).toMatchObject({ ok: false });
    expect(compileCondition(Array(200).fill("1").join(" + ") + " > 0")).toEqual({
      ok: false,
      message: "a condition nests at most 100 deep, this one 101",
    });
  });
});
