/**
 * @module Intent identity. The idempotency key is a content hash of who asked for what
 * because of which event — world, origin module and cell key, effect kind, canonical
 * params, cause event hash and the effect's index in that step — with no attempt counter,
 * so re-dispatch after a crash carries the same key and an adapter can deduplicate.
 */
import { CborRaw } from "../../air/cbor/value.js";
import { hashValue, type HashText } from "../../air/hash.js";
import type { CellKey } from "./cells.js";

/** The inputs that identify one emitted effect. */
export interface IntentOrigin {
  worldId: string;
  module: string;
  key: CellKey;
  kind: string;
  /** Canonical CBOR of the params (null when they could not be encoded at all). */
  params: Uint8Array | null;
  causeEventHash: HashText;
  index: number;
}

/** The idempotency key (also the intent id) of an emitted effect. */
export function intentKey(o: IntentOrigin): HashText {
  return hashValue({
    world_id: o.worldId,
    module: o.module,
    key: o.key,
    kind: o.kind,
    params: o.params === null ? null : new CborRaw(o.params),
    cause_event_hash: o.causeEventHash,
    index: o.index,
  });
}
