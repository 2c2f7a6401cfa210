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
import type { AppendPlan } from "./append-plan.js";
import { SQL, type Named } from "./pg-statements.js";
import { LEASE_LOST_SQLSTATE } from "./pg-schema.js";

/** Maps a failed append to a typed error (run outside any aborted transaction). */
export async function refusal(
  c: PgClient,
  worldId: string,
  where: string,
  e: unknown,
  b: AppendPlan,
): Promise<unknown> {
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
    const d = await firstDuplicate(c, SQL.receiptsOf, worldId, b.receipts, b.receiptSeqs);
    return new JournalError("journal.duplicate_receipt", `intent ${d.key} already has its receipt at seq ${d.prior}`, {
      seq: d.seq,
      path: where,
      cause: e,
    });
  }
  if (p?.code === "23505" && p.constraint === "ingress_keys_pkey") {
    const d = await firstDuplicate(c, SQL.ingressKeysOf, worldId, b.ingress, b.ingressSeqs);
    return new JournalError(
      "journal.duplicate_ingress",
      `idempotency key ${JSON.stringify(d.key)} already names the event at seq ${d.prior}`,
      { seq: d.seq, path: where, cause: e },
    );
  }
  return e;
}

/**
 * The batch's first key (receipt intent id or ingress key) that the world already holds, the
 * seq that holds it ("?" when the lookup finds none) and the batch seq that repeated it.
 */
async function firstDuplicate(
  c: PgClient,
  lookup: Named,
  worldId: string,
  keys: readonly string[],
  seqs: readonly number[],
): Promise<{ key: string; prior: number | "?"; seq: number | undefined }> {
  const r = await c.query<{ key: string; seq: number }>({ ...lookup, values: [worldId, keys] });
  const prior = new Map(r.rows.map((x) => [x.key, x.seq]));
  const i = keys.findIndex((k) => prior.has(k));
  const key = keys[i] ?? "?";
  return { key, prior: prior.get(key) ?? "?", seq: seqs[i] };
}
