/**
 * @module Shared zod schemas of AIR v1: names, hashes, identifiers and the type AST.
 * Patterns follow the AgentOS AIR v1 `common.schema.json` so files stay interchangeable.
 */
import { z } from "zod";

/** `namespace/Name@N`. */
export const NameSchema = z
  .string()
  .regex(/^[a-z][a-z0-9._-]*\/[A-Za-z][A-Za-z0-9._-]*@([1-9][0-9]*)$/, "expected a name like namespace/Name@1");
/** `sha256:` and 64 lowercase hex digits. */
export const HashTextSchema = z.string().regex(/^sha256:[0-9a-f]{64}$/, "expected sha256:<64 lowercase hex>");
/** A namespaced effect kind such as `http.request`. */
export const EffectKindSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_.-]*(\.[a-z0-9_.-]+)*$/, "expected an effect kind like http.request");
/** A capability type such as `http.out` (same grammar as effect kinds). */
export const CapTypeSchema = EffectKindSchema;
/** Slot, grant, field and tag names. */
export const IdentSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/, "expected an identifier");
/** The def kinds of AIR v1 (no defplan). */
export const DefKindSchema = z.enum([
  "defschema",
  "defmodule",
  "defeffect",
  "defcap",
  "defpolicy",
  "defsecret",
  "manifest",
]);
export type DefKind = z.infer<typeof DefKindSchema>;

/** Primitive type names of the AIR type system. */
export const PRIMITIVES = [
  "bool",
  "int",
  "nat",
  "dec128",
  "bytes",
  "text",
  "time",
  "duration",
  "hash",
  "uuid",
  "unit",
] as const;
export type Primitive = (typeof PRIMITIVES)[number];
/** The primitive types a map key may have. */
export const MAP_KEY_PRIMITIVES = ["int", "nat", "text", "uuid", "hash"] as const;

/** A type expression: a primitive, a composite, or a `ref` to a defschema. */
export type TypeExpr =
  | { bool: Record<string, never> }
  | { int: Record<string, never> }
  | { nat: Record<string, never> }
  | { dec128: Record<string, never> }
  | { bytes: Record<string, never> }
  | { text: Record<string, never> }
  | { time: Record<string, never> }
  | { duration: Record<string, never> }
  | { hash: Record<string, never> }
  | { uuid: Record<string, never> }
  | { unit: Record<string, never> }
  | { record: Record<string, TypeExpr> }
  | { variant: Record<string, TypeExpr> }
  | { list: TypeExpr }
  | { set: TypeExpr }
  | { map: { key: TypeExpr; value: TypeExpr } }
  | { option: TypeExpr }
  | { ref: string };

const COMPOSITES = ["record", "variant", "list", "set", "map", "option", "ref"] as const;
const IDENT = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Walks a candidate type AST and reports each problem with its exact path; a zod union
 * over a recursive AST would only say "invalid union" at the top.
 */
function checkTypeExpr(
  v: unknown,
  path: (string | number)[],
  issues: { message: string; path: (string | number)[] }[],
): void {
  const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
  if (!isObj(v)) return void issues.push({ message: 'a type must be an object such as {"text": {}}', path });
  const keys = Object.keys(v).filter((k) => k !== "$comment");
  if (keys.length !== 1)
    return void issues.push({ message: `a type has exactly one key, got ${keys.length} (${keys.join(", ")})`, path });
  const tag = keys[0]!;
  const body = v[tag];
  const at = [...path, tag];
  if ((PRIMITIVES as readonly string[]).includes(tag)) {
    if (!isObj(body) || Object.keys(body).some((k) => k !== "$comment"))
      issues.push({ message: `primitive ${tag} takes an empty object {}`, path: at });
    return;
  }
  switch (tag) {
    case "record":
    case "variant":
      if (!isObj(body)) return void issues.push({ message: `${tag} takes an object of named types`, path: at });
      for (const [k, t] of Object.entries(body)) {
        if (k === "$comment") continue;
        if (!IDENT.test(k))
          issues.push({
            message: `"${k}" is not a valid ${tag === "record" ? "field" : "variant tag"} name`,
            path: [...at, k],
          });
        checkTypeExpr(t, [...at, k], issues);
      }
      return;
    case "list":
    case "set":
    case "option":
      return checkTypeExpr(body, at, issues);
    case "map": {
      if (!isObj(body) || !("key" in body) || !("value" in body))
        return void issues.push({ message: "map takes {key, value}", path: at });
      const kt = body.key;
      const ktag = isObj(kt) ? Object.keys(kt)[0] : undefined;
      if (!ktag || !(MAP_KEY_PRIMITIVES as readonly string[]).includes(ktag)) {
        issues.push({ message: `map key must be one of ${MAP_KEY_PRIMITIVES.join(", ")}`, path: [...at, "key"] });
      }
      return checkTypeExpr(body.value, [...at, "value"], issues);
    }
    case "ref":
      if (typeof body !== "string" || !NameSchema.safeParse(body).success)
        issues.push({ message: "ref takes a schema name like ns/Name@1", path: at });
      return;
    default:
      issues.push({
        message: `unknown type "${tag}"; expected one of ${[...PRIMITIVES, ...COMPOSITES].join(", ")}`,
        path: at,
      });
  }
}

/** Removes `$comment` keys from a type AST (they are annotations, not identity). */
function stripTypeComments(v: unknown): TypeExpr {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v as TypeExpr;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v))
    if (k !== "$comment") out[k] = typeof x === "object" && x !== null ? stripTypeComments(x) : x;
  return out as TypeExpr;
}

/** Zod schema of the type AST: precise issues from a hand walker, `$comment`s removed. */
export const TypeExprSchema = z
  .unknown()
  .superRefine((v, ctx) => {
    const issues: { message: string; path: (string | number)[] }[] = [];
    checkTypeExpr(v, [], issues);
    for (const i of issues) ctx.addIssue({ code: "custom", message: i.message, path: i.path });
  })
  .transform((v) => stripTypeComments(v));

/** The single key of a type expression node (`record`, `text`, `ref`, ...). */
export function typeTag(t: TypeExpr): string {
  return Object.keys(t)[0]!;
}
