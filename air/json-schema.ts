/**
 * @module JSON Schema for AIR files (`wk air schema`), for editor completion and checks.
 * Generated from the zod def schemas; the type AST, which zod checks with a hand walker,
 * gets its recursive JSON Schema written out here.
 */
import { z } from "zod";
import { DEF_SCHEMAS } from "./schemas/defs.js";
import { MAP_KEY_PRIMITIVES, PRIMITIVES } from "./schemas/common.js";

const empty = { type: "object", maxProperties: 0 };
const one = (key: string, value: unknown) => ({
  type: "object",
  properties: { [key]: value },
  required: [key],
  additionalProperties: false,
});

/** The recursive JSON Schema of a type expression. */
function typeExprJsonSchema(ref: string): unknown {
  const t = { $ref: ref };
  return {
    description: "AIR type expression: a primitive, a composite, or a ref to a defschema",
    oneOf: [
      ...PRIMITIVES.map((p) => one(p, empty)),
      one("record", { type: "object", additionalProperties: t }),
      one("variant", { type: "object", additionalProperties: t }),
      one("list", t),
      one("set", t),
      one("option", t),
      one("map", {
        type: "object",
        properties: { key: { oneOf: MAP_KEY_PRIMITIVES.map((p) => one(p, empty)) }, value: t },
        required: ["key", "value"],
        additionalProperties: false,
      }),
      one("ref", { type: "string", pattern: "^[a-z][a-z0-9._-]*/[A-Za-z][A-Za-z0-9._-]*@([1-9][0-9]*)$" }),
    ],
  };
}

/** A JSON Schema accepting one AIR def or an array of defs (any kind). */
export function airJsonSchema(): Record<string, unknown> {
  const def = z.union(Object.values(DEF_SCHEMAS) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);
  const schema = z.toJSONSchema(z.union([def, z.array(def)]), { unrepresentable: "any", io: "input" }) as Record<
    string,
    unknown
  >;
  const typeRef = "#/$defs/TypeExpr";
  // Every `type` / `schema` slot that zod rendered as "anything" becomes a TypeExpr reference.
  const patch = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(patch);
    if (typeof node !== "object" || node === null) return;
    const o = node as Record<string, unknown>;
    const props = o.properties as Record<string, unknown> | undefined;
    if (props && o.properties && (props.$kind as { const?: string } | undefined)?.const) {
      for (const k of ["type", "schema"])
        if (k in props && Object.keys(props[k] as object).length === 0) props[k] = { $ref: typeRef };
    }
    Object.values(o).forEach(patch);
  };
  patch(schema);
  return {
    ...schema,
    $id: "https://worldkernel.dev/schemas/air-v1.json",
    title: "worldkernel AIR v1 file (a def or an array of defs)",
    $defs: { ...((schema.$defs as object) ?? {}), TypeExpr: typeExprJsonSchema(typeRef) },
  };
}
