/**
 * @module The four small ports the world shell uses on a journal, each with its own conformance
 * suite (test/journal/ports/): `JournalReader` (synchronous reads: WASM host calls, the processor
 * and the rules read from synchronous code), `JournalWriter` (asynchronous appends, so a store
 * may commit over the network before it answers), `BlobStore` (the CAS) and `Lease` (optional in
 * meaning: a store with a fenced lease reports it, one without answers undefined). Every store
 * implements all four; `WorldJournal` (world-journal.ts) is their intersection with the async
 * `JournalStore` port that verify and proofs use. No caller needs to know the concrete store.
 */
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import type { KeyPair } from "../crypto/keys.js";
import type { StateProvider } from "./checkpoint.js";
import type { EntryKind, GenesisBody } from "./entries.js";
import type { MerkleFrontier } from "./merkle.js";
import type { AppendInput, Appended, JournalEntry, JournalHead } from "./store.js";

/** What an erasure entry adds to `{blob_hash, reason}`. */
export interface ErasureExtra {
  derived_from?: HashText;
  notify?: [string, null | string | Uint8Array][];
}

/** A world's journal as the kernel reads it: synchronously, from whatever the store keeps current. */
export interface JournalReader {
  /** Where errors say they happened (a file path, or `pg:host:port/db#world`). */
  readonly path: string;
  /** The latest entry, or null for an empty journal. */
  headSync(): JournalHead | null;
  /** Number of entries (= next seq). */
  countSync(): number;
  /** The entry at `seq`, or null. */
  getSync(seq: number): JournalEntry | null;
  /** Entries with fromSeq ≤ seq ≤ toSeq (inclusive; to the end when omitted), in order. */
  iterateSync(fromSeq?: number, toSeq?: number): IterableIterator<JournalEntry>;
  /** The latest entry of a kind at or before a seq (a bound only for the rare kinds: RangeError otherwise). */
  latestOfKind(kind: EntryKind, atOrBefore?: number): JournalEntry | null;
  /** Entries of the rare kinds (genesis, keys, governance, snapshot, checkpoint, erasure) in a seq range. */
  rareEntriesSync(fromSeq?: number, toSeq?: number): IterableIterator<JournalEntry>;
  /** The rare entries that carry rules state (no snapshots or checkpoints). */
  ruleEntriesSync(fromSeq?: number, toSeq?: number): IterableIterator<JournalEntry>;
  /** The genesis body; `journal.bad_sequence` on an empty journal. */
  genesis(): GenesisBody;
  /** The store's own layout version (SQLite file storage version, PostgreSQL schema version). */
  storageVersionSync(): number;
  /** Where an ingress idempotency key was journaled, with the request hash it was journaled for. */
  ingressKeySeq(key: string): { seq: number; request_hash: string } | null;
  /** The seq of an intent's receipt, or null. */
  receiptSeq(intentId: string): number | null;
  /** The receipt index (intent → receipt seq), which the rules hold to the entries. */
  iterateReceiptIndexSync(): IterableIterator<{ intent_id: string; seq: number }>;
  /** The ingress-key index, which the rules hold to the entries. */
  iterateIngressKeysSync(): IterableIterator<{ key: string; seq: number; request_hash: string }>;
  /** The Merkle frontier over the first `size` entries (verify starts part-way from it). */
  frontierSync(size: number): MerkleFrontier;
  /** The Merkle root over the first `size` entries (default: all). */
  rootSync(size?: number): Uint8Array;
}

/** A world's journal as the kernel writes it: every write resolves once it is durable in the record. */
export interface JournalWriter {
  /** True when the store was opened read-only (every write is then `journal.readonly`). */
  readonly readonly: boolean;
  /** Replaces the provider of the state that checkpoints (automatic ones included) attest. */
  setStateProvider(provider: StateProvider): void;
  /** Appends one entry (one transaction). */
  append(kind: EntryKind, body: CborValue): Promise<Appended>;
  /** Appends entries in one transaction (group commit); all or none; returns the items' places only. */
  appendMany(items: readonly AppendInput[]): Promise<Appended[]>;
  /** Signs and appends a checkpoint over every entry so far. */
  checkpoint(key?: KeyPair, state?: StateProvider): Promise<Appended>;
  /** Deletes a blob's bytes and appends its erasure entry, atomically. */
  erase(hash: HashText, reason: string, extra?: ErasureExtra): Promise<Appended>;
  /** Waits for pending writes and releases the store (its writer lock or lease). */
  close(): Promise<void>;
}

/** A world's content-addressed blob store. */
export interface BlobStore {
  /** Stores bytes under their sha256 (idempotent); durable no later than the next journal write. */
  putBlobSync(bytes: Uint8Array): HashText;
  /** The bytes, checked against their name; `journal.blob_erased` or `journal.blob_not_found` otherwise. */
  getBlobSync(hash: HashText): Uint8Array;
  /** True when the bytes are present. */
  hasBlobSync(hash: HashText): boolean;
  /** The seq of the erasure entry that erased `hash`, or null. */
  erasureSeq(hash: HashText): number | null;
  /** Every stored blob under the name it is stored under (bytes unchecked). */
  iterateBlobsSync(): IterableIterator<{ hash: HashText; bytes: Uint8Array }>;
  /** The erasure index (blob → erasure seq). */
  iterateErasuresSync(): IterableIterator<{ hash: HashText; seq: number }>;
}

/** A writer's lease on its world as the port reports it. */
export interface LeaseState {
  /** Who holds it (this node's name in the lease table). */
  readonly holder: string;
  /** The fencing token every append is written under; a takeover bumps it. */
  readonly token: number;
  /** When it expires in the nodes' clock (liveness only: fencing does not depend on it). */
  readonly expiresAtMs: number;
  /** True once another node took it: the store writes no more (`journal.lease_lost`). */
  readonly lost: boolean;
}

/** The lease port: a store writing under a fenced lease reports it; one that needs none (SQLite's file lock) answers undefined. */
export interface Lease {
  /** The lease this store writes under, or undefined when it holds none; still answers after close. */
  leaseState(): LeaseState | undefined;
}
