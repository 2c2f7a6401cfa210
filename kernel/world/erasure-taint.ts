/**
 * @module What an erasure reaches (erasure-v1). Walking the journal forward from the erased
 * blob: a step that read it (its `reads`), or stepped on an event such a step emitted, or
 * ran on a cell already reached, reaches its cell; the events and intents of a reached step
 * are reached; the blobs a reached intent's receipt names (`*_ref` in its payload: a prompt
 * a module stored, a completion made from it) derive from the erased blob, and so do the
 * older states of a reached cell kept in snapshots. Entries are never touched: the chain
 * covers them. This is what `World.erase` notifies and erases besides the blob itself.
 */
import type { WorldJournal } from "../journal/world-journal.js";
import { bytesToHash, type HashText } from "../../air/hash.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import { decodeEntry } from "../journal/index.js";
import { eventOrigin } from "./event-fields.js";
import { snapshotCells } from "./snapshot-blob.js";
import { cellId, type CellKey } from "../core/cells.js";

/** The cells and blobs an erasure reaches. */
export interface ErasureReach {
  /** Cells that read the blob or derive from it, in the order first reached. */
  cells: { module: string; key: CellKey }[];
  /** Blobs derived from it (receipt payload refs of reached intents), without the blob itself. */
  derived: HashText[];
  /** State blobs of reached cells that snapshots keep (to erase, except states still live). */
  snapshotStates: HashText[];
}

/** Walks the journal and returns what erasing `hash` reaches. */
export function erasureReach(store: WorldJournal, hash: HashText): ErasureReach {
  const tainted = new Set<string>([hash]);
  const cells = new Map<string, { module: string; key: CellKey }>();
  const steps = new Set<string>(); // module|cellId|cause_seq of reached steps
  const events = new Set<number>();
  const intents = new Set<string>();
  const derived: HashText[] = [];
  const snapshots: string[] = [];
  for (const raw of store.iterateSync()) {
    const k = raw.kind;
    if (k !== "snapshot" && k !== "step" && k !== "event" && k !== "effect_intent" && k !== "effect_receipt") continue;
    const e = decodeEntry(raw);
    if (e.kind === "snapshot") snapshots.push(e.body.cells_ref);
    else if (e.kind === "step") {
      const b = e.body;
      const id = cellId(b.module, b.key);
      const read = b.reads !== undefined && b.reads.some((r) => tainted.has(r));
      if (b.ok && (read || events.has(b.cause_seq) || cells.has(id))) {
        if (!cells.has(id)) cells.set(id, { module: b.module, key: b.key });
        steps.add(`${id}|${b.cause_seq}`);
        for (const i of b.intents) intents.add(i);
      }
    } else if (e.kind === "event") {
      const o = eventOrigin(e.body);
      if (o.kind === "module" && steps.has(`${cellId(o.module as string, o.key as CellKey)}|${String(o.cause_seq)}`))
        events.add(e.seq);
      if (o.kind === "receipt" && intents.has(o.intent_id as string)) events.add(e.seq);
    } else if (e.kind === "effect_receipt" && intents.has(e.body.intent_id)) {
      for (const r of refsIn(e.body.payload)) {
        if (!tainted.has(r)) {
          tainted.add(r);
          derived.push(r as HashText);
        }
      }
    }
  }
  const snapshotStates = new Set<HashText>();
  for (const ref of snapshots) {
    if (!store.hasBlobSync(ref as HashText)) continue;
    for (const [module, key, hash] of snapshotCells(decodeStored(store.getBlobSync(ref as HashText))) ?? []) {
      if (cells.has(cellId(String(module), key))) snapshotStates.add(hash);
    }
  }
  return { cells: [...cells.values()], derived, snapshotStates: [...snapshotStates] };
}

/** Blob references in a payload: values of keys ending in `_ref` (text hashes or 32 raw bytes). */
export function refsIn(v: CborValue, out: string[] = []): string[] {
  if (Array.isArray(v)) for (const x of v) refsIn(x, out);
  else if (isCborObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (k.endsWith("_ref") && typeof x === "string" && /^sha256:[0-9a-f]{64}$/.test(x)) out.push(x);
      else if (k.endsWith("_ref") && x instanceof Uint8Array && x.length === 32) out.push(bytesToHash(x));
      else refsIn(x, out);
    }
  }
  return out;
}
