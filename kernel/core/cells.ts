/**
 * @module Cell state: one canonical CBOR state per (module, key). The state root is the
 * hash of the sorted list of (module, key, state hash), so it is independent of the order
 * in which cells were touched and identical in live execution, replay and cold start.
 */
import { compareBytes, encodeCanonical } from "../../air/cbor/encode.js";
import { hashBytes, hashValue, sha256, toHex, type HashText } from "../../air/hash.js";
import type { CborValue } from "../../air/cbor/value.js";

/** A cell key: unkeyed workflows use null; keys are text or bytes. */
export type CellKey = null | string | Uint8Array;

/** A cell key as text, as reports and the CLI show it: the string, hex for bytes, null for a singleton. */
export function cellKeyText(k: CellKey | undefined): string | null {
  return k === null || k === undefined ? null : typeof k === "string" ? k : toHex(k);
}

/**
 * One cell's current state as stored bytes (`d9d9f7` + canonical item) and its hash. Empty
 * `bytes` mean the state is known by its hash only: its bytes were erased (see replay).
 */
export interface CellState {
  module: string;
  key: CellKey;
  bytes: Uint8Array;
  hash: HashText;
}

/** Map key for a cell: module and key joined unambiguously. */
export function cellId(module: string, key: CellKey): string {
  if (key === null) return `${module}\u0000n`;
  if (typeof key === "string") return `${module}\u0000t${key}`;
  return `${module}\u0000b${Buffer.from(key).toString("hex")}`;
}

/** In-memory cell states with an order-independent state root. */
export class CellStore {
  private readonly cells = new Map<string, CellState>();

  /** The cell's state, or undefined for a new cell. */
  get(module: string, key: CellKey): CellState | undefined {
    return this.cells.get(cellId(module, key));
  }

  /** Sets (or with `bytes === null` deletes) a cell's state. */
  set(module: string, key: CellKey, bytes: Uint8Array | null, hash?: HashText): void {
    const id = cellId(module, key);
    if (bytes === null) this.cells.delete(id);
    else this.cells.set(id, { module, key, bytes, hash: hash ?? hashBytes(bytes) });
  }

  /** Every cell, sorted by module then key. */
  list(): CellState[] {
    return sortByCell(
      [...this.cells.values()],
      (c) => c.module,
      (c) => c.key,
    );
  }

  /** Cells of one module, sorted by key. */
  listModule(module: string): CellState[] {
    return this.list().filter((c) => c.module === module);
  }

  get size(): number {
    return this.cells.size;
  }

  /** The state root: sha256 over the canonical list of [module, key, state hash] triples. */
  stateRoot(): HashText {
    return rootOfSorted(this.list().map((c) => [c.module, c.key, c.hash]));
  }

  /** A deep copy (for shadow runs and forks). */
  clone(): CellStore {
    const c = new CellStore();
    for (const [k, v] of this.cells) c.cells.set(k, v);
    return c;
  }
}

function hashToRaw(h: HashText): Uint8Array {
  return Uint8Array.from(Buffer.from(h.slice(7), "hex"));
}

/**
 * Sorts cells by module (string order), then by their key's canonical CBOR bytes. Each key is
 * encoded once (decorate, sort, undecorate) rather than once per comparison: state roots are
 * computed at every checkpoint and snapshot, over every cell.
 */
function sortByCell<T>(items: readonly T[], module: (t: T) => string, key: (t: T) => CellKey): T[] {
  const decorated = items.map((t) => ({ t, m: module(t), k: encodeCanonical(key(t)) }));
  decorated.sort((a, b) => (a.m !== b.m ? (a.m < b.m ? -1 : 1) : compareBytes(a.k, b.k)));
  return decorated.map((d) => d.t);
}

/** A cell as snapshots and state roots name it: module, key, state hash. */
export type CellTriple = readonly [module: string, key: CellKey, hash: HashText];

/** Triples in state-root order (module, then canonical key bytes). */
export function sortTriples(triples: readonly CellTriple[]): CellTriple[] {
  return sortByCell(
    triples,
    (t) => t[0],
    (t) => t[1],
  );
}

/** The state root of a set of cells known by hash: sha256 over the canonical sorted list of [module, key, raw hash]. */
export function stateRootOf(triples: readonly CellTriple[]): HashText {
  return rootOfSorted(sortTriples(triples));
}

function rootOfSorted(sorted: readonly CellTriple[]): HashText {
  return hashValue(sorted.map(([m, k, h]): CborValue => [m, k, hashToRaw(h)]));
}

/** A deterministic sub-entropy: sha256 of the parent entropy with a label. */
export function deriveEntropy(parent: Uint8Array, label: string, index: number): Uint8Array {
  return sha256(encodeCanonical([parent, label, index]));
}
