/**
 * @module `WorldJournal`: the journal of one world as the kernel holds it — the four ports of
 * ports.ts (reader, writer, blob store, lease) and the async `JournalStore` port that verify,
 * replay and proofs read through. Callers that need less name a port, or a `Pick` of this.
 * SQLite answers from its file (an async write costs one microtask over the sync call:
 * BENCHMARKS.md "Journal port"); PostgreSQL writes to the database and answers synchronous
 * reads from its named read replica (pg-read-replica.ts).
 */
import type { BlobStore, JournalReader, JournalWriter, Lease } from "./ports.js";
import type { JournalStore } from "./store.js";

export type { BlobStore, ErasureExtra, JournalReader, JournalWriter, Lease, LeaseState } from "./ports.js";

/** The journal of one world as the kernel uses it: the four ports and the async `JournalStore` port. */
export interface WorldJournal extends JournalReader, JournalWriter, BlobStore, Lease, JournalStore {
  /** A stored perfect Merkle node (see `JournalStore.nodeAt`): what verify audits. */
  nodeAt(level: number, index: number): Uint8Array | null | undefined | Promise<Uint8Array | null | undefined>;
  /** Deletes a blob's bytes and appends its erasure entry, atomically (the writer's, with `extra`). */
  erase: JournalWriter["erase"];
  /** Waits for pending writes and releases the store. */
  close(): Promise<void>;
}
