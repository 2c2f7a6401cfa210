/**
 * @module The PostgreSQL journal's schema and its migrations. Every world of a database
 * shares one set of tables in the `worldkernel` schema, keyed by `world_id`; the store
 * creates and migrates them on open, under a transaction-scoped advisory lock so that many
 * nodes opening at once migrate exactly once. `schema_version` records each step applied.
 * Append-only is enforced by the database: triggers refuse UPDATE, DELETE and TRUNCATE.
 */
import { RARE_KINDS } from "./sqlite-open.js";

/** The PostgreSQL schema (namespace) that holds every table of the journal. */
export const PG_SCHEMA = "worldkernel";

/** The schema version this kernel writes (the highest migration below). */
export const PG_SCHEMA_VERSION = 3;

/** SQLSTATE the append function raises when the world's head is not where the writer thinks. */
export const HEAD_MOVED_SQLSTATE = "WK001";
/** SQLSTATE erase_blob raises when the world holds no such blob (the client tells erased from absent). */
export const NO_BLOB_SQLSTATE = "WK003";
/** SQLSTATE the append-only triggers raise. */
export const APPEND_ONLY_SQLSTATE = "WK002";
/** SQLSTATE the append function raises when the writer's fencing token is not the world's current lease token. */
export const LEASE_LOST_SQLSTATE = "WK004";

/** Key of the advisory lock that serialises migrations (any constant shared by all kernels). */
export const MIGRATION_LOCK_KEY = "7308184635937101824";

const S = PG_SCHEMA;
const rareKinds = RARE_KINDS.map((k) => `'${k}'`).join(", ");

function appendOnly(table: string): string {
  return `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ${S}.${table}
  FOR EACH STATEMENT EXECUTE FUNCTION ${S}.refuse_change();`;
}

// The pieces both versions of the append and erase functions share (a migration re-creates them).
/** The parallel arrays of one append's rows, as parameters. */
const ROW_PARAMS = `  p_kinds text[], p_bodies bytea[], p_hashes bytea[],
  p_nodes bigint[], p_node_hashes bytea[],
  p_receipts text[], p_receipt_seqs bigint[],
  p_ingress text[], p_ingress_seqs bigint[], p_ingress_requests text[]`;
/** The same, passed on. */
const ROW_ARGS = `p_kinds, p_bodies, p_hashes, p_nodes, p_node_hashes,
    p_receipts, p_receipt_seqs, p_ingress, p_ingress_seqs, p_ingress_requests`;
/** Refuses a batch that does not extend the world's head (declares head_seq and head_hash). */
const HEAD_CHECK = `  SELECT e.seq, e.hash INTO head_seq, head_hash FROM ${S}.entries e
    WHERE e.world_id = p_world ORDER BY e.seq DESC LIMIT 1;
  IF coalesce(head_seq + 1, 0) <> p_first OR coalesce(head_hash, '\\x${"00".repeat(32)}'::bytea) <> p_prev THEN
    RAISE EXCEPTION 'world % head is at seq %, not %: another writer appended', p_world, coalesce(head_seq, -1), p_first - 1
      USING ERRCODE = '${HEAD_MOVED_SQLSTATE}';
  END IF;
`;
/** The index rows the batch derives: Merkle nodes, receipts, ingress keys. */
const INDEX_ROWS = `  IF cardinality(p_nodes) > 0 THEN
    INSERT INTO ${S}.merkle (world_id, node, hash) SELECT p_world, n, h FROM unnest(p_nodes, p_node_hashes) AS t(n, h);
  END IF;
  IF cardinality(p_receipts) > 0 THEN
    INSERT INTO ${S}.receipts (world_id, intent_id, seq) SELECT p_world, i, s FROM unnest(p_receipts, p_receipt_seqs) AS t(i, s);
  END IF;
  IF cardinality(p_ingress) > 0 THEN
    INSERT INTO ${S}.ingress_keys (world_id, key, seq, request_hash)
      SELECT p_world, k, s, r FROM unnest(p_ingress, p_ingress_seqs, p_ingress_requests) AS t(k, s, r);
  END IF;
`;
/** An erasure's delete of the blob row (NO_BLOB_SQLSTATE when there is none). */
const DELETE_BLOB = `  DELETE FROM ${S}.blobs WHERE world_id = p_world AND hash = p_blob;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'world % holds no blob %', p_world, p_blob USING ERRCODE = '${NO_BLOB_SQLSTATE}';
  END IF;
`;
/** An erasure's index row (a blob stored again and erased again points at the latest). */
const ERASURE_ROW = `  INSERT INTO ${S}.erasures (world_id, hash, seq) VALUES (p_world, p_blob, p_first)
    ON CONFLICT (world_id, hash) DO UPDATE SET seq = EXCLUDED.seq;
`;

