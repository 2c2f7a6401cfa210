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
import { CellStore, type CellKey } from "../core/cells.js";
import { KernelError } from "../core/errors.js";
import type { KernelState, PendingIntent } from "./processor.js";
import { catalogFromBundle } from "../../air/bundle.js";
import type { Behaviour } from "./flags.js";

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

/** Writes every cell state and the kernel state blob; returns the blob hash and state root. */
export function writeSnapshotBlob(state: KernelState, blobs: BlobIO): { cellsRef: HashText; stateRoot: HashText } {
  const cells = state.cells.list().map((c) => {
    if (c.bytes.length > 0) blobs.put(c.bytes); // a state known by hash only keeps its hash
    return [c.module, c.key, c.hash] as CborValue;
  });
  const pending = [...state.pending.values()].map((p) => ({ ...p, key: p.key }) as unknown as CborObject);
  const blob: CborObject = {
    version: 1,
    cells,
    ledger: state.ledger.toCbor(),
    pending,
    logical_now: state.logicalNow,
    air_ref: state.airRef,
  };
  return { cellsRef: blobs.put(encodeStored(blob)), stateRoot: state.cells.stateRoot() };
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
  if (!isCborObject(blob) || blob.version !== 1)
    throw new KernelError("kernel.bad_snapshot", `snapshot blob ${cellsRef} has an unknown format`);
  const airRef = blob.air_ref as HashText;
  if (manifestHash !== undefined && manifestHash !== catalog.manifestHash)
    catalog = catalogFromBundle(blobs.get(airRef), manifestHash);
  const cells = new CellStore();
  for (const c of blob.cells as CborValue[][]) {
    const [module, key, hash] = c as [string, CellKey, HashText];
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
  for (const p of blob.pending as CborObject[]) pending.set(p.intentId as string, p as unknown as PendingIntent);
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
