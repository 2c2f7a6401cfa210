/**
 * @module Snapshots: the kernel state at a height (cell states in the CAS, budgets,
 * pending intents, logical clock) as one canonical blob, so cold start and replay-from-N
 * skip the history before it. The snapshot's state root is checked on restore.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { encodeStored } from "../../air/cbor/encode.js";
import { isCborObject, type CborObject, type CborValue } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import type { HashText } from "../../air/hash.js";
import { BudgetLedger } from "../core/budget.js";
import { CellStore, sortTriples, stateRootOf, type CellTriple } from "../core/cells.js";
import { KernelError } from "../core/errors.js";
import type { KernelState, PendingIntent, StateView } from "../transition/state.js";
import { catalogFromBundle } from "../../air/bundle.js";
import type { Behaviour } from "../transition/flags.js";
import { snapshotBlobFrom, type SnapshotBlob } from "./snapshot-blob.js";

/** Where blobs go and come from. */
export interface BlobIO {
  put(bytes: Uint8Array): HashText;
  get(hash: HashText): Uint8Array;
}

function readOrErased(blobs: BlobIO, hash: HashText): Uint8Array {
  try {
    return blobs.get(hash);
  } catch (e) {
    if ((e as { code?: string }).code === "journal.blob_erased") return new Uint8Array(0);
    throw e;
  }
}

export type { SnapshotBlob } from "./snapshot-blob.js";

/** The snapshot blob a state implies (cells by hash, sorted; pending intents by id). */
export function snapshotBlobOf(state: {
  cells: readonly CellTriple[];
  ledger: Pick<BudgetLedger, "toCbor">;
  pending: Iterable<Readonly<PendingIntent>>;
  logicalNow: number;
  airRef: HashText;
}): CborObject {
  return {
    version: 1,
    cells: sortTriples(state.cells).map((t) => [...t]), // the triples are readonly; the blob holds copies
    ledger: state.ledger.toCbor(),
    // In the order the kernel admitted them (comparisons treat them as a set).
    pending: [...state.pending].map((p) => ({ ...p })),
    logical_now: state.logicalNow,
    air_ref: state.airRef,
  };
}

/** Writes every cell state and the kernel state blob; returns the blob hash and state root. */
export function writeSnapshotBlob(state: StateView, blobs: BlobIO): { cellsRef: HashText; stateRoot: HashText } {
  const cells = state.cells.list().map((c): CellTriple => {
    if (c.bytes.length > 0) blobs.put(c.bytes); // a state known by hash only keeps its hash
    return [c.module, c.key, c.hash];
  });
  const blob = snapshotBlobOf({ ...state, cells, pending: state.pending.values() });
  return { cellsRef: blobs.put(encodeStored(blob)), stateRoot: state.cells.stateRoot() };
}

/** What a recorded snapshot is compared with: the state derived by re-execution or from the journal's entries. */
export interface DerivedSnapshot {
  cells: readonly CellTriple[] | null;
  ledger: Pick<BudgetLedger, "toCbor">;
  pending: Iterable<Readonly<PendingIntent>>;
  logicalNow: number;
  airRef: HashText;
  manifestHash: HashText;
  /** The genesis bundle: a snapshot written before governance names none, and means this one. */
  genesisAirRef: HashText;
}

/**
 * Why a recorded snapshot is not the one the derived state implies, field by field, or null
 * when it is. `cells: null` checks the cells only against the snapshot's own state root (after
 * a migration, whose per-cell results live only in the CAS). Pending intents compare as a set.
 */
export function snapshotMismatch(
  body: { state_root: string; manifest_hash: string },
  recorded: SnapshotBlob | null,
  derived: DerivedSnapshot,
): string | null {
  if (recorded === null) return "its blob is not a snapshot";
  if (body.manifest_hash !== derived.manifestHash)
    return `it names manifest ${body.manifest_hash}; the manifest in force is ${derived.manifestHash}`;
  const airRef = recorded.air_ref ?? derived.genesisAirRef;
  if (airRef !== derived.airRef) return `it names AIR bundle ${airRef}; the bundle in force is ${derived.airRef}`;
  const root = stateRootOf(recorded.cells);
  if (root !== body.state_root) return `its cells hash to state root ${root}, not the ${body.state_root} it records`;
  if (derived.cells !== null) {
    const want = stateRootOf(derived.cells);
    if (want !== root) return `its cells (state root ${root}) are not the ones the journal implies (${want})`;
  }
  const same = (a: CborValue, b: CborValue) => Buffer.compare(encodeStored(a), encodeStored(b)) === 0;
  const byId = (ps: Iterable<PendingIntent>) =>
    [...ps].sort((a, b) => (a.intentId < b.intentId ? -1 : a.intentId > b.intentId ? 1 : 0));
  const got = byId(recorded.pending);
  const want = byId(derived.pending);
  for (let i = 0; i < Math.max(got.length, want.length); i++) {
    const g = got[i];
    const w = want[i];
    if (g === undefined || w === undefined || g.intentId !== w.intentId)
      return `its pending intents (${got.map((p) => p.intentId).join(", ") || "none"}) are not the ones the journal implies (${want.map((p) => p.intentId).join(", ") || "none"})`;
    if (!same({ ...g }, { ...w }))
      return `its pending intent ${g.intentId} (waiting ${String(g.waiting)}) differs from the one the journal implies (waiting ${w.waiting})`;
  }
  if (!same(recorded.ledger ?? null, derived.ledger.toCbor()))
    return "its budget ledger is not the one the journal implies";
  if (recorded.logical_now !== derived.logicalNow)
    return `its logical clock ${recorded.logical_now} is not the journal's ${derived.logicalNow}`;
  return null;
}

/**
 * Rebuilds kernel state from a snapshot blob and checks its state root. `catalog` is the
 * genesis catalog; when governance changed the manifest since, the blob's `air_ref` names the
 * catalog in force at the snapshot.
 */
export function restoreSnapshot(
  worldId: string,
  catalog: AirCatalog,
  cellsRef: HashText,
  stateRoot: string,
  blobs: BlobIO,
  behaviour: Behaviour,
  manifestHash?: string,
): KernelState {
  const blob = decodeStored(blobs.get(cellsRef));
  const parts = snapshotBlobFrom(blob);
  if (!isCborObject(blob) || parts === null)
    throw new KernelError("kernel.bad_snapshot", `snapshot blob ${cellsRef} has an unknown format`);
  const airRef = blob.air_ref as HashText;
  if (manifestHash !== undefined && manifestHash !== catalog.manifestHash)
    catalog = catalogFromBundle(blobs.get(airRef), manifestHash);
  const cells = new CellStore();
  for (const [module, key, hash] of parts.cells) {
    // A state whose bytes were erased is known by its hash alone (replay adopts its steps).
    cells.set(module, key, readOrErased(blobs, hash), hash);
  }
  const root = cells.stateRoot();
  if (root !== stateRoot)
    throw new KernelError(
      "kernel.state_root_mismatch",
      `snapshot ${cellsRef} restores state root ${root}, expected ${stateRoot}`,
      { expected: stateRoot, actual: root },
    );
  const pending = new Map<string, PendingIntent>();
  for (const p of parts.pending) pending.set(p.intentId, p);
  return {
    worldId,
    catalog,
    airRef,
    cells,
    ledger: BudgetLedger.fromCbor(blob.ledger ?? null),
    pending,
    logicalNow: Number(blob.logical_now),
    behaviour,
  };
}
