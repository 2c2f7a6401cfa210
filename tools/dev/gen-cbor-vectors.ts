/**
 * @module Regenerates test/vectors/canonical-cbor.json and typed-values.json. The generic
 * vectors are cross-checked against cborg's RFC 8949 encoder in the test suite, so a
 * regeneration that drifts from the standard fails there, not silently here.
 * Run: npx tsx tools/dev/gen-cbor-vectors.ts
 */
import { writeFileSync } from "node:fs";
import { stringify } from "lossless-json";
import {
  canonicalizeJson,
  encodeStored,
  expandType,
  hashTypedValue,
  hashValue,
  jsonToCbor,
  schemaHash,
  toHex,
  type TypeExpr,
} from "../../air/index.js";

const generic: [string, unknown][] = [
  ["empty map", {}],
  ["empty array", []],
  ["zero", 0],
  ["23 (direct)", 23],
  ["24 (one byte)", 24],
  ["255", 255],
  ["256 (two bytes)", 256],
  ["65535", 65535],
  ["65536 (four bytes)", 65536],
  ["2^32-1", 4294967295],
  ["2^32 (eight bytes)", 4294967296],
  ["2^53-1", 9007199254740991],
  ["2^53 as bigint", 9007199254740992n],
  ["2^64-1", 18446744073709551615n],
  ["-1", -1],
  ["-24", -24],
  ["-25", -25],
  ["-2^64", -18446744073709551616n],
  ["true", true],
  ["false", false],
  ["null", null],
  ["empty text", ""],
  ["ascii text", "hello"],
  ["unicode text (é)", "héllo"],
  ["emoji text", "🦀 world"],
  ["CJK text", "世界"],
  ["key order: shorter first", { bb: 1, a: 2, ccc: 3 }],
  ["key order: bytewise", { b: 1, a: 2, B: 3 }],
  ["key order: unicode keys", { é: 1, z: 2, 世: 3 }],
  ["nested", { list: [1, [2, [3]], { x: null }], map: { k: "v" } }],
  ["float 1.5 (half)", 1.5],
  ["float 0.1 (double)", 0.1],
  ["float 100000.5 (single)", 100000.5],
  ["float -2.5", -2.5],
  ["24-char key", { abcdefghijklmnopqrstuvwx: 1 }],
];

const typed: [string, TypeExpr, unknown][] = [
  ["bool", { bool: {} }, true],
  ["bool tagged", { bool: {} }, { bool: true }],
  ["int negative", { int: {} }, -42],
  ["int tagged", { int: {} }, { int: -42 }],
  ["int i64 min (string)", { int: {} }, "-9223372036854775808"],
  ["nat u64 max (string)", { nat: {} }, "18446744073709551615"],
  ["nat tagged", { nat: {} }, { nat: 7 }],
  ["dec128 1.5", { dec128: {} }, "1.5"],
  ["dec128 1.50 normalizes to 1.5", { dec128: {} }, "1.50"],
  ["dec128 tagged", { dec128: {} }, { dec128: "-0.001" }],
  ["dec128 34 digits", { dec128: {} }, "1234567890123456789012345678901234"],
  ["bytes base64", { bytes: {} }, "AAEC/w=="],
  ["bytes tagged", { bytes: {} }, { bytes_b64: "AAEC/w==" }],
  ["text unicode", { text: {} }, "naïve 🦀"],
  ["time rfc3339 with ns", { time: {} }, "2026-11-23T12:00:00.123456789Z"],
  ["time integer ns", { time: {} }, "1795435200123456789"],
  ["time tagged", { time: {} }, { time_ns: "1795435200123456789" }],
  ["duration", { duration: {} }, 1500000000],
  ["hash", { hash: {} }, "sha256:75bd49cb964988d6fd2c058f51230c3dc2a254753751fbe0f313b4b1e0681b69"],
  ["uuid", { uuid: {} }, "123e4567-e89b-12d3-a456-426614174000"],
  ["unit", { unit: {} }, {}],
  ["record sugar", { record: { name: { text: {} }, count: { nat: {} } } }, { name: "a", count: 1 }],
  [
    "record tagged",
    { record: { name: { text: {} }, count: { nat: {} } } },
    { record: { name: { text: "a" }, count: { nat: 1 } } },
  ],
  ["record missing option is none", { record: { a: { text: {} }, b: { option: { nat: {} } } } }, { a: "x" }],
  ["option some", { option: { text: {} } }, "x"],
  ["option none (null)", { option: { text: {} } }, null],
  ["option none (tagged)", { option: { text: {} } }, { option: null }],
  ["variant sugar", { variant: { Ok: { text: {} }, Err: { nat: {} } } }, { Ok: "done" }],
  [
    "variant tagged",
    { variant: { Ok: { text: {} }, Err: { nat: {} } } },
    { variant: { tag: "Ok", value: { text: "done" } } },
  ],
  [
    "variant nested in option",
    { option: { variant: { A: { unit: {} }, B: { variant: { X: { int: {} } } } } } },
    { B: { X: -1 } },
  ],
  ["list", { list: { nat: {} } }, [3, 1, 2]],
  ["set sorted and deduplicated", { set: { text: {} } }, ["b", "a", "a", "aa"]],
  ["set same elements other order", { set: { text: {} } }, ["aa", "b", "a"]],
  ["set of nat", { set: { nat: {} } }, [256, 1, 24, 1]],
  ["map text keys as object", { map: { key: { text: {} }, value: { nat: {} } } }, { zz: 1, a: 2 }],
  [
    "map text keys as pairs",
    { map: { key: { text: {} }, value: { nat: {} } } },
    [
      ["a", 2],
      ["zz", 1],
    ],
  ],
  [
    "map nat keys",
    { map: { key: { nat: {} }, value: { text: {} } } },
    [
      [10, "ten"],
      [2, "two"],
    ],
  ],
  [
    "map hash keys",
    { map: { key: { hash: {} }, value: { bool: {} } } },
    [["sha256:75bd49cb964988d6fd2c058f51230c3dc2a254753751fbe0f313b4b1e0681b69", true]],
  ],
];

const genericVectors = generic.map(([label, json]) => {
  const cbor = encodeStored(jsonToCbor(json));
  return { label, json, cbor_hex: toHex(cbor), hash: hashValue(jsonToCbor(json)) };
});
const typedVectors = typed.map(([label, type, json]) => {
  const expanded = expandType(type, () => undefined);
  const value = canonicalizeJson(expanded, json);
  return {
    label,
    type,
    json,
    cbor_hex: toHex(encodeStored(value)),
    schema_hash: schemaHash(expanded),
    hash: hashTypedValue(schemaHash(expanded), value),
  };
});
writeFileSync("test/vectors/canonical-cbor.json", stringify(genericVectors, null, 1) + "\n");
writeFileSync("test/vectors/typed-values.json", stringify(typedVectors, null, 1) + "\n");
console.log(`${genericVectors.length} generic + ${typedVectors.length} typed vectors`);
