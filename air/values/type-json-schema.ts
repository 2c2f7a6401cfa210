/**
 * @module The JSON Schema (draft-07) of the values of an AIR type, in the authoring lens that
 * `wk send`, `POST /v1/…/events` and MCP's `send_event` take: what an agent reads to build an
 * event before sending it. `canonicalizeJson` stays the judge (it also takes the tagged lens,
 * and checks ranges a schema cannot state, such as u64 beyond a double); every value this
 * schema describes it accepts, with the bounds the schema can say said here.
 */
import type { TypeExpr } from "../schemas/common.js";

/** A JSON Schema node. */
export type JsonSchema = Record<string, unknown>;

const INTEGER_TEXT = "^-?[0-9]+$";
const NAT_TEXT = "^[0-9]+$";

/** An integer as a JSON number, or (beyond 2^53, where a double loses digits) as a decimal string. */
const integer = (description: string, min?: number): JsonSchema => ({
  description,
  anyOf: [
    { type: "integer", ...(min === undefined ? {} : { minimum: min }) },
    { type: "string", pattern: min === undefined ? INTEGER_TEXT : NAT_TEXT },
  ],
});

/** The schema of each primitive. */
const PRIMITIVE: Record<string, () => JsonSchema> = {
  bool: () => ({ type: "boolean" }),
  int: () => integer("int: a signed 64-bit integer (a decimal string beyond 2^53)"),
  nat: () => integer("nat: an unsigned 64-bit integer (a decimal string beyond 2^53)", 0),
  dec128: () => ({
    description: 'dec128: a decimal, best as a string ("12.50") so no digit is lost to a double',
    anyOf: [{ type: "string", pattern: "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$" }, { type: "number" }],
  }),
  bytes: () => ({ type: "string", contentEncoding: "base64", description: "bytes, base64" }),
  text: () => ({ type: "string" }),
  time: () => ({
    description: "time: an RFC 3339 timestamp, or nanoseconds since the epoch",
    anyOf: [{ type: "string", format: "date-time" }, { type: "integer" }, { type: "string", pattern: INTEGER_TEXT }],
  }),
  duration: () => integer("duration: nanoseconds"),
  hash: () => ({ type: "string", pattern: "^sha256:[0-9a-f]{64}$" }),
  uuid: () => ({ type: "string", format: "uuid" }),
  unit: () => ({ description: "unit: {} or null", anyOf: [{ type: "object", maxProperties: 0 }, { type: "null" }] }),
};

/** True when a value of `t` may be left out or written as null (a variant's bare tag, a missing record field). */
const nullable = (t: TypeExpr): boolean => "option" in t || "unit" in t;

/** The JSON Schema of the values of an expanded AIR type (no `ref` left: `SchemaEntry.expanded`). */
export function typeJsonSchema(t: TypeExpr): JsonSchema {
  const tag = Object.keys(t)[0]!;
  const prim = PRIMITIVE[tag];
  if (prim !== undefined) return prim();
  if ("record" in t) {
    const fields = Object.entries(t.record);
    return {
      type: "object",
      properties: Object.fromEntries(fields.map(([k, ft]) => [k, typeJsonSchema(ft)])),
      required: fields.filter(([, ft]) => !("option" in ft)).map(([k]) => k),
      additionalProperties: false,
    };
  }
  if ("variant" in t) {
    const alts = Object.entries(t.variant);
    return {
      description: `a variant: {"Tag": value}${alts.some(([, a]) => nullable(a)) ? ', or a bare "Tag" for one that carries nothing' : ""}`,
      anyOf: [
        ...alts.map(([tagName, at]) => ({
          type: "object",
          properties: { [tagName]: typeJsonSchema(at) },
          required: [tagName],
          additionalProperties: false,
        })),
        ...alts.filter(([, at]) => nullable(at)).map(([tagName]) => ({ const: tagName })),
      ],
    };
  }
  if ("list" in t) return { type: "array", items: typeJsonSchema(t.list) };
  if ("set" in t) return { type: "array", items: typeJsonSchema(t.set), description: "a set (duplicates collapse)" };
  if ("option" in t) return { anyOf: [typeJsonSchema(t.option), { type: "null" }] };
  if ("map" in t) {
    const value = typeJsonSchema(t.map.value);
    const pairs: JsonSchema = {
      type: "array",
      items: { type: "array", items: [typeJsonSchema(t.map.key), value], minItems: 2, maxItems: 2 },
      description: "a map as [[key, value], …]",
    };
    return "text" in t.map.key ? { anyOf: [{ type: "object", additionalProperties: value }, pairs] } : pairs;
  }
  // An unexpanded ref (or an unknown tag): anything; canonicalization will say what is wrong.
  return { description: `unexpanded type ${tag}` };
}
