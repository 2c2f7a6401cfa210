/**
 * @module Loading a writer's tip when a PostgreSQL world opens: its head, genesis (the world
 * key checkpoints and keys entries are checked against), latest snapshot (the default state
 * a checkpoint attests) and Merkle frontier (from the stored perfect nodes, one query).
 */
import { decodeStored } from "../../air/cbor/decode.js";
import type { HashText } from "../../air/hash.js";
import { parseEntryBody } from "./entries.js";
import { ZERO_HASH } from "./entry-hash.js";
import { MerkleFrontier } from "./merkle.js";
import { withNodes } from "./pg-merkle.js";
import type { PgClient } from "./pg-open.js";
import type { Tip } from "./append-plan.js";
import { SQL } from "./pg-statements.js";
import type { JournalEntry } from "./store.js";

/** The tip of world `worldId` as stored; a reader gets no frontier (it asks the database each time). */
export async function loadTip(c: PgClient, worldId: string, where: string, reader: boolean): Promise<Tip> {
  const head = (await c.query<{ seq: number; hash: Buffer }>({ ...SQL.head, values: [worldId] })).rows[0];
  const size = head === undefined ? 0 : head.seq + 1;
  const g = (await c.query<JournalEntry>({ ...SQL.get, values: [worldId, 0] })).rows[0];
  const genesis = g === undefined ? undefined : parseEntryBody("genesis", decodeStored(g.body), 0);
  const snap = (
    await c.query<JournalEntry>({ ...SQL.latestRare, values: [worldId, "snapshot", Number.MAX_SAFE_INTEGER] })
  ).rows[0];
  const s = snap === undefined ? undefined : parseEntryBody("snapshot", decodeStored(snap.body), snap.seq);
  const tree = reader
    ? new MerkleFrontier()
    : await withNodes(c, worldId, where, (read) => MerkleFrontier.load(size, read));
  return {
    tree,
    head: head?.hash ?? ZERO_HASH,
    genesis,
    state:
      s === undefined
        ? undefined
        : { state_root: s.state_root as HashText, manifest_hash: s.manifest_hash as HashText },
  };
}
