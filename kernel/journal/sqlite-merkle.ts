/**
 * @module How the SQLite journal keeps its Merkle index: perfect nodes from level 4 up
 * (subtrees of 16+ entries) in the `merkle` table, written as they complete inside the
 * append transaction; nodes below that are rebuilt from at most 8 entry hashes, read in
 * one range query, when a proof or a root needs them. That is one node row per 8 appends
 * instead of one per append.
 */
import { entryLeafHash, fastNodeHash } from "./entry-hash.js";
import { JournalError } from "./errors.js";
import type { NodeReader, NodeSink } from "./merkle.js";
import type { Statements } from "./sqlite-statements.js";

/** The lowest level of perfect nodes kept in the table. */
export const STORED_NODE_LEVEL = 4;

/** Persists completed nodes at the stored levels (runs inside the append transaction). */
export function nodeSink(stmt: Statements): NodeSink {
  return (level, index, hash) => {
    if (level >= STORED_NODE_LEVEL) stmt.insertNode.run(level, index, hash);
  };
}

/** Reads any perfect node: from the table, or rebuilt from entry hashes below the stored levels. */
export function nodeReader(stmt: Statements, path: string): NodeReader {
  return (level, index) => {
    if (level < STORED_NODE_LEVEL) {
      const width = 2 ** level;
      const hashes = stmt.hashRange.all(index * width, index * width + width - 1) as Buffer[];
      if (hashes.length !== width) throw new JournalError("journal.corrupt", `missing entries under Merkle node level ${level} index ${index}`, { path, seq: index * width });
      let layer = hashes.map((h) => entryLeafHash(h));
      while (layer.length > 1) layer = Array.from({ length: layer.length / 2 }, (_, i) => fastNodeHash(layer[2 * i]!, layer[2 * i + 1]!));
      return layer[0]!;
    }
    const r = stmt.node.get(level, index) as { hash: Buffer } | undefined;
    if (r === undefined) throw new JournalError("journal.corrupt", `missing Merkle node level ${level} index ${index}`, { path });
    return r.hash;
  };
}

/** The stored node, null when it should be there and is not, undefined below the stored levels. */
export function storedNode(stmt: Statements, level: number, index: number): Uint8Array | null | undefined {
  if (level < STORED_NODE_LEVEL) return undefined;
  const r = stmt.node.get(level, index) as { hash: Buffer } | undefined;
  return r?.hash ?? null;
}