/**
 * Version 1. `worlds` names each world (version 2 adds `leases`, keyed by world_id). The tables mirror the SQLite file's, with world_id leading every key.
 * `append_entries` is the only write path of entries: it checks that the batch extends the
 * world's head (a stale or second writer gets HEAD_MOVED_SQLSTATE), derives seq and
 * prev_hash from that head (so the chain is linked by construction), and writes entries,
 * Merkle nodes, receipts and ingress keys in the one statement the client sends.
 */
const V1 = `
CREATE TABLE ${S}.worlds (
  world_id text PRIMARY KEY,
  format text NOT NULL DEFAULT 'worldkernel-journal'
);
CREATE FUNCTION ${S}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'worldkernel journal table %: % refused (append-only)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = '${APPEND_ONLY_SQLSTATE}';
END $$;
-- No foreign key to worlds: a check per row would lock the world row on every append.
CREATE TABLE ${S}.entries (
  world_id text NOT NULL,
  seq bigint NOT NULL CHECK (seq >= 0),
  kind text NOT NULL,
  body bytea NOT NULL,
  prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
  hash bytea NOT NULL CHECK (octet_length(hash) = 32),
  PRIMARY KEY (world_id, seq)
);
CREATE INDEX entries_rare ON ${S}.entries (world_id, kind, seq) WHERE kind IN (${rareKinds});
${appendOnly("entries")}
CREATE TABLE ${S}.merkle (world_id text NOT NULL, node bigint NOT NULL, hash bytea NOT NULL, PRIMARY KEY (world_id, node));
${appendOnly("merkle")}
CREATE TABLE ${S}.receipts (world_id text NOT NULL, intent_id text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (world_id, intent_id));
${appendOnly("receipts")}
CREATE TABLE ${S}.ingress_keys (
  world_id text NOT NULL, key text NOT NULL, seq bigint NOT NULL, request_hash text NOT NULL,
  PRIMARY KEY (world_id, key)
);
${appendOnly("ingress_keys")}
-- The CAS: rows are deleted only by an erasure (which journals itself).
CREATE TABLE ${S}.blobs (world_id text NOT NULL, hash bytea NOT NULL, bytes bytea NOT NULL, PRIMARY KEY (world_id, hash));
CREATE TABLE ${S}.erasures (world_id text NOT NULL, hash bytea NOT NULL, seq bigint NOT NULL, PRIMARY KEY (world_id, hash));

CREATE FUNCTION ${S}.append_entries(
  p_world text, p_first bigint, p_prev bytea,
${ROW_PARAMS}
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  head_seq bigint;
  head_hash bytea;
BEGIN
${HEAD_CHECK}  INSERT INTO ${S}.entries (world_id, seq, kind, body, prev_hash, hash)
    SELECT p_world, p_first + t.o - 1, t.k, t.b, CASE WHEN t.o = 1 THEN p_prev ELSE p_hashes[t.o - 1] END, t.h
    FROM unnest(p_kinds, p_bodies, p_hashes) WITH ORDINALITY AS t(k, b, h, o);
${INDEX_ROWS}END $$;

-- An erasure as one statement: delete the blob's row, append the erasure entry (the batch's
-- first), index it. A blob stored again after an erasure and erased again points at the latest.
CREATE FUNCTION ${S}.erase_blob(
  p_world text, p_blob bytea, p_first bigint, p_prev bytea,
${ROW_PARAMS}
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
${DELETE_BLOB}  PERFORM ${S}.append_entries(p_world, p_first, p_prev, ${ROW_ARGS});
${ERASURE_ROW}END $$;
`;

const ARGS = `text[], bytea[], bytea[], bigint[], bytea[], text[], bigint[], text[], bigint[], text[]`;

/**
 * Version 2: per-world leases with fencing (issue 13). `leases` holds each leased world's
 * holder, its fencing token (which only ever grows: every takeover adds one) and when the
 * lease expires, in the clock of the nodes that take it (passed in, so tests inject it). Every
 * append names the token it writes under (`p_fence`, recorded in `entries.fence`), and the
 * append function checks it against the lease row, which it locks FOR SHARE: a takeover
 * (an UPDATE of that row) waits for an append in flight, and once it commits, an append
 * under the old token is refused with LEASE_LOST_SQLSTATE — however long its writer was paused
 * or partitioned. A world without a lease row takes appends without a token (one writer by
 * the session lock); a world with one takes none without the current token.
 */
