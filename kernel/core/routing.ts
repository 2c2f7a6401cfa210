/**
 * @module Routing: which workflow cells an event reaches. Subscriptions in the manifest
 * name the event schema and module; `key_field` (a dotted path, `$value.x` inside a
 * variant) picks the cell key out of the canonical value.
 */
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import type { CellKey } from "./cells.js";
import { KernelError } from "./errors.js";

/** One delivery target. */
export interface Route {
  module: string;
  key: CellKey;
}

/** The cells that a `schema` event with canonical `value` is delivered to, in manifest order. */
export function routeEvent(catalog: AirCatalog, schema: string, value: CborValue): Route[] {
  const out: Route[] = [];
  for (const s of catalog.manifest.routing?.subscriptions ?? []) {
    if (s.event !== schema) continue;
    out.push({ module: s.module, key: s.key_field === undefined ? null : extractKey(value, s.key_field, schema) });
  }
  return out;
}

/** The cell key at `field` in `value`: text stays text, integers become decimal text, bytes stay bytes. */
export function extractKey(value: CborValue, field: string, schema: string): CellKey {
  let cur: CborValue | undefined = value;
  for (const part of field.split(".")) {
    if (!isCborObject(cur)) break;
    cur = cur[part];
  }
  if (typeof cur === "string" || cur instanceof Uint8Array) return cur;
  if (typeof cur === "number" || typeof cur === "bigint") return cur.toString();
  throw new KernelError("kernel.bad_event", `event ${schema} has no key at "${field}"`, { schema, key_field: field });
}
