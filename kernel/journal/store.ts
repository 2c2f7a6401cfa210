/**
 * @module The `JournalStore` port: an append-only, hash-chained, Merkle-indexed log of
 * entries plus a content-addressed blob store, for one world. Asynchronous so that a
 * PostgreSQL store (many worlds, leases per world) can implement the same interface;
 * the SQLite store answers from a local file. test/journal/journal.case.ts is the
 * conformance suite every implementation runs.
 */
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import type { EntryKind } from "./entries.js";

/** One stored entry; `body` is the stored canonical CBOR (d9d9f7 ‖ item). */
export interface JournalEntry {
  seq: number;
  kind: EntryKind;
  body: Uint8Array;
  prev_hash: Uint8Array;
  hash: Uint8Array;
}

/** What an append returns: the place and identity of the new entry. */
export interface Appended {
  seq: number;
  kind: EntryKind;
  hash: Uint8Array;
}

/** An entry to append: its kind and body as a CBOR value (validated, then encoded). */
export interface AppendInput {
  kind: EntryKind;
  body: CborValue;
}

/** The latest entry. */
export interface JournalHead {
  seq: number;
  hash: Uint8Array;
}

/** An append-only journal with its Merkle tree and blob store. */
export interface JournalStore {
  /** Appends one entry (one transaction, one fsync). */
  append(kind: EntryKind, body: CborValue): Promise<Appended>;
  /** Appends entries in one transaction (group commit); all or none. */
  appendMany(items: readonly AppendInput[]): Promise<Appended[]>;
  /** The latest entry, or null for an empty journal. */
  head(): Promise<JournalHead | null>;
  /** Number of entries (= next seq). */
  count(): Promise<number>;
  /** The entry at `seq`, or null. */
  get(seq: number): Promise<JournalEntry | null>;
  /** Streams entries with fromSeq ≤ seq ≤ toSeq (inclusive; to the end when omitted), in order. */
  iterate(fromSeq?: number, toSeq?: number): AsyncIterable<JournalEntry>;
  /** Stores bytes under their sha256 (idempotent). */
  putBlob(bytes: Uint8Array): Promise<HashText>;
  /** The bytes of a blob; throws `journal.blob_erased` (ErasedError) or `journal.blob_not_found`. */
  getBlob(hash: HashText): Promise<Uint8Array>;
  /** True when the blob's bytes are present. */
  hasBlob(hash: HashText): Promise<boolean>;
  /** Deletes a blob's bytes and appends an `erasure` entry, atomically. */
  erase(hash: HashText, reason: string): Promise<Appended>;
  /** Merkle root over the first `size` entries (default: all). */
  root(size?: number): Promise<Uint8Array>;
  /** RFC 6962 inclusion proof of entry `index` in the tree of `size` (default: all). */
  inclusionProof(index: number, size?: number): Promise<Uint8Array[]>;
  /** RFC 6962 consistency proof from `oldSize` to `newSize` (default: all). */
  consistencyProof(oldSize: number, newSize?: number): Promise<Uint8Array[]>;
  /**
   * Optional: the stored perfect Merkle node (level ≥ 1, covering leaves index·2^level …),
   * null when it should exist but does not, undefined for levels the store does not keep.
   * When present, verify audits every stored node of the store's index, not just roots.
   */
  nodeAt?(level: number, index: number): Uint8Array | null | undefined | Promise<Uint8Array | null | undefined>;
  /** Releases the store (and its writer lock). */
  close(): Promise<void>;
}
