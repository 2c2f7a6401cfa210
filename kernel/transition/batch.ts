/**
 * @module A batch of journal entries produced by one input (an ingress event, a receipt,
 * an approval). Seqs are assigned as entries are pushed, because steps reference the seqs
 * of the events they caused. Live execution appends the batch in one transaction (group
 * commit); replay compares it entry by entry with what the journal recorded.
 */
import { encodeStored } from "../../air/cbor/encode.js";
import type { CborValue } from "../../air/cbor/value.js";
import type { AppendInput } from "../journal/store.js";
import type { EntryBodies, EntryKind } from "../journal/entries.js";

/** Entries to append, with the seq each will get. */
export class Batch {
  readonly entries: AppendInput[] = [];
  /** CAS blobs the entries rely on (a large step annotation, ann-v1): the writer stores them first. */
  readonly blobs: Uint8Array[] = [];
  constructor(readonly baseSeq: number) {}

  /** Adds an entry of `kind` with a body of that kind's type; returns the seq it will have. */
  push<K extends EntryKind>(kind: K, body: EntryBodies[K]): number {
    // Every entry body is a CBOR value; the journal's zod schemas describe it in TypeScript terms.
    this.entries.push({ kind, body: body as CborValue });
    return this.baseSeq + this.entries.length - 1;
  }

  /** The seq the next pushed entry will have. */
  get nextSeq(): number {
    return this.baseSeq + this.entries.length;
  }

  /** The stored bytes of entry `i` (what the journal holds). */
  bytesAt(i: number): Uint8Array {
    return encodeStored(this.entries[i]!.body);
  }
}
