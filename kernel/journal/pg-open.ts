/**
 * @module Opening a world in a PostgreSQL database: connect one dedicated client (its
 * session holds the writer lock and the prepared statements), create or migrate the schema,
 * create or find the world, and take the world's writer lock — a session advisory lock the
 * server drops when the connection dies, the analogue of the SQLite store's lock file.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { JournalError } from "./errors.js";
import {
  BOOTSTRAP_SQL,
  MIGRATION_LOCK_KEY,
  PG_MIGRATIONS,
  PG_SCHEMA,
  PG_SCHEMA_VERSION,
  HEAD_MOVED_SQLSTATE,
} from "./pg-schema.js";

/** The one client type the store uses (kept out of the public declarations). */
export type PgClient = pg.Client;

const INT8_OID = 20;

/** The driver, loaded on first connect: importing the journal (SQLite worlds, `wk state`) must not pay for `pg` (≈ 40 ms). */
async function driver(): Promise<typeof pg> {
  return (await import("pg")).default;
}

// Seqs and node keys are safe integers; int8 columns arrive as numbers, on this client only.
const typesOf = (driver: typeof pg) => ({
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? (v: string) => Number(v)
      : driver.types.getTypeParser(oid, format ?? "text")) as typeof driver.types.getTypeParser,
});

/** A readable place for errors: server, database and world, never credentials. */
export function locationOf(url: string, worldId: string): string {
  try {
    const u = new URL(url);
    return `pg:${u.host}${u.pathname}#${worldId}`;
  } catch {
    return `pg:#${worldId}`;
  }
}

/** Connects a client; an unreachable server is `journal.not_found` naming the place. */
export async function connect(url: string, where: string): Promise<PgClient> {
  const d = await driver();
  const client = new d.Client({ connectionString: url, types: typesOf(d) });
  // An idle connection that drops emits 'error'; without a listener Node would exit. The
  // next query on it fails and reports the loss.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (e) {
    throw new JournalError("journal.not_found", `cannot connect to PostgreSQL: ${(e as Error).message}`, {
      path: where,
      cause: e,
    });
  }
  return client;
}

/** The schema version of the database, 0 when it has no worldkernel schema yet. */
async function currentVersion(c: PgClient): Promise<number> {
  const r = await c.query<{ present: boolean }>(
    `SELECT to_regclass('${PG_SCHEMA}.schema_version') IS NOT NULL AS present`,
  );
  if (!r.rows[0]!.present) return 0;
  const v = await c.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${PG_SCHEMA}.schema_version`);
  return v.rows[0]!.v ?? 0;
}

function tooNew(version: number, where: string): JournalError {
  return new JournalError(
    "journal.unsupported_version",
    `the database's worldkernel schema is version ${version}; this kernel knows up to ${PG_SCHEMA_VERSION}`,
    { path: where },
  );
}

/** For a reader, which never migrates: the schema must be there, at this kernel's version. */
export async function checkVersion(c: PgClient, where: string): Promise<void> {
  const v = await currentVersion(c);
  if (v === 0) throw new JournalError("journal.not_found", "the database has no worldkernel schema", { path: where });
  if (v !== PG_SCHEMA_VERSION) throw tooNew(v, where);
}

/** Creates or upgrades the schema to PG_SCHEMA_VERSION in one transaction; concurrent openers wait on one lock. */
export async function migrate(c: PgClient, where: string): Promise<void> {
  const seen = await currentVersion(c);
  if (seen === PG_SCHEMA_VERSION) return;
  if (seen > PG_SCHEMA_VERSION) throw tooNew(seen, where);
  await c.query("BEGIN");
  try {
    await c.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
    await c.query(BOOTSTRAP_SQL);
    const v = await currentVersion(c);
    if (v > PG_SCHEMA_VERSION) throw tooNew(v, where);
    for (let i = v; i < PG_SCHEMA_VERSION; i++) {
      const m = PG_MIGRATIONS[i]!;
      await c.query(m.sql);
      await c.query(`INSERT INTO ${PG_SCHEMA}.schema_version (version, description) VALUES ($1, $2)`, [
        i + 1,
        m.description,
      ]);
    }
    await c.query("COMMIT");
  } catch (e) {
    await c.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}

/** The advisory lock key of a world: the first 8 bytes of a domain-separated sha256, as a signed int8. */
export function worldLockKey(worldId: string): string {
  const d = createHash("sha256").update(`worldkernel/v1/world-lock\0${worldId}`).digest();
  return d.readBigInt64BE(0).toString();
}

/** Takes the world's writer lock for this session; `journal.locked` when another session holds it. */
export async function takeWorldLock(c: PgClient, worldId: string, where: string): Promise<void> {
  const r = await c.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1::bigint) AS ok", [worldLockKey(worldId)]);
  if (!r.rows[0]!.ok) throw new JournalError("journal.locked", "another writer has this world open", { path: where });
}

/** Creates the world (refusing an existing one) or checks that it exists. */
export async function openWorld(c: PgClient, worldId: string, create: boolean, where: string): Promise<void> {
  if (create) {
    const r = await c.query(
      `INSERT INTO ${PG_SCHEMA}.worlds (world_id) VALUES ($1) ON CONFLICT (world_id) DO NOTHING RETURNING world_id`,
      [worldId],
    );
    if (r.rowCount === 0)
      throw new JournalError("journal.exists", "a world with this id already exists", { path: where });
    return;
  }
  const r = await c.query(`SELECT 1 FROM ${PG_SCHEMA}.worlds WHERE world_id = $1`, [worldId]);
  if (r.rowCount === 0) throw new JournalError("journal.not_found", "no world with this id", { path: where });
}

/** The SQLSTATE and constraint of a PostgreSQL error, when it is one. */
export function pgErrorOf(e: unknown): { code: string; constraint: string | undefined } | null {
  if (typeof e !== "object" || e === null) return null;
  const { code, constraint } = e as { code?: unknown; constraint?: unknown };
  if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) return null;
  return { code, constraint: typeof constraint === "string" ? constraint : undefined };
}

/** True when the error says another writer moved the world's head (the append function's check, or a seq collision). */
export function isHeadMoved(e: unknown): boolean {
  const p = pgErrorOf(e);
  return p !== null && (p.code === HEAD_MOVED_SQLSTATE || (p.code === "23505" && p.constraint === "entries_pkey"));
}
