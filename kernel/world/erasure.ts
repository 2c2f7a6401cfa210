/**
 * @module Erasing a blob from a live world: the erasure entry, the cells told of it (so their
 * modules can redact), then, under erasure-v1, the blobs derived from it and the older cell
 * states snapshots kept. Reports what it did and which cells may still hold derived data.
 */
import type { HashText } from "../../air/hash.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { cellId, type CellKey } from "../core/cells.js";
import { checkErasable, structuralBlobs } from "./erase.js";
import { erasureReach } from "./erasure-taint.js";
import type { StateView } from "../transition/state.js";
import type { Processor } from "./processor.js";
import type { Writer } from "./writer.js";

/** What `World.eraseReport` did. */
export interface EraseReport {
  /** The erasure entry's seq. */
  seq: number;
  /** Cells told of the erasure (they read the blob or derive from it). */
  notified: { module: string; key: CellKey }[];
  /** Derived blobs and older cell states erased with it. */
  derived_erased: HashText[];
  /** Told cells whose state did not change: their module did not redact, so they may still hold derived data. */
  still_holding: { module: string; key: CellKey }[];
}

/** What an erasure works with. */
export interface ErasureParts {
  readonly state: StateView;
  readonly store: WorldJournal;
  readonly processor: Processor;
  readonly writer: Writer;
}

/** Erases `hash` and what derives from it (run under the writer's exclusivity). */
export async function eraseReport(w: ErasureParts, hash: HashText, reason: string): Promise<EraseReport> {
  checkErasable(w.store, hash);
  const reach = w.state.behaviour.erasure
    ? erasureReach(w.store, hash)
    : { cells: [], derived: [], snapshotStates: [] };
  const notify = reach.cells
    .filter((c) => w.state.cells.get(c.module, c.key) !== undefined)
    .map((c) => [c.module, c.key] as [string, CellKey]);
  const before = new Map(notify.map(([m, k]) => [cellId(m, k), w.state.cells.get(m, k)!.hash]));
  const a = await w.store.erase(hash, reason, notify.length > 0 ? { notify } : {});
  w.writer.synced();
  if (notify.length > 0) {
    const batch = w.writer.batch();
    await w.processor.processErasure(a.seq, { blob_hash: hash, reason, notify }, batch);
    await w.writer.flush(batch);
  }
  const structural = structuralBlobs(w.store);
  const live = new Set(w.state.cells.list().map((c) => c.hash as string));
  const erased: HashText[] = [];
  const eraseDerived = async (h: HashText, skip: (h: string) => boolean) => {
    if (skip(h) || !w.store.hasBlobSync(h)) return;
    await w.store.erase(h, `derived from ${hash}: ${reason}`, { derived_from: hash });
    erased.push(h);
  };
  for (const d of reach.derived) await eraseDerived(d, (h) => structural.has(h));
  for (const s of reach.snapshotStates) await eraseDerived(s, (h) => live.has(h));
  w.writer.synced();
  const stillHolding = notify
    .filter(([m, k]) => w.state.cells.get(m, k)?.hash === before.get(cellId(m, k)))
    .map(([module, key]) => ({ module, key }));
  return {
    seq: a.seq,
    notified: notify.map(([module, key]) => ({ module, key })),
    derived_erased: erased,
    still_holding: stillHolding,
  };
}
