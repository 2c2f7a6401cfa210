/**
 * @module Opening a world's journal wherever its config.json says it lives: journal.db beside
 * it (SQLite, the embedded default) or a PostgreSQL database shared by many worlds (`store`).
 * The PostgreSQL code (and the `pg` driver) loads only when a world names a database, so
 * SQLite commands pay nothing for it.
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import type { KeyPair } from "../crypto/keys.js";
import { SqliteJournalStore, worldPaths, type SqliteJournalOptions } from "../journal/index.js";
import type { PgLeaseOptions } from "../journal/pg-store.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { readConfig, type WorldConfig } from "./config.js";

/** How to open a world's journal (the store-specific options apply where they mean something). */
export interface WorldJournalOptions {
  create?: boolean;
  readonly?: boolean;
  synchronous?: "FULL" | "NORMAL";
  checkpointEvery?: number;
  worldKey?: KeyPair;
  /** PostgreSQL only: write under this lease (fenced) instead of the database session lock. */
  lease?: PgLeaseOptions;
  /** PostgreSQL only: where the local read mirror's temporary directory is made. */
  mirrorDir?: string;
}

/** The lease a writer takes when it names none: this process, for 30 s, renewed while it runs. */
export function processLease(): PgLeaseOptions {
  return { holder: `wk:${hostname()}:${process.pid}`, ttlMs: 30_000 };
}

/** True when a config names a PostgreSQL store. */
export function isPgWorld(config: Pick<WorldConfig, "store">): boolean {
  return config.store !== undefined;
}

/** Opens the journal of the world at `dir` as `config` places it. */
export async function openWorldJournal(
  dir: string,
  config: Pick<WorldConfig, "world_id" | "store">,
  opts: WorldJournalOptions = {},
): Promise<WorldJournal> {
  const { lease, mirrorDir, ...common } = opts;
  if (config.store === undefined)
    return SqliteJournalStore.open(worldPaths(dir).journal, common as SqliteJournalOptions);
  const { PgWorldJournal } = await import("../journal/pg-world-journal.js");
  // Every writer of a PostgreSQL world holds its lease, so a second one is refused at open, not at its first append.
  const leased = lease ?? (common.readonly ? undefined : processLease());
  return PgWorldJournal.open(config.store, config.world_id, {
    ...common,
    ...(leased ? { lease: leased } : {}),
    ...(mirrorDir ? { mirrorDir } : {}),
  });
}

/** Opens the journal of the world at `dir` read-only (its config.json says where it lives). */
export async function openWorldJournalReadonly(dir: string): Promise<WorldJournal> {
  const paths = worldPaths(dir);
  // A bare journal.db without config.json (an older or copied world) is still a SQLite world.
  if (!existsSync(paths.config)) return SqliteJournalStore.open(paths.journal, { readonly: true });
  return openWorldJournal(dir, readConfig(paths.config), { readonly: true });
}

/** Store options for a world: durability and automatic signed checkpoints from config. */
export function storeOptions(
  config: WorldConfig,
  worldKey: KeyPair,
  opts: { synchronous?: "FULL" | "NORMAL"; lease?: PgLeaseOptions; mirrorDir?: string } = {},
): WorldJournalOptions {
  return {
    synchronous: opts.synchronous ?? config.synchronous,
    ...(opts.lease ? { lease: opts.lease } : {}),
    ...(opts.mirrorDir ? { mirrorDir: opts.mirrorDir } : {}),
    ...(config.checkpoint_every > 0 ? { checkpointEvery: config.checkpoint_every, worldKey } : {}),
  };
}
