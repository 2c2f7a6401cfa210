/**
 * @module The `origin` and `ctx` of an event body as text-keyed maps. The entry schema checks
 * only that each is a map; the kernel always writes them with text keys, so they decode as
 * objects. A map with other keys reads as empty here, as a field read on it always did.
 */
import { isCborObject, type CborObject } from "../../air/cbor/value.js";
import type { EntryBodies } from "../journal/index.js";

const EMPTY: CborObject = Object.freeze({});

/** Where an event came from (`kind`: ingress, module, receipt, erasure, …). */
export function eventOrigin(b: EntryBodies["event"]): CborObject {
  return isCborObject(b.origin) ? b.origin : EMPTY;
}

/** The step context an event was stamped with (`logical_now`, `now_ns`, …). */
export function eventCtx(b: EntryBodies["event"]): CborObject {
  return isCborObject(b.ctx) ? b.ctx : EMPTY;
}
