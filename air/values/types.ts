/**
 * @module Type resolution: expand `ref`s through a resolver into a fully expanded type AST
 * (the thing a schema hash identifies), rejecting recursion and nested options.
 */
import { AirError, jsonPath } from "../errors.js";
import { hashValue, type HashText } from "../hash.js";
import type { TypeExpr } from "../schemas/common.js";
import type { CborValue } from "../cbor/value.js";

/** Looks up a defschema's type by name. */
export type SchemaResolver = (name: string) => TypeExpr | undefined;

/** Expands every `ref` in `t`; throws `air.unknown_ref` or `air.invalid_type` with the path. */
export function expandType(
  t: TypeExpr,
  resolve: SchemaResolver,
  path: (string | number)[] = [],
  seen: string[] = [],
): TypeExpr {
  if ("ref" in t) {
    if (seen.includes(t.ref)) {
      throw new AirError("air.invalid_type", `recursive type: ${[...seen, t.ref].join(" → ")}`, jsonPath(path));
    }
    const target = resolve(t.ref);
    if (!target) throw new AirError("air.unknown_ref", `unknown schema ${t.ref}`, jsonPath([...path, "ref"]));
    return expandType(target, resolve, path, [...seen, t.ref]);
  }
  if ("record" in t)
    return { record: mapFields(t.record, (f, k) => expandType(f, resolve, [...path, "record", k], seen)) };
  if ("variant" in t)
    return { variant: mapFields(t.variant, (f, k) => expandType(f, resolve, [...path, "variant", k], seen)) };
  if ("list" in t) return { list: expandType(t.list, resolve, [...path, "list"], seen) };
  if ("set" in t) return { set: expandType(t.set, resolve, [...path, "set"], seen) };
  if ("option" in t) {
    const inner = expandType(t.option, resolve, [...path, "option"], seen);
    if ("option" in inner)
      throw new AirError(
        "air.invalid_type",
        "option<option<T>> is ambiguous (none vs some(none)) and not allowed",
        jsonPath(path),
      );
    return { option: inner };
  }
  if ("map" in t)
    return { map: { key: t.map.key, value: expandType(t.map.value, resolve, [...path, "map", "value"], seen) } };
  return t;
}

function mapFields(
  fields: Record<string, TypeExpr>,
  f: (t: TypeExpr, k: string) => TypeExpr,
): Record<string, TypeExpr> {
  const out: Record<string, TypeExpr> = {};
  for (const k of Object.keys(fields)) out[k] = f(fields[k]!, k);
  return out;
}

/** The schema hash: sha256 of the canonical CBOR of the fully expanded type AST. */
export function schemaHash(expanded: TypeExpr): HashText {
  return hashValue(expanded as unknown as CborValue);
}
