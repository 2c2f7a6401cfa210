/**
 * @module Every SQL statement the PostgreSQL journal runs, as named statements: the server
 * parses and plans each once per connection, and every world shares the same text (world_id
 * is a parameter), so one connection serves any world without re-preparing.
 */
import { RARE_KINDS } from "./sqlite-open.js";
import { PG_SCHEMA as S } from "./pg-schema.js";

/** A named statement: node-postgres prepares it on first use on a connection. */
export interface Named {
  name: string;
  text: string;
}

const cols = "seq, kind, body, prev_hash, hash";
const rare = `kind IN (${RARE_KINDS.map((k) => `'${k}'`).join(", ")})`;
const q = (name: string, text: string): Named => ({ name: `wk_${name}`, text });

/** The statements, by use. */
export const SQL = {
  /** The whole append: one round trip, one implicit transaction (see pg-schema.ts, append_entries). */
  append: q(
    "append",
    `SELECT ${S}.append_entries($1, $2::bigint, $3, $4, $5::text[], $6::bytea[], $7::bytea[], $8::bigint[], $9::bytea[], $10::text[], $11::bigint[], $12::text[], $13::bigint[], $14::text[])`,
  ),
  /** An erasure: the blob's row, the erasure entry and its index row in one statement (pg-schema.ts, erase_blob). */
  erase: q(
    "erase",
    `SELECT ${S}.erase_blob($1, $2::bigint, $3, $4, $5, $6::text[], $7::bytea[], $8::bytea[], $9::bigint[], $10::bytea[], $11::text[], $12::bigint[], $13::text[], $14::bigint[], $15::text[])`,
  ),
  /** Takes a world's lease when free or expired (pg-schema.ts, acquire_lease). */
  acquireLease: q("acquire_lease", `SELECT * FROM ${S}.acquire_lease($1, $2, $3, $4)`),
  /** Extends the lease while this holder's token is still the world's. */
  renewLease: q(
    "renew_lease",
    `UPDATE ${S}.leases SET expires_at_ms = $4::bigint + $5::bigint WHERE world_id = $1 AND holder = $2 AND token = $3`,
  ),
  /** Gives the lease up (expired at once; the token stays, so the next holder's is greater). */
  releaseLease: q(
    "release_lease",
    `UPDATE ${S}.leases SET expires_at_ms = 0 WHERE world_id = $1 AND holder = $2 AND token = $3`,
  ),
  /** Every blob of a world (for moving it out). */
  blobs: q("blobs", `SELECT hash, bytes FROM ${S}.blobs WHERE world_id = $1 ORDER BY hash`),
  /** Every erasure record of a world. */
  erasures: q("erasures", `SELECT hash, seq FROM ${S}.erasures WHERE world_id = $1 ORDER BY seq`),
  /** An erasure record moved in with its entry (the blob's bytes were never moved). */
  importErasure: q("import_erasure", `INSERT INTO ${S}.erasures (world_id, hash, seq) VALUES ($1, $2, $3)`),
  head: q("head", `SELECT seq, hash FROM ${S}.entries WHERE world_id = $1 ORDER BY seq DESC LIMIT 1`),
  get: q("get", `SELECT ${cols} FROM ${S}.entries WHERE world_id = $1 AND seq = $2`),
  page: q(
    "page",
    `SELECT ${cols} FROM ${S}.entries WHERE world_id = $1 AND seq >= $2 AND seq <= $3 ORDER BY seq LIMIT $4`,
  ),
  latestRare: q(
    "latest_rare",
    `SELECT ${cols} FROM ${S}.entries WHERE world_id = $1 AND ${rare} AND kind = $2 AND seq <= $3 ORDER BY seq DESC LIMIT 1`,
  ),
  putBlob: q(
    "put_blob",
    `INSERT INTO ${S}.blobs (world_id, hash, bytes) VALUES ($1, $2, $3) ON CONFLICT (world_id, hash) DO NOTHING`,
  ),
  // One round trip answers present, erased or absent.
  getBlob: q(
    "get_blob",
    `SELECT b.bytes, e.seq AS erased_at FROM (SELECT 1) AS one
       LEFT JOIN ${S}.blobs b ON b.world_id = $1 AND b.hash = $2
       LEFT JOIN ${S}.erasures e ON e.world_id = $1 AND e.hash = $2`,
  ),
  hasBlob: q("has_blob", `SELECT 1 FROM ${S}.blobs WHERE world_id = $1 AND hash = $2`),
  receiptOf: q("receipt_of", `SELECT seq FROM ${S}.receipts WHERE world_id = $1 AND intent_id = $2`),
  receiptsOf: q(
    "receipts_of",
    `SELECT intent_id AS key, seq FROM ${S}.receipts WHERE world_id = $1 AND intent_id = ANY($2::text[])`,
  ),
  ingressKeyOf: q("ingress_key_of", `SELECT seq, request_hash FROM ${S}.ingress_keys WHERE world_id = $1 AND key = $2`),
  ingressKeysOf: q(
    "ingress_keys_of",
    `SELECT key, seq FROM ${S}.ingress_keys WHERE world_id = $1 AND key = ANY($2::text[])`,
  ),
} as const;
