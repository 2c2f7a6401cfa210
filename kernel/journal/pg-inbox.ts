/**
 * @module The durable inbox of worlds in PostgreSQL (schema version 3, pg-schema.ts) and the
 * lease table as nodes read it to balance: clients enqueue events (acknowledged when the
 * row commits; the same idempotency key twice is one row), the lease holder takes them in
 * order, journals them under their keys and deletes them. What the database says here is
 * work and liveness, never history: the journal stays the record.
 */
import { connect, migrate, type PgClient } from "./pg-open.js";
import { PG_SCHEMA as S } from "./pg-schema.js";

/** An event for a world's lease holder. `json` is JSON text, kept lossless (big integers stay exact). */
export interface InboxEvent {
  idempotencyKey: string;
  schema: string;
  json: string;
}

/** A pending inbox row. */
export interface InboxRow extends InboxEvent {
  id: number;
}

/** A world's lease as the table holds it. */
export interface LeaseRow {
  world_id: string;
  holder: string;
  token: number;
  expires_at_ms: number;
}

/** The inbox and lease table of one database, on one connection. */
export class PgInbox {
  private constructor(
    private readonly c: PgClient,
    readonly where: string,
  ) {}

  /** Connects (creating or upgrading the schema if needed). */
  static async open(url: string): Promise<PgInbox> {
    const where = `pg:${new URL(url).host}${new URL(url).pathname}#inbox`;
    const c = await connect(url, where);
    try {
      await migrate(c, where);
    } catch (e) {
      await c.end().catch(() => undefined);
      throw e;
    }
    return new PgInbox(c, where);
  }

  /** Enqueues events for `worldId` in one transaction; a key already enqueued is not enqueued again. */
  async enqueue(worldId: string, events: readonly InboxEvent[]): Promise<{ enqueued: number; duplicates: number }> {
    const r = await this.c.query({
      text: `INSERT INTO ${S}.inbox (world_id, idempotency_key, schema_name, value_json)
             SELECT $1, k, s, v FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, s, v)
             ON CONFLICT (world_id, idempotency_key) DO NOTHING`,
      values: [worldId, events.map((e) => e.idempotencyKey), events.map((e) => e.schema), events.map((e) => e.json)],
    });
    const enqueued = r.rowCount ?? 0;
    return { enqueued, duplicates: events.length - enqueued };
  }

  /** Up to `limit` pending rows of `worldId`, oldest first. */
  async take(worldId: string, limit: number): Promise<InboxRow[]> {
    const r = await this.c.query<{ id: string; idempotency_key: string; schema_name: string; value_json: string }>({
      name: "wk_inbox_take",
      text: `SELECT id, idempotency_key, schema_name, value_json FROM ${S}.inbox
             WHERE world_id = $1 AND error_code IS NULL ORDER BY id LIMIT $2`,
      values: [worldId, limit],
    });
    return r.rows.map((x) => ({
      id: Number(x.id),
      idempotencyKey: x.idempotency_key,
      schema: x.schema_name,
      json: x.value_json,
    }));
  }

  /** Deletes rows whose events are journaled. */
  async done(worldId: string, ids: readonly number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.c.query({
      name: "wk_inbox_done",
      text: `DELETE FROM ${S}.inbox WHERE world_id = $1 AND id = ANY($2::bigint[])`,
      values: [worldId, ids],
    });
  }

  /** Marks a row the kernel refused: it keeps the typed error and is never taken again. */
  async fail(worldId: string, id: number, code: string, message: string): Promise<void> {
    await this.c.query({
      text: `UPDATE ${S}.inbox SET error_code = $3, error_message = $4 WHERE world_id = $1 AND id = $2`,
      values: [worldId, id, code, message],
    });
  }

  /** Pending rows per world (every world with any). */
  async pending(): Promise<Map<string, number>> {
    const r = await this.c.query<{ world_id: string; n: string }>(
      `SELECT world_id, count(*) AS n FROM ${S}.inbox WHERE error_code IS NULL GROUP BY world_id`,
    );
    return new Map(r.rows.map((x) => [x.world_id, Number(x.n)]));
  }

  /** Refused rows of a world, with their errors. */
  async failed(worldId: string): Promise<{ idempotencyKey: string; code: string; message: string }[]> {
    const r = await this.c.query<{ idempotency_key: string; error_code: string; error_message: string }>({
      text: `SELECT idempotency_key, error_code, error_message FROM ${S}.inbox
             WHERE world_id = $1 AND error_code IS NOT NULL ORDER BY id`,
      values: [worldId],
    });
    return r.rows.map((x) => ({ idempotencyKey: x.idempotency_key, code: x.error_code, message: x.error_message }));
  }

  /** Every lease row. */
  async leases(): Promise<LeaseRow[]> {
    const r = await this.c.query<LeaseRow>(
      `SELECT world_id, holder, token, expires_at_ms FROM ${S}.leases ORDER BY world_id`,
    );
    return r.rows.map((x) => ({ ...x, token: Number(x.token), expires_at_ms: Number(x.expires_at_ms) }));
  }

  /** Announces `holder` as live until `nowMs + ttlMs` (liveness for balancing; fencing never reads it). */
  async heartbeat(holder: string, nowMs: number, ttlMs: number): Promise<void> {
    await this.c.query({
      name: "wk_node_heartbeat",
      text: `INSERT INTO ${S}.nodes (holder, expires_at_ms) VALUES ($1, $2::bigint + $3::bigint)
             ON CONFLICT (holder) DO UPDATE SET expires_at_ms = EXCLUDED.expires_at_ms`,
      values: [holder, nowMs, ttlMs],
    });
  }

  /** Withdraws `holder` (a node that stops cleanly). */
  async leave(holder: string): Promise<void> {
    await this.c.query({ text: `DELETE FROM ${S}.nodes WHERE holder = $1`, values: [holder] });
  }

  /** The nodes whose heartbeat has not expired at `nowMs`. */
  async liveNodes(nowMs: number): Promise<string[]> {
    const r = await this.c.query<{ holder: string }>({
      name: "wk_live_nodes",
      text: `SELECT holder FROM ${S}.nodes WHERE expires_at_ms > $1 ORDER BY holder`,
      values: [nowMs],
    });
    return r.rows.map((x) => x.holder);
  }

  /** One world's lease row, or null when it was never leased. */
  async leaseOf(worldId: string): Promise<LeaseRow | null> {
    const r = await this.c.query<LeaseRow>({
      name: "wk_lease_of",
      text: `SELECT world_id, holder, token, expires_at_ms FROM ${S}.leases WHERE world_id = $1`,
      values: [worldId],
    });
    const x = r.rows[0];
    return x === undefined ? null : { ...x, token: Number(x.token), expires_at_ms: Number(x.expires_at_ms) };
  }

  /** Closes the connection. */
  async close(): Promise<void> {
    await this.c.end();
  }
}
