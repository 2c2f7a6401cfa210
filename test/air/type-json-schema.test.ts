/**
 * @module The JSON Schema of an AIR type (air/values/type-json-schema.ts) against the judge it
 * describes: each value here is checked by a standard validator (Ajv, through the MCP SDK's own
 * provider, as an MCP client would check it) and by `canonicalizeJson`, and the two must agree.
 */
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { describe, expect, it } from "vitest";
import type { TypeExpr } from "../../air/schemas/common.js";
import { canonicalizeJson } from "../../air/values/canonicalize.js";
import { typeJsonSchema } from "../../air/values/type-json-schema.js";

const ajv = new AjvJsonSchemaValidator();

/** Whether the schema and the canonicalizer each accept `v`. */
function verdicts(t: TypeExpr, v: unknown): { schema: boolean; canonical: boolean } {
  const schema = ajv.getValidator(typeJsonSchema(t))(v).valid;
  let canonical = true;
  try {
    canonicalizeJson(t, v);
  } catch {
    canonical = false;
  }
  return { schema, canonical };
}

const T = {
  event: {
    record: {
      key: { text: {} },
      by: { nat: {} },
      note: { option: { text: {} } },
      at: { time: {} },
      amount: { dec128: {} },
      tags: { set: { text: {} } },
      id: { uuid: {} },
      ref: { hash: {} },
      blob: { bytes: {} },
    },
  },
  status: { variant: { Ok: { nat: {} }, Pending: { unit: {} }, Err: { option: { text: {} } } } },
  byName: { map: { key: { text: {} }, value: { int: {} } } },
  byNumber: { map: { key: { nat: {} }, value: { bool: {} } } },
  list: { list: { int: {} } },
} satisfies Record<string, TypeExpr>;

const H = `sha256:${"ab".repeat(32)}`;
const base = {
  key: "alice",
  by: 5,
  at: "2026-01-02T03:04:05Z",
  amount: "12.50",
  tags: ["a", "b"],
  id: "123e4567-e89b-12d3-a456-426614174000",
  ref: H,
  blob: "aGVsbG8=",
};

describe("AIR type → JSON Schema", () => {
  it.each([
    ["a record with every field", T.event, base],
    ["an option left out or null", T.event, { ...base, note: null }],
    ["a nat beyond 2^53 as a decimal string", T.event, { ...base, by: "18446744073709551615" }],
    ["time as nanoseconds", T.event, { ...base, at: 1_700_000_000_000_000_000n.toString() }],
    ["a variant with a value", T.status, { Ok: 3 }],
    ["a bare tag for a unit alternative", T.status, "Pending"],
    ["a bare tag for an option alternative", T.status, "Err"],
    ["a text-keyed map as an object", T.byName, { a: -1, b: 2 }],
    ["a text-keyed map as pairs", T.byName, [["a", -1]]],
    ["a nat-keyed map as pairs", T.byNumber, [[1, true]]],
    ["a list", T.list, [1, -2, "-3"]],
  ])("accepted by both: %s", (_what, t, v) => {
    expect(verdicts(t, v)).toEqual({ schema: true, canonical: true });
  });

  it.each([
    ["a missing field", T.event, { ...base, key: undefined }],
    ["an unknown field", T.event, { ...base, extra: 1 }],
    ["a negative nat", T.event, { ...base, by: -1 }],
    ["a fractional nat", T.event, { ...base, by: 1.5 }],
    ["text for a nat", T.event, { ...base, by: "five" }],
    ["a malformed hash", T.event, { ...base, ref: "sha256:xyz" }],
    ["an unknown variant tag", T.status, { Nope: 1 }],
    ["a bare tag whose alternative carries a value", T.status, "Ok"],
    ["two tags at once", T.status, { Ok: 1, Err: null }],
    ["a nat-keyed map as an object", T.byNumber, { 1: true }],
    ["a pair of three", T.byNumber, [[1, true, 3]]],
    ["a list of text", T.list, ["x"]],
  ])("refused by both: %s", (_what, t, v) => {
    expect(verdicts(t, JSON.parse(JSON.stringify(v)) as unknown)).toEqual({ schema: false, canonical: false });
  });

  it("a record's required fields are its non-option fields", () => {
    expect(typeJsonSchema(T.event)).toMatchObject({
      type: "object",
      required: ["key", "by", "at", "amount", "tags", "id", "ref", "blob"],
      additionalProperties: false,
    });
  });
});
