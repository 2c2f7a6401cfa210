/**
 * @module Typed values: golden vectors for every type in both JSON lenses, lens
 * equivalence, set/map order independence, ranges and precise error paths.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  canonicalizeJson,
  conformCbor,
  decodeStored,
  encodeStored,
  expandType,
  hashTypedValue,
  parseJsonLossless,
  schemaHash,
  toHex,
  toSugarJson,
  type TypeExpr,
} from "../../air/index.js";

interface Vector {
  label: string;
  type: TypeExpr;
  json: unknown;
  cbor_hex: string;
  schema_hash: string;
  hash: string;
}
const vectors = parseJsonLossless(
  readFileSync(new URL("../vectors/typed-values.json", import.meta.url), "utf8"),
) as Vector[];
const noRefs = () => undefined;

describe("typed value vectors", () => {
  for (const v of vectors) {
    it(v.label, () => {
      const t = expandType(v.type, noRefs);
      const value = canonicalizeJson(t, v.json);
      expect(toHex(encodeStored(value))).toBe(v.cbor_hex);
      expect(schemaHash(t)).toBe(v.schema_hash);
      expect(hashTypedValue(schemaHash(t), value)).toBe(v.hash);
      // Decoded bytes conform to the type and stay canonical; the sugar rendering loads back to the same bytes.
      const back = conformCbor(t, decodeStored(encodeStored(value)));
      expect(toHex(encodeStored(back))).toBe(v.cbor_hex);
      expect(toHex(encodeStored(canonicalizeJson(t, toSugarJson(t, value))))).toBe(v.cbor_hex);
    });
  }

  it("both lenses give the same bytes wherever the vectors pair them", () => {
    const pairs: [string, string][] = [
      ["bool", "bool tagged"],
      ["int negative", "int tagged"],
      ["bytes base64", "bytes tagged"],
      ["record sugar", "record tagged"],
      ["variant sugar", "variant tagged"],
      ["option none (null)", "option none (tagged)"],
      ["time integer ns", "time tagged"],
      ["map text keys as object", "map text keys as pairs"],
      ["dec128 1.5", "dec128 1.50 normalizes to 1.5"],
    ];
    const byLabel = new Map(vectors.map((v) => [v.label, v]));
    for (const [a, b] of pairs) expect(byLabel.get(a)!.hash, `${a} vs ${b}`).toBe(byLabel.get(b)!.hash);
  });
});

describe("order independence (property)", () => {
  const setOfText: TypeExpr = { set: { text: {} } };
  const mapNat: TypeExpr = { map: { key: { nat: {} }, value: { text: {} } } };
  it("permuting or duplicating set elements never changes the hash", () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 12 }), fc.nat(), (xs, seed) => {
        const shuffled = [...xs, ...xs.slice(0, seed % (xs.length + 1))].sort(() => 0).reverse();
        const h = (v: unknown) => hashTypedValue(schemaHash(setOfText), canonicalizeJson(setOfText, v));
        expect(h(shuffled)).toBe(h(xs));
      }),
      { numRuns: 300 },
    );
  });
  it("permuting map pairs never changes the hash", () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.nat(), { maxLength: 10 }), (keys) => {
        const pairs = keys.map((k) => [k, `v${k}`]);
        const h = (v: unknown) => toHex(encodeStored(canonicalizeJson(mapNat, v)));
        expect(h([...pairs].reverse())).toBe(h(pairs));
      }),
      { numRuns: 200 },
    );
  });
});

describe("errors name the path", () => {
  const person: TypeExpr = {
    record: {
      name: { text: {} },
      tags: { set: { text: {} } },
      age: { nat: {} },
      kind: { variant: { A: { unit: {} }, B: { int: {} } } },
    },
  };
  const cases: [string, TypeExpr, unknown, string, string][] = [
    ["wrong scalar", person, { name: 1, tags: [], age: 1, kind: { A: null } }, "air.type_mismatch", "$.name"],
    [
      "nested set element",
      person,
      { name: "x", tags: ["a", 2], age: 1, kind: { A: null } },
      "air.type_mismatch",
      "$.tags[1]",
    ],
    ["missing field", person, { name: "x", tags: [], kind: { A: null } }, "air.type_mismatch", "$.age"],
    [
      "unknown field",
      person,
      { name: "x", tags: [], age: 1, kind: { A: null }, extra: 1 },
      "air.type_mismatch",
      "$.extra",
    ],
    ["negative nat", person, { name: "x", tags: [], age: -1, kind: { A: null } }, "air.out_of_range", "$.age"],
    ["unknown variant tag", person, { name: "x", tags: [], age: 1, kind: { C: 1 } }, "air.type_mismatch", "$.kind"],
    ["nat beyond u64", { nat: {} }, "18446744073709551616", "air.out_of_range", "$"],
    ["int beyond i64", { int: {} }, "9223372036854775808", "air.out_of_range", "$"],
    ["unsafe JSON number", { int: {} }, 2 ** 60, "air.out_of_range", "$"],
    ["bad hash", { hash: {} }, "sha256:xyz", "air.type_mismatch", "$"],
    ["bad uuid", { uuid: {} }, "not-a-uuid", "air.type_mismatch", "$"],
    ["bad base64", { bytes: {} }, "@@@", "air.type_mismatch", "$"],
    ["inexact dec128", { dec128: {} }, "1.23456789012345678901234567890123456789", "air.out_of_range", "$"],
    ["bad time", { time: {} }, "yesterday", "air.type_mismatch", "$"],
    [
      "duplicate map key",
      { map: { key: { nat: {} }, value: { text: {} } } },
      [
        [1, "a"],
        [1, "b"],
      ],
      "air.type_mismatch",
      "$",
    ],
  ];
  for (const [label, t, v, code, path] of cases) {
    it(label, () => {
      let err: unknown;
      try {
        canonicalizeJson(t, v);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code, path });
    });
  }
  it("rejects recursive types and nested options", () => {
    const defs: Record<string, TypeExpr> = {
      "a/A@1": { record: { b: { ref: "a/B@1" } } },
      "a/B@1": { list: { ref: "a/A@1" } },
    };
    expect(() => expandType({ ref: "a/A@1" }, (n) => defs[n])).toThrow(
      expect.objectContaining({ code: "air.invalid_type" }),
    );
    expect(() => expandType({ option: { option: { nat: {} } } }, noRefs)).toThrow(
      expect.objectContaining({ code: "air.invalid_type" }),
    );
    expect(() => expandType({ ref: "a/Missing@1" }, noRefs)).toThrow(
      expect.objectContaining({ code: "air.unknown_ref" }),
    );
  });
  it("keeps integers beyond 2^53 exact", () => {
    const v = canonicalizeJson({ nat: {} }, "18446744073709551615");
    expect(v).toBe(18446744073709551615n);
    expect(toSugarJson({ nat: {} }, v)).toBe("18446744073709551615");
  });
});
