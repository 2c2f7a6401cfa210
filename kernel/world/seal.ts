/**
 * @module Sealing a world's history: snapshot entries (state blobs in the CAS), signed
 * checkpoints over the live state root (never a state the process did not derive), and the
 * seal a clean close leaves at the head.
 */
import type { HashText } from "../../air/hash.js";
import type { KeyPair } from "../crypto/keys.js";
import type { WorldJournal } from "../journal/world-journal.js";
import type { StateView } from "../transition/state.js";
import { writeSnapshotBlob } from "./snapshot.js";
import type { Writer } from "./writer.js";

/** What sealing works with. */
export interface SealParts {
  readonly state: StateView;
  readonly store: WorldJournal;
  readonly writer: Writer;
  readonly worldKey: KeyPair;
}

/** The current state root and manifest hash (what checkpoints sign). */
export function stateRefsOf(state: StateView): { state_root: HashText; manifest_hash: HashText } {
  return { state_root: state.cells.stateRoot(), manifest_hash: state.catalog.manifestHash };
}

/** Writes a snapshot entry (state blobs in the CAS) and returns its seq. */
export async function appendSnapshot(w: SealParts): Promise<number> {
  const { cellsRef, stateRoot } = writeSnapshotBlob(w.state, {
    put: (b) => w.store.putBlobSync(b),
    get: (h) => w.store.getBlobSync(h),
  });
  const a = await w.store.append("snapshot", {
    state_root: stateRoot,
    cells_ref: cellsRef,
    height: w.writer.height,
    manifest_hash: w.state.catalog.manifestHash,
  });
  w.writer.synced();
  return a.seq;
}

/** Signs a checkpoint now over the current state root. */
export async function appendCheckpoint(w: SealParts): Promise<number> {
  const a = await w.store.checkpoint(w.worldKey, () => stateRefsOf(w.state));
  w.writer.synced();
  return a.seq;
}

/**
 * The seal of a clean close: a snapshot when there is unsnapshotted history, then a signed
 * checkpoint at the head, so cutting entries off the end is caught from the world's own files.
 */
export async function sealOnClose(w: SealParts, opts: { snapshot?: boolean }): Promise<void> {
  if (w.store.readonly) return;
  if (opts.snapshot !== false) {
    const last = w.store.latestOfKind("snapshot");
    const lastStep = w.store.latestOfKind("step");
    if (lastStep && (!last || last.seq < lastStep.seq)) await appendSnapshot(w);
  }
  const head = w.store.headSync();
  if (head !== null && w.store.getSync(head.seq)!.kind !== "checkpoint") await appendCheckpoint(w);
}
