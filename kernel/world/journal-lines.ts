/**
 * @module A world's journal as the analysis reads it (kernel/analysis/line.ts): each entry's body
 * decoded to its JSON form on the fly, by seq or in order, so `wk analyze`, `wk trace`, `wk
 * explain` and the server's trace routes read a store the same way, without holding it in memory.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { lineOfEntry, type LineSource } from "../analysis/index.js";
import type { JournalReader } from "../journal/index.js";

/**
 * A store's lines for `traceOf` and `explainOf`. Reads are synchronous, so a caller that reads to
 * the end in one go (as they do) sees one consistent journal even while the world writes.
 */
export function journalLines(store: Pick<JournalReader, "iterateSync" | "getSync">): LineSource {
  return {
    *all(from = 0) {
      for (const e of store.iterateSync(from)) yield lineOfEntry(e, decodeStored(e.body));
    },
    at(seq) {
      const e = store.getSync(seq);
      return e === null ? undefined : lineOfEntry(e, decodeStored(e.body));
    },
  };
}
