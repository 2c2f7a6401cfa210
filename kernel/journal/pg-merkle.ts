/**
 * @module Merkle reads for the PostgreSQL journal. The tree code (merkle.ts) reads nodes
 * synchronously, and which nodes a root, proof or frontier needs depends only on the sizes
 * and indices, never on hash values. So each read runs twice: once with a recording reader
 * that answers zeros, then — after one query fetches every recorded node (stored levels from
 * `merkle`, lower levels rebuilt from entry hashes) — with the real nodes.
 */
import { entryLeafHash, fastNodeHash, ZERO_HASH } from "./entry-hash.js";
import { JournalError } from "./errors.js";
import type { NodeReader } from "./merkle.js";
import type { PgClient } from "./pg-open.js";
import { PG_SCHEMA } from "./pg-schema.js";
import { nodeKey, STORED_NODE_LEVEL } from "./sqlite-merkle.js";

const FETCH = {
  name: "wk_merkle_fetch",
  text: `SELECT 0 AS t, node AS k, hash FROM ${PG_SCHEMA}.merkle WHERE world_id = $1 AND node = ANY($2::bigint[])
         UNION ALL
         SELECT 1 AS t, seq AS k, hash FROM ${PG_SCHEMA}.entries WHERE world_id = $1 AND seq = ANY($3::bigint[])`,
};

const NODE = {
  name: "wk_merkle_node",
  text: `SELECT hash FROM ${PG_SCHEMA}.merkle WHERE world_id = $1 AND node = $2`,
};

/** Runs `compute` over the world's perfect nodes, fetched in one query. */
export async function withNodes<T>(
  c: PgClient,
  worldId: string,
  where: string,
  compute: (read: NodeReader) => T,
): Promise<T> {
  const nodes = new Set<number>();
  const seqs = new Set<number>();
  compute((level, index) => {
    if (level >= STORED_NODE_LEVEL) nodes.add(nodeKey(level, index));
    else for (let s = index * 2 ** level; s < (index + 1) * 2 ** level; s++) seqs.add(s);
    return ZERO_HASH;
  });
  if (nodes.size === 0 && seqs.size === 0) return compute(() => ZERO_HASH);
  const r = await c.query<{ t: number; k: number; hash: Buffer }>({
    ...FETCH,
    values: [worldId, [...nodes], [...seqs]],
  });
  const stored = new Map<number, Uint8Array>();
  const entries = new Map<number, Uint8Array>();
  for (const row of r.rows) (row.t === 0 ? stored : entries).set(row.k, row.hash);
  return compute((level, index) => {
    if (level >= STORED_NODE_LEVEL) {
      const h = stored.get(nodeKey(level, index));
      if (h === undefined)
        throw new JournalError("journal.corrupt", `missing Merkle node level ${level} index ${index}`, { path: where });
      return h;
    }
    const width = 2 ** level;
    let layer: Uint8Array[] = [];
    for (let s = index * width; s < index * width + width; s++) {
      const h = entries.get(s);
      if (h === undefined)
        throw new JournalError("journal.corrupt", `missing entries under Merkle node level ${level} index ${index}`, {
          path: where,
          seq: s,
        });
      layer.push(entryLeafHash(h));
    }
    while (layer.length > 1)
      layer = Array.from({ length: layer.length / 2 }, (_, i) => fastNodeHash(layer[2 * i]!, layer[2 * i + 1]!));
    return layer[0]!;
  });
}

/** The stored perfect node, null when it should be there and is not, undefined below the stored levels. */
export async function storedNodeAt(
  c: PgClient,
  worldId: string,
  level: number,
  index: number,
): Promise<Uint8Array | null | undefined> {
  if (level < STORED_NODE_LEVEL) return undefined;
  const r = await c.query<{ hash: Buffer }>({ ...NODE, values: [worldId, nodeKey(level, index)] });
  return r.rows[0]?.hash ?? null;
}
