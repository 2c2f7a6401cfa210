/**
 * @module A world's journal as the analysis reads it (kernel/analysis/line.ts): each entry's body
 * decoded to its JSON form on the fly, by seq or in order, so `wk analyze`, `wk trace`, `wk
 * explain` and the server's trace routes read a store the same way, without holding it in memory.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import type { CborValue } from "../../air/cbor/value.js";
import { toHex } from "../../air/hash.js";
import type { JournalLine, LineSource } from "../analysis/index.js";
import { cborToJson } from "../journal/entry-json.js";
import type { JournalEntry, JournalReader } from "../journal/index.js";

/** One entry in the analysis's JSON form, its body already decoded to `value`. */
export function lineOf(e: JournalEntry, value: CborValue): JournalLine {
  return { seq: e.seq, kind: e.kind, hash: toHex(e.hash), prev_hash: toHex(e.prev_hash), body: cborToJson(value) };
}

/**
 * A store's lines for `traceOf` and `explainOf`. Reads are synchronous, so a caller that reads to
 * the end in one go (as they do) sees one consistent journal even while the world writes.
 */
export function journalLines(store: Pick<JournalReader, "iterateSync" | "getSync">): LineSource {
  return {
    *all(from = 0) {
      for (const e of store.iterateSync(from)) yield lineOf(e, decodeStored(e.body));
    },
    at(seq) {
      const e = store.getSync(seq);
      return e === null ? undefined : lineOf(e, decodeStored(e.body));
    },
  };
}