const V2 = `
CREATE TABLE ${S}.leases (
  world_id text PRIMARY KEY,
  holder text NOT NULL,
  token bigint NOT NULL CHECK (token > 0),
  expires_at_ms bigint NOT NULL
);
ALTER TABLE ${S}.entries ADD COLUMN fence bigint;
DROP FUNCTION ${S}.erase_blob(text, bytea, bigint, bytea, ${ARGS});
DROP FUNCTION ${S}.append_entries(text, bigint, bytea, ${ARGS});

CREATE FUNCTION ${S}.append_entries(
  p_world text, p_fence bigint, p_first bigint, p_prev bytea,
${ROW_PARAMS}
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  head_seq bigint;
  head_hash bytea;
  current_token bigint;
BEGIN
  SELECT l.token INTO current_token FROM ${S}.leases l WHERE l.world_id = p_world FOR SHARE;
  IF current_token IS DISTINCT FROM p_fence THEN
    RAISE EXCEPTION 'world % is leased under token %; this writer holds %', p_world,
      coalesce(current_token::text, 'none'), coalesce(p_fence::text, 'none')
      USING ERRCODE = '${LEASE_LOST_SQLSTATE}';
  END IF;
${HEAD_CHECK}  INSERT INTO ${S}.entries (world_id, seq, kind, body, prev_hash, hash, fence)
    SELECT p_world, p_first + t.o - 1, t.k, t.b, CASE WHEN t.o = 1 THEN p_prev ELSE p_hashes[t.o - 1] END, t.h, p_fence
    FROM unnest(p_kinds, p_bodies, p_hashes) WITH ORDINALITY AS t(k, b, h, o);
${INDEX_ROWS}END $$;

CREATE FUNCTION ${S}.erase_blob(
  p_world text, p_fence bigint, p_blob bytea, p_first bigint, p_prev bytea,
${ROW_PARAMS}
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
${DELETE_BLOB}  PERFORM ${S}.append_entries(p_world, p_fence, p_first, p_prev, ${ROW_ARGS});
${ERASURE_ROW}END $$;

-- Takes the lease when it is free or expired at p_now_ms (the token grows by one), else leaves
-- it; either way returns the lease as it now stands and whether this call took it.
CREATE FUNCTION ${S}.acquire_lease(p_world text, p_holder text, p_now_ms bigint, p_ttl_ms bigint)
RETURNS TABLE (acquired boolean, token bigint, holder text, expires_at_ms bigint) LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO ${S}.leases AS l (world_id, holder, token, expires_at_ms) VALUES (p_world, p_holder, 1, p_now_ms + p_ttl_ms)
    ON CONFLICT (world_id) DO UPDATE
      SET holder = EXCLUDED.holder, token = l.token + 1, expires_at_ms = EXCLUDED.expires_at_ms
      WHERE l.expires_at_ms <= p_now_ms;
  IF FOUND THEN
    RETURN QUERY SELECT true, l.token, l.holder, l.expires_at_ms FROM ${S}.leases l WHERE l.world_id = p_world;
  ELSE
    RETURN QUERY SELECT false, l.token, l.holder, l.expires_at_ms FROM ${S}.leases l WHERE l.world_id = p_world;
  END IF;
END $$;
`;

/**
 * Version 3: a durable inbox per world, for nodes that own worlds by lease (`wk worker`). A
 * client's event is acknowledged when its row commits; the world's lease holder takes rows in
 * order, journals them under their idempotency keys (so a takeover that re-takes a row the
 * old holder already journaled appends nothing twice) and then deletes them. A row the kernel
 * refuses (a bad event) keeps its typed error and is never retried. Unlike entries, inbox rows
 * are work, not history: they are deleted once journaled. `nodes` holds each live node's
 * heartbeat, which is liveness for balancing only: fencing never depends on it.
 */
const V3 = `
CREATE TABLE ${S}.inbox (
  id bigserial PRIMARY KEY,
  world_id text NOT NULL,
  idempotency_key text NOT NULL,
  schema_name text NOT NULL,
  value_json text NOT NULL,
  error_code text,
  error_message text,
  UNIQUE (world_id, idempotency_key)
);
CREATE INDEX inbox_pending ON ${S}.inbox (world_id, id) WHERE error_code IS NULL;
-- Nodes that take leases announce themselves here, so each can compute its fair share.
CREATE TABLE ${S}.nodes (
  holder text PRIMARY KEY,
  expires_at_ms bigint NOT NULL
);
`;

/** The migrations, in order: index i brings the schema to version i + 1. */
export const PG_MIGRATIONS: readonly { description: string; sql: string }[] = [
  { description: "worlds, entries, merkle, receipts, ingress_keys, blobs, erasures; append-only triggers", sql: V1 },
  { description: "leases with fencing tokens; appends name their token (entries.fence)", sql: V2 },
  { description: "a durable inbox per world (events for its lease holder); node heartbeats", sql: V3 },
];

/** Creates the schema and its version table if absent (run under the migration lock). */
export const BOOTSTRAP_SQL = `
CREATE SCHEMA IF NOT EXISTS ${S};
CREATE TABLE IF NOT EXISTS ${S}.schema_version (
  version integer PRIMARY KEY,
  description text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);`;
