/**
 * @module Booting a kernel over an existing journal: read genesis (format flags, AIR bundle,
 * catalog) and, optionally, restore the latest snapshot at or before a seq. Shared by cold
 * start, replay and fork, so all three start from the same state by construction.
 */
import type { WorldJournal } from "../journal/world-journal.js";
import type { AirCatalog } from "../../air/loader.js";
import { catalogFromBundle } from "../../air/bundle.js";
import type { HashText } from "../../air/hash.js";
import { decodeEntry, type EntryBodies } from "../journal/index.js";
import { BudgetLedger } from "../core/budget.js";
import { CellStore } from "../core/cells.js";
import { KernelError } from "../core/errors.js";
import { behaviourOf, unsupportedFlags, type Behaviour } from "../transition/flags.js";
import type { KernelState } from "./processor.js";
import { restoreSnapshot } from "./snapshot.js";

/** The genesis body (the entry at seq 0); `kernel.bad_world` when the journal has none. */
export function genesisOf(store: Pick<WorldJournal, "getSync" | "path">): EntryBodies["genesis"] {
  const g0 = store.getSync(0);
  if (!g0 || g0.kind !== "genesis") throw new KernelError("kernel.bad_world", `${store.path} has no genesis entry`);
  return decodeEntry({ ...g0, kind: g0.kind }).body;
}

/** The genesis body and the catalog it names, after checking this kernel can replay it. */
export function readGenesis(store: WorldJournal): { genesis: EntryBodies["genesis"]; catalog: AirCatalog } {
  const genesis = genesisOf(store);
  const bad = unsupportedFlags(genesis.kernel_flags);
  if (bad.length)
    throw new KernelError("kernel.unsupported_flag", `this kernel does not implement flag(s) ${bad.join(", ")}`);
  if (!genesis.air_ref) throw new KernelError("kernel.bad_world", "genesis names no AIR bundle (air_ref)");
  return { genesis, catalog: catalogFromBundle(store.getBlobSync(genesis.air_ref as HashText), genesis.manifest_hash) };
}

/** An empty kernel state for a world. */
export function emptyState(worldId: string, catalog: AirCatalog, airRef: HashText, behaviour: Behaviour): KernelState {
  return {
    worldId,
    catalog,
    airRef,
    cells: new CellStore(),
    ledger: new BudgetLedger(),
    pending: new Map(),
    logicalNow: 0,
    behaviour,
  };
}

/**
 * Which snapshot a boot starts from: none (genesis), the latest at or before `to` that a signed
 * checkpoint covers, or the first (a fork's base). A snapshot no checkpoint covers is never
 * booted from: it is re-derived and compared.
 */
export type SnapshotChoice = "none" | "latest" | "first";

/** The state to start from and the first seq to replay: the chosen snapshot, else genesis. */
export function bootState(
  store: WorldJournal,
  genesis: EntryBodies["genesis"],
  catalog: AirCatalog,
  opts: { snapshot: SnapshotChoice; to?: number },
): { state: KernelState; from: number; snapshotSeq: number | null } {
  // A fork's state at any seq before its base snapshot is that snapshot's (the parent's at the fork point).
  const latest = opts.snapshot === "latest" ? latestCoveredSnapshot(store, opts.to) : null;
  const snap =
    opts.snapshot === "none"
      ? null
      : opts.snapshot === "first" || (latest === null && genesis.fork !== null)
        ? firstSnapshot(store)
        : latest;
  const behaviour = behaviourOf(genesis.kernel_flags);
  if (!snap)
    return {
      state: emptyState(genesis.world_id, catalog, genesis.air_ref as HashText, behaviour),
      from: 1,
      snapshotSeq: null,
    };
  if (snap.kind !== "snapshot") throw new KernelError("kernel.internal", `the entry at seq ${snap.seq} is no snapshot`);
  const s = decodeEntry({ ...snap, kind: snap.kind }).body;
  const blobs = {
    put: () => {
      throw new KernelError("kernel.internal", "restoring a snapshot writes nothing");
    },
    get: (h: HashText) => store.getBlobSync(h),
  };
  const state = restoreSnapshot(
    genesis.world_id,
    catalog,
    s.cells_ref as HashText,
    s.state_root,
    blobs,
    behaviour,
    s.manifest_hash,
  );
  // Snapshots written before governance existed carry no air_ref: the genesis bundle is in force.
  state.airRef ??= genesis.air_ref as HashText;
  return { state, from: snap.seq + 1, snapshotSeq: snap.seq };
}

function firstSnapshot(store: WorldJournal) {
  for (const e of store.rareEntriesSync()) if (e.kind === "snapshot") return e;
  return null;
}

/** The latest snapshot at or before `to` with a checkpoint after it (so a signature covers it). */
function latestCoveredSnapshot(store: WorldJournal, to: number | undefined) {
  const cp = store.latestOfKind("checkpoint");
  if (cp === null || cp.seq === 0) return null;
  return store.latestOfKind("snapshot", to === undefined ? cp.seq - 1 : Math.min(to, cp.seq - 1));
}
