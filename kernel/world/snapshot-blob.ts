/**
 * @module The snapshot blob read back: its cells and pending intents typed as `snapshotBlobOf`
 * wrote them. Light on purpose (CBOR and types only), so `wk state` can read a snapshot
 * without loading the kernel.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import type { CellTriple } from "../core/cells.js";
import type { PendingIntent } from "../transition/state.js";

/** A snapshot blob's parts, as stored (`air_ref` is absent in snapshots written before governance). */
export interface SnapshotBlob {
  cells: CellTriple[];
  ledger: CborValue;
  pending: PendingIntent[];
  logical_now: number;
  air_ref?: HashText;
}

/**
 * The cells of a decoded snapshot blob ([module, key, state hash] each); null when it lists none,
 * so it is no snapshot blob. A blob is named by its hash and a snapshot's was written by the
 * kernel, so its triples are taken as written.
 */
export function snapshotCells(blob: CborValue): CellTriple[] | null {
  return isCborObject(blob) && Array.isArray(blob.cells) ? (blob.cells as unknown as CellTriple[]) : null;
}

/** A decoded snapshot blob's parts (null when it is not a version-1 snapshot blob). */
export function snapshotBlobFrom(blob: CborValue): SnapshotBlob | null {
  const cells = snapshotCells(blob);
  if (cells === null || !isCborObject(blob) || blob.version !== 1 || !Array.isArray(blob.pending)) return null;
  return {
    cells,
    ledger: blob.ledger ?? null,
    // The records `snapshotBlobOf` wrote from the kernel's PendingIntents, field for field.
    pending: blob.pending as unknown as PendingIntent[],
    logical_now: Number(blob.logical_now),
    ...(typeof blob.air_ref === "string" ? { air_ref: blob.air_ref as HashText } : {}),
  };
}

/** Decodes a stored snapshot blob into its parts (null when it is not one). */
export function readSnapshotBlob(bytes: Uint8Array): SnapshotBlob | null {
  return snapshotBlobFrom(decodeStored(bytes));
}
