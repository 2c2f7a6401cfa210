/**
 * @module What a refused PostgreSQL append means, as the SQLite store's typed errors (and
 * `journal.lease_lost` for an append under a fencing token that is no longer current): a moved
 * head (a second or stale writer) is `journal.locked`; the primary keys of `receipts` and
 * `ingress_keys` are `journal.duplicate_receipt` and `journal.duplicate_ingress`, with the
 * seq of the entry that already holds the intent or key (looked up after the refusal, so the
 * hot path needs no lookup before its insert).
 */
import { JournalError } from "./errors.js";
import { isHeadMoved, pgErrorOf, type PgClient } from "./pg-open.js";
import type { Batch } from "./pg-plan.js";
import { SQL } from "./pg-statements.js";
import { LEASE_LOST_SQLSTATE } from "./pg-schema.js";

/** Maps a failed append to a typed error (run outside any aborted transaction). */
export async function refusal(c: PgClient, worldId: string, where: string, e: unknown, b: Batch): Promise<unknown> {
  if (pgErrorOf(e)?.code === LEASE_LOST_SQLSTATE)
    return new JournalError(
      "journal.lease_lost",
      `this writer no longer holds the world's lease: ${(e as Error).message}; it stops writing this world`,
      { path: where, seq: b.first, cause: e },
    );
  if (isHeadMoved(e))
    return new JournalError("journal.locked", "another writer appended to this world (its head moved)", {
      path: where,
      seq: b.first,
      cause: e,
    });
  const p = pgErrorOf(e);
  if (p?.code === "23505" && p.constraint === "receipts_pkey") {
    const r = await c.query<{ intent_id: string; seq: number }>({
      ...SQL.receiptsOf,
      values: [worldId, b.receipts],
    });
    const prior = new Map(r.rows.map((x) => [x.intent_id, x.seq]));
    const i = b.receipts.findIndex((id) => prior.has(id));
    const id = b.receipts[i] ?? "?";
    return new JournalError(
      "journal.duplicate_receipt",
      `intent ${id} already has its receipt at seq ${prior.get(id) ?? "?"}`,
      { seq: b.receiptSeqs[i], path: where, cause: e },
    );
  }
  if (p?.code === "23505" && p.constraint === "ingress_keys_pkey") {
    const r = await c.query<{ key: string; seq: number }>({
      ...SQL.ingressKeysOf,
      values: [worldId, b.ingress],
    });
    const prior = new Map(r.rows.map((x) => [x.key, x.seq]));
    const i = b.ingress.findIndex((k) => prior.has(k));
    const k = b.ingress[i] ?? "?";
    return new JournalError(
      "journal.duplicate_ingress",
      `idempotency key ${JSON.stringify(k)} already names the event at seq ${prior.get(k) ?? "?"}`,
      { seq: b.ingressSeqs[i], path: where, cause: e },
    );
  }
  return e;
}
