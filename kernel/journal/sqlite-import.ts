/**
 * @module Writing journal rows verbatim into a new SQLite journal file (what an audit rebuild
 * does with an archive): the entries, blobs and erasure records exactly as given, and the index
 * rows the store derives from them (Merkle nodes, receipts, ingress keys) derived the same way.
 * Nothing is checked here; `verifyJournal` checks the result. The SQL stays in the journal.
 */
import Database from "better-sqlite3";
import { decodeStored } from "../../air/cbor/decode.js";
import { hashToBytes, type HashText } from "../../air/hash.js";
import { entryLeafHash } from "./entry-hash.js";
import { MerkleFrontier } from "./merkle.js";
import { nodeKey, STORED_NODE_LEVEL } from "./sqlite-merkle.js";
import { SqliteJournalStore, indexRowsOf } from "./sqlite-store.js";

/** Rows as an archive holds them. */
export interface VerbatimRows {
  entries: readonly { seq: number; kind: string; body: Uint8Array; prev_hash: Uint8Array; hash: Uint8Array }[];
  blobs: readonly { hash: Uint8Array; bytes: Uint8Array }[];
  erasures: readonly { hash: HashText; seq: number }[];
}

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** A stored body decoded, or null when it does not decode (verify names that body). */
function decodedOrNull(body: Uint8Array): unknown {
  try {
    return decodeStored(body);
  } catch {
    return null;
  }
}

/** Creates the journal at `path` (the schema the store creates) and inserts `rows` verbatim in one transaction. */
export function importVerbatim(path: string, rows: VerbatimRows): void {
  SqliteJournalStore.open(path, { create: true }).closeSync();
  const db = new Database(path);
  try {
    db.transaction(() => {
      const insert = db.prepare("INSERT INTO entries (seq, kind, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?)");
      const node = db.prepare("INSERT INTO merkle (node, hash) VALUES (?, ?)");
      const receipt = db.prepare("INSERT OR IGNORE INTO receipts (intent_id, seq) VALUES (?, ?)");
      const ingressKey = db.prepare("INSERT OR IGNORE INTO ingress_keys (key, seq, request_hash) VALUES (?, ?, ?)");
      const tree = new MerkleFrontier();
      for (const e of rows.entries) {
        insert.run(e.seq, e.kind, buf(e.body), buf(e.prev_hash), buf(e.hash));
        // The index the store would have written from these hashes; verify recomputes the hashes themselves.
        tree.append(entryLeafHash(e.hash), (level, index, h) => {
          if (level >= STORED_NODE_LEVEL) node.run(nodeKey(level, index), buf(h));
        });
        // The store's derived index rows, derived the way the store writes them.
        const derived =
          e.kind === "event" || e.kind === "effect_receipt" ? indexRowsOf(e.kind, decodedOrNull(e.body)) : {};
        if (derived.ingressKey !== undefined)
          ingressKey.run(derived.ingressKey.key, e.seq, derived.ingressKey.requestHash);
        if (derived.receipt !== undefined) receipt.run(derived.receipt, e.seq);
      }
      const blob = db.prepare("INSERT INTO blobs (hash, bytes) VALUES (?, ?)");
      for (const b of rows.blobs) blob.run(buf(b.hash), buf(b.bytes));
      const erasure = db.prepare("INSERT INTO erasures (hash, seq) VALUES (?, ?)");
      for (const x of rows.erasures) erasure.run(buf(hashToBytes(x.hash)), x.seq);
    })();
  } finally {
    db.close();
  }
}
