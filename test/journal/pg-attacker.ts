/**
 * @module An attacker with access to the PostgreSQL database and none of the world's keys: it
 * connects as the same (super)user, turns the append-only triggers off for its own session
 * (`session_replication_role = replica`), edits rows, and can rewrite a whole suffix of a
 * world with recomputed hashes and a recomputed Merkle table using the public hashing code —
 * attacker.ts does the same to a SQLite file. What it lacks is the world key and any anchor kept
 * elsewhere.
 */
import pg from "pg";
import { decodeStored, encodeStored, type CborValue } from "../../air/index.js";
import { entryHash, entryLeafHash, ZERO_HASH } from "../../kernel/journal/entry-hash.js";
import { MerkleFrontier } from "../../kernel/journal/merkle.js";
import { nodeKey, STORED_NODE_LEVEL } from "../../kernel/journal/sqlite-merkle.js";
import type { RechainContext } from "./attacker.js";

type Row = { seq: number; kind: string; body: Buffer; hash: Buffer };

/** Runs `fn` in one transaction of `c` with every ordinary trigger off (superuser only). */
export async function tamperPg(c: pg.Client, fn: (c: pg.Client) => Promise<void>): Promise<void> {
  await c.query("BEGIN");
  try {
    await c.query("SET LOCAL session_replication_role = replica");
    await fn(c);
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK");
    throw e;
  }
}

/** What an edit returns: a new body (same kind), a new kind and body, or null to keep the entry. */
export type Rewrite = CborValue | { kind: string; body: CborValue } | null;

/**
 * Rewrites every entry of `world` from `fromSeq`: `edit` may return a new body (or kind and
 * body); hashes are recomputed down the chain and the world's Merkle rows are rebuilt.
 */
export async function rechainPg(
  c: pg.Client,
  world: string,
  fromSeq: number,
  edit: (seq: number, kind: string, body: CborValue, ctx: RechainContext) => Rewrite,
): Promise<void> {
  await tamperPg(c, async () => {
    const rows = (
      await c.query<Row>("SELECT seq, kind, body, hash FROM worldkernel.entries WHERE world_id = $1 ORDER BY seq", [
        world,
      ])
    ).rows.map((r) => ({ ...r, seq: Number(r.seq) })); // bigint columns arrive as text
    const tree = new MerkleFrontier();
    const nodes: [number, Uint8Array][] = [];
    let prev: Uint8Array = ZERO_HASH;
    for (const r of rows) {
      if (r.seq >= fromSeq) {
        const next = edit(r.seq, r.kind, decodeStored(r.body), { size: tree.size, root: tree.root(), prev });
        const kindAndBody = next !== null && typeof next === "object" && "kind" in next && "body" in next;
        const kind = kindAndBody ? (next as { kind: string }).kind : r.kind;
        const body =
          next === null ? r.body : encodeStored(kindAndBody ? (next as { body: CborValue }).body : (next as CborValue));
        const hash = entryHash(prev, r.seq, kind, body);
        await c.query(
          "UPDATE worldkernel.entries SET kind = $3, body = $4, prev_hash = $5, hash = $6 WHERE world_id = $1 AND seq = $2",
          [world, r.seq, kind, body, prev, hash],
        );
        prev = hash;
      } else prev = r.hash;
      tree.append(entryLeafHash(prev), (level, index, h) => {
        if (level >= STORED_NODE_LEVEL) nodes.push([nodeKey(level, index), h]);
      });
    }
    await c.query("DELETE FROM worldkernel.merkle WHERE world_id = $1", [world]);
    for (const [node, hash] of nodes)
      await c.query("INSERT INTO worldkernel.merkle (world_id, node, hash) VALUES ($1, $2, $3)", [world, node, hash]);
  });
}
