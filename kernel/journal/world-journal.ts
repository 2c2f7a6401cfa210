/**
 * @module The ports the world shell really uses: `BlobStore` (the CAS) and `WorldJournal`
 * (the journal with its indexes). Reads are synchronous because WASM host calls, the
 * processor and the rules checks read the journal and the CAS from synchronous code; every
 * write is asynchronous, so a store may commit over the network (PostgreSQL) before it
 * answers. SQLite answers reads and writes from its file (an async write costs one microtask
 * over the sync call: BENCHMARKS.md "Journal port"); PostgreSQL answers reads from a local
 * mirror the single leased writer keeps complete (pg-world-journal.ts).
 * test/journal/world-journal.case.ts and blob-store.case.ts are the conformance suites.
 */
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import type { KeyPair } from "../crypto/keys.js";
import type { StateProvider } from "./checkpoint.js";
import type { EntryKind, GenesisBody } from "./entries.js";
import type { MerkleFrontier } from "./merkle.js";
import type { AppendInput, Appended, JournalEntry, JournalHead, JournalStore } from "./store.js";

/** What an erasure entry adds to `{blob_hash, reason}`. */
export interface ErasureExtra {
  derived_from?: HashText;
  notify?: [string, null | string | Uint8Array][];
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

/** The journal of one world as the kernel uses it: sync reads, async writes, and the async `JournalStore` port. */
export interface WorldJournal extends BlobStore, JournalStore {
  /** Where errors say they happened (a file path, or `pg:host:port/db#world`). */
  readonly path: string;
  readonly readonly: boolean;
  // ---- reads
  headSync(): JournalHead | null;
  countSync(): number;
  getSync(seq: number): JournalEntry | null;
  iterateSync(fromSeq?: number, toSeq?: number): IterableIterator<JournalEntry>;
  /** The latest entry of a kind at or before a seq (a bound only for the rare kinds). */
  latestOfKind(kind: EntryKind, atOrBefore?: number): JournalEntry | null;
  /** Entries of the rare kinds in a seq range. */
  rareEntriesSync(fromSeq?: number, toSeq?: number): IterableIterator<JournalEntry>;
  /** The rare entries that carry rules state (no snapshots or checkpoints). */
  ruleEntriesSync(fromSeq?: number, toSeq?: number): IterableIterator<JournalEntry>;
  genesis(): GenesisBody;
  storageVersionSync(): number;
  ingressKeySeq(key: string): { seq: number; request_hash: string } | null;
  receiptSeq(intentId: string): number | null;
  iterateReceiptIndexSync(): IterableIterator<{ intent_id: string; seq: number }>;
  iterateIngressKeysSync(): IterableIterator<{ key: string; seq: number; request_hash: string }>;
  frontierSync(size: number): MerkleFrontier;
  rootSync(size?: number): Uint8Array;
  inclusionProofSync(index: number, size?: number): Uint8Array[];
  consistencyProofSync(oldSize: number, newSize?: number): Uint8Array[];
  /** A stored perfect Merkle node (see `JournalStore.nodeAt`): what verify audits. */
  nodeAt(level: number, index: number): Uint8Array | null | undefined | Promise<Uint8Array | null | undefined>;
  // ---- writes
  /** Replaces the provider of the state that checkpoints (automatic ones included) attest. */
  setStateProvider(provider: StateProvider): void;
  append(kind: EntryKind, body: CborValue): Promise<Appended>;
  appendMany(items: readonly AppendInput[]): Promise<Appended[]>;
  /** Signs and appends a checkpoint over every entry so far. */
  checkpoint(key?: KeyPair, state?: StateProvider): Promise<Appended>;
  /** Deletes a blob's bytes and appends its erasure entry, atomically. */
  erase(hash: HashText, reason: string, extra?: ErasureExtra): Promise<Appended>;
  close(): Promise<void>;
}
