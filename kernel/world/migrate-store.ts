/**
 * @module Moving a world's journal between its SQLite file and a PostgreSQL database
 * (`wk migrate-store`), keeping every hash, signature, Merkle root and the state root. The
 * source is verified and replayed first; the rows move verbatim (pg-move.ts); the world's
 * config.json then names the new place, and the destination must verify and replay to the
 * same head, root and state root, or the config goes back and the move is refused. The
 * source stays as it was: a SQLite file is kept as `journal.db.moved`; PostgreSQL rows are
 * append-only, so a world moved out keeps its rows there (no kernel writes them again).
 */
import { existsSync, renameSync } from "node:fs";
import { toHex } from "../../air/hash.js";
import { KernelError } from "../core/errors.js";
import { worldPaths } from "../journal/world-paths.js";
import { moveIntoPg, moveOutOfPg, rowsOfSqlite } from "../journal/pg-move.js";
import { PgJournalStore } from "../journal/pg-store.js";
import { SqliteJournalStore } from "../journal/sqlite-store.js";
import { readConfig, replaceConfig, WorldConfigSchema, type WorldConfig } from "./config.js";
import { processLease } from "./journal-open.js";
import { replayWorld } from "./lifecycle.js";
import { verifyWorldDir } from "./verify-world.js";

/** What a move kept: the same head, Merkle root and state root on both sides. */
export interface StoreMove {
  world_id: string;
  from: string;
  to: string;
  entries: number;
  head_hash: string;
  root: string;
  state_root: string;
}

/** Where a world's journal is, as `wk` prints it. */
const placeOf = (c: WorldConfig): string => c.store ?? "sqlite";

/** The head, root and state root of the world at `dir`, verified and replayed; refuses a world that fails either. */
async function fingerprint(dir: string, side: string) {
  const v = await verifyWorldDir(dir, { requireSealedHead: false });
  if (!v.ok)
    throw new KernelError(
      "kernel.migrate_failed",
      `the ${side} journal fails verification: ${v.fault} at seq ${v.first_bad_seq}: ${v.message}`,
    );
  const r = await replayWorld(dir, { verified: true });
  if (!r.ok)
    throw new KernelError(
      "kernel.migrate_failed",
      `the ${side} journal does not replay: ${r.divergence?.reason ?? "divergence"} at seq ${r.divergence?.seq}`,
    );
  return { entries: v.entries, state_root: r.state_root };
}

/** Moves the world at `dir` to `to` (a postgres:// URL, or "sqlite" for journal.db beside its config). */
export async function migrateStore(dir: string, to: string): Promise<StoreMove> {
  const paths = worldPaths(dir);
  const config = readConfig(paths.config);
  const target = to === "sqlite" ? undefined : to;
  if (target !== undefined) {
    const ok = WorldConfigSchema.shape.store.safeParse(target);
    if (!ok.success) throw new KernelError("kernel.bad_world", `--to: ${ok.error.issues[0]!.message}`);
  }
  if (target === config.store)
    throw new KernelError("kernel.same_store", `the world's journal is already in ${placeOf(config)}`);
  if (target !== undefined && config.store !== undefined)
    throw new KernelError("kernel.same_store", "a world moves between PostgreSQL databases through sqlite");
  if (target === undefined && existsSync(paths.journal))
    throw new KernelError("kernel.world_exists", `${paths.journal} already exists: move it away first`);
  const before = await fingerprint(dir, "source");
  let head: { hash: Uint8Array; root: Uint8Array };
  if (config.store === undefined) {
    // The writer lock holds every other writer off while the rows move.
    const src = SqliteJournalStore.open(paths.journal);
    try {
      const dst = await PgJournalStore.open(target!, config.world_id, { create: true, lease: processLease() });
      try {
        await moveIntoPg(rowsOfSqlite(src), dst);
        head = { hash: (await dst.head())!.hash, root: await dst.root() };
      } finally {
        await dst.close();
      }
    } finally {
      src.closeSync();
    }
  } else {
    // The lease holds every other writer (and `wk worker`) off while the rows move.
    const src = await PgJournalStore.open(config.store, config.world_id, { lease: processLease() });
    try {
      await moveOutOfPg(src, paths.journal);
      head = { hash: (await src.head())!.hash, root: await src.root() };
    } finally {
      await src.close();
    }
  }
  const { store: _old, ...rest } = config;
  void _old;
  const next: WorldConfig = target === undefined ? rest : { ...rest, store: target };
  if (config.store === undefined) renameSync(paths.journal, `${paths.journal}.moved`);
  replaceConfig(paths.config, next);
  try {
    const after = await fingerprint(dir, "moved");
    if (after.state_root !== before.state_root || after.entries !== before.entries)
      throw new KernelError(
        "kernel.migrate_failed",
        `the moved world replays to ${after.state_root} over ${after.entries} entries, not ${before.state_root} over ${before.entries}`,
      );
    return {
      world_id: config.world_id,
      from: placeOf(config),
      to: placeOf(next),
      entries: after.entries,
      head_hash: toHex(head.hash),
      root: toHex(head.root),
      state_root: after.state_root,
    };
  } catch (e) {
    // Put the world back where it was: its source is untouched.
    replaceConfig(paths.config, config);
    if (config.store === undefined) renameSync(`${paths.journal}.moved`, paths.journal);
    else renameSync(paths.journal, `${paths.journal}.failed`);
    throw e;
  }
}
