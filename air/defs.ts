/**
 * @module Def identity: parse one def (either lens, `$comment`s dropped) with its kind's zod
 * schema, and compute its canonical CBOR and `sha256:` hash.
 */
import type { z } from "zod";
import { AirError, jsonPath, type AirIssue } from "./errors.js";
import { DEF_SCHEMAS, type AnyDef } from "./schemas/defs.js";
import { DefKindSchema } from "./schemas/common.js";
import { jsonToCbor } from "./json.js";
import { hashValue, type HashText } from "./hash.js";
import type { CborValue } from "./cbor/value.js";

/** Result of parsing untrusted def JSON: the def, or every issue with its path. */
export type DefParse = { ok: true; def: AnyDef } | { ok: false; issues: AirIssue[] };

/** Converts zod issues into AIR issues with JSON paths under `base`. */
export function zodIssues(error: z.ZodError, base: (string | number)[] = [], file?: string): AirIssue[] {
  return error.issues.map((i) => ({
    code: "air.schema_violation" as const,
    message: i.message,
    path: jsonPath([...base, ...(i.path as (string | number)[])]),
    ...(file !== undefined ? { file } : {}),
  }));
}

/** Parses one def object by its `$kind`. */
export function parseDef(v: unknown, base: (string | number)[] = [], file?: string): DefParse {
  const where = (p: (string | number)[]) => ({
    path: jsonPath([...base, ...p]),
    ...(file !== undefined ? { file } : {}),
  });
  if (typeof v !== "object" || v === null || Array.isArray(v)) {
    return {
      ok: false,
      issues: [{ code: "air.schema_violation", message: "a def must be a JSON object", ...where([]) }],
    };
  }
  const kind = DefKindSchema.safeParse((v as { $kind?: unknown }).$kind);
  if (!kind.success) {
    return {
      ok: false,
      issues: [
        {
          code: "air.schema_violation",
          message: `unknown or missing $kind; expected one of ${DefKindSchema.options.join(", ")}`,
          ...where(["$kind"]),
        },
      ],
    };
  }
  const r = DEF_SCHEMAS[kind.data].safeParse(v);
  if (!r.success) return { ok: false, issues: zodIssues(r.error, base, file) };
  return { ok: true, def: r.data as AnyDef };
}

/** Removes `$comment` annotations recursively (they are not part of a def's identity). */
export function stripComments(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripComments);
  if (typeof v !== "object" || v === null || v instanceof Uint8Array || v instanceof Map) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (k !== "$comment" && x !== undefined) out[k] = stripComments(x);
  return out;
}

/** Canonical CBOR value of a parsed def (generic JSON mapping, comments dropped). */
export function defToCbor(def: AnyDef): CborValue {
  return jsonToCbor(stripComments(def));
}

/** The identity of a parsed def. */
export function hashDef(def: AnyDef): HashText {
  return hashValue(defToCbor(def));
}

/** Parses and hashes a def, throwing the first issue as an `AirError`. */
export function hashDefJson(v: unknown): HashText {
  const r = parseDef(v);
  if (!r.ok) throw new AirError(r.issues[0]!.code, r.issues[0]!.message, r.issues[0]!.path, r.issues);
  return hashDef(r.def);
}
