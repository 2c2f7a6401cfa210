/**
 * @module ann-v1: where a step's annotation (the module's recorded reasoning) goes in its
 * `step` entry — inline when small, a CAS blob the batch carries when larger, only its size
 * beyond `ANN_MAX` — so the journal keeps why an agent did something beside what it did,
 * within a bound a module cannot blow up.
 */
import { encodeStored } from "../../air/cbor/encode.js";
import type { CborValue } from "../../air/cbor/value.js";
import { hashBytes } from "../../air/hash.js";
import type { Batch } from "./batch.js";
import { ANN_INLINE_MAX, ANN_MAX } from "./flags.js";
import type { EntryBodies } from "../journal/entries.js";

/** The `step` fields that record `ann` (none for a null annotation); a larger one's blob goes to `batch.blobs`. */
export function annFields(ann: CborValue, batch: Batch): Pick<EntryBodies["step"], "ann" | "ann_ref" | "ann_dropped"> {
  if (ann === null) return {};
  const bytes = encodeStored(ann);
  if (bytes.length <= ANN_INLINE_MAX) return { ann };
  if (bytes.length > ANN_MAX) return { ann_dropped: bytes.length };
  batch.blobs.push(bytes);
  return { ann_ref: hashBytes(bytes) };
}
