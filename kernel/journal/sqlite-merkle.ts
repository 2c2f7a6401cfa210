/**
 * @module How the SQLite journal keeps its Merkle index: perfect nodes from level 4 up
 * (subtrees of 16+ entries) in the `merkle` table, written as they complete inside the
 * append transaction; nodes below that are rebuilt from at most 8 entry hashes, read in
 * one range query, when a proof or a root needs them. That is one node row per 8 appends
 * instead of one per append.
 *
 * A node's row key is the seq of its last leaf times 64, plus its level: nodes complete in
 * that order, so every insert lands at the end of the table's b-tree and a commit dirties
 * one or two of its pages (storage v2). Storage v1 keyed rows by (level, index), which put
 * each level's inserts in a different part of the tree; a v1 file opened read-only is
 * still read that way.
 */
import type Database from "better-sqlite3";
import { entryLeafHash, fastNodeHash } from "./entry-hash.js";
import { JournalError } from "./errors.js";
import { nodeKey, STORED_NODE_LEVEL, type NodeReader } from "./merkle.js";

// The stored levels and node keys are the store-neutral append rules' (merkle.ts), which the
// PostgreSQL store shares; re-exported for the SQLite-side callers that name them here.
export { nodeKey, STORED_NODE_LEVEL } from "./merkle.js";

/** nodeKey in SQL over v1's (level, idx) columns, for the v1 → v2 upgrade. */
export const NODE_KEY_SQL = "(((idx + 1) << level) - 1) * 64 + level";

/** Reads and writes node rows of one storage version (writes by node key, as an append plan lists them). */
export interface NodeTable {
  get(level: number, index: number): Uint8Array | undefined;
  put(node: number, hash: Uint8Array): void;
  /** The stored nodes whose keys lie in `fromKey..toKey`, in key order (storage v2 only). */
  between?(fromKey: number, toKey: number): { node: number; hash: Uint8Array }[];
}

/** The node table of an open journal; writes exist only on a writable (hence v2) connection. */
export function nodeTable(db: Database.Database, version: number): NodeTable {
  if (version === 1) {
    const get = db.prepare("SELECT hash FROM merkle WHERE level = ? AND idx = ?").pluck();
    return {
      get: (level, index) => get.get(level, index) as Buffer | undefined,
      put: () => {
        throw new JournalError("journal.readonly", "a storage v1 journal is upgraded before it is written");
      },
    };
  }
  const get = db.prepare("SELECT hash FROM merkle WHERE node = ?").pluck();
  const put = db.readonly ? undefined : db.prepare("INSERT INTO merkle (node, hash) VALUES (?, ?)");
  const between = db.prepare("SELECT node, hash FROM merkle WHERE node >= ? AND node <= ? ORDER BY node");
  return {
    get: (level, index) => get.get(nodeKey(level, index)) as Buffer | undefined,
    put: (node, hash) => {
      put!.run(node, hash);
    },
    between: (fromKey, toKey) => between.all(fromKey, toKey) as { node: number; hash: Buffer }[],
  };
}

/**
 * The one prepared statement `nodeReader` runs (entry hashes of a seq range, plucked): declared
 * here, not taken from `sqlite-statements.ts`, which sits above this file (it imports
 * `sqlite-open.ts`, which imports `NODE_KEY_SQL` from here).
 */
export interface HashRangeStatement {
  readonly hashRange: Pick<Database.Statement<unknown[], unknown>, "all">;
}

/** Reads any perfect node: from the table, or rebuilt from entry hashes below the stored levels. */
export function nodeReader(stmt: HashRangeStatement, nodes: NodeTable, path: string): NodeReader {
  return (level, index) => {
    if (level < STORED_NODE_LEVEL) {
      const width = 2 ** level;
      const hashes = stmt.hashRange.all(index * width, index * width + width - 1) as Buffer[];
      if (hashes.length !== width)
        throw new JournalError("journal.corrupt", `missing entries under Merkle node level ${level} index ${index}`, {
          path,
          seq: index * width,
        });
      let layer = hashes.map((h) => entryLeafHash(h));
      while (layer.length > 1)
        layer = Array.from({ length: layer.length / 2 }, (_, i) => fastNodeHash(layer[2 * i]!, layer[2 * i + 1]!));
      return layer[0]!;
    }
    const hash = nodes.get(level, index);
    if (hash === undefined)
      throw new JournalError("journal.corrupt", `missing Merkle node level ${level} index ${index}`, { path });
    return hash;
  };
}

/**
 * The stored nodes completed by entries `fromSeq..toSeq` (a node completes with its last leaf),
 * by node key: one range read where `storedNode` would take one lookup per node. Undefined
 * for a storage v1 table, whose rows are not in completion order.
 */
export function storedNodesCompleted(
  nodes: NodeTable,
  fromSeq: number,
  toSeq: number,
): Map<number, Uint8Array> | undefined {
  if (nodes.between === undefined) return undefined;
  const out = new Map<number, Uint8Array>();
  for (const r of nodes.between(fromSeq * 64, toSeq * 64 + 63)) out.set(r.node, r.hash);
  return out;
}

/** The stored node, null when it should be there and is not, undefined below the stored levels. */
export function storedNode(nodes: NodeTable, level: number, index: number): Uint8Array | null | undefined {
  if (level < STORED_NODE_LEVEL) return undefined;
  return nodes.get(level, index) ?? null;
}
