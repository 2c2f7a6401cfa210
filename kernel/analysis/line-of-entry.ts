/**
 * @module A stored entry as a journal line (line.ts): bytes as hex, the decoded body as JSON.
 * Apart from line.ts because it hashes and encodes (node:crypto), which the console's browser
 * build must not pull in through the line's type.
 */
import { toHex } from "../../air/hash.js";
import type { CborValue } from "../../air/cbor/value.js";
import type { EntryKind } from "../journal/entry-kinds.js";
import { cborToJson } from "../journal/entry-json.js";
import type { JournalLine } from "./line.js";

/** A stored entry, its body decoded to `value`, in the form the analysis reads (`entryToJson`'s, typed). */
export function lineOfEntry(
  e: { seq: number; kind: EntryKind; hash: Uint8Array; prev_hash: Uint8Array },
  value: CborValue,
): JournalLine {
  return { seq: e.seq, kind: e.kind, hash: toHex(e.hash), prev_hash: toHex(e.prev_hash), body: cborToJson(value) };
}
