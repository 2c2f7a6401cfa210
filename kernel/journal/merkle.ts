/**
 * @module The journal's Merkle tree (RFC 6962/9162 shape, leaf index = seq), kept
 * incrementally. `MerkleFrontier` holds only the roots of the perfect subtrees that make
 * up the current tree (one per set bit of its size), so an append costs O(1) amortised
 * and O(log n) worst case, and reports each perfect node as it completes so a store can
 * persist it. Roots and proofs for any past size are assembled from those perfect nodes
 * (O(log n) lookups each), never by recomputing the tree.
 */
import { EMPTY_ROOT } from "../crypto/merkle-verify.js";
import { fastNodeHash } from "./entry-hash.js";

/**
 * The lowest level of perfect nodes a store keeps (subtrees of 16+ entries); nodes below it
 * are rebuilt from at most 8 entry hashes when a proof or a root needs them.
 */
export const STORED_NODE_LEVEL = 4;

/**
 * The row key of perfect node (level, index): (seq of its last leaf)·64 + level. Nodes
 * complete in that order, so a store's inserts land at the end of its index.
 */
export function nodeKey(level: number, index: number): number {
  return ((index + 1) * 2 ** level - 1) * 64 + level;
}

/** Reads a perfect aligned subtree: level 0 is a leaf hash, level l covers 2^l leaves from index·2^l. */
export type NodeReader = (level: number, index: number) => Uint8Array;

/** Receives each perfect node (level ≥ 1) the moment it is complete. */
export type NodeSink = (level: number, index: number, hash: Uint8Array) => void;

/** The right edge of a growing tree: enough to append and to give the current root. */
export class MerkleFrontier {
  /** frontier[l] is the root of the perfect subtree of 2^l leaves when bit l of size is set. */
  private frontier: (Uint8Array | undefined)[] = [];
  size = 0;

  /** Restores a frontier for a tree of `size` leaves from its perfect nodes. */
  static load(size: number, read: NodeReader): MerkleFrontier {
    const f = new MerkleFrontier();
    f.size = size;
    let start = 0;
    for (let level = 52; level >= 0; level--) {
      const width = 2 ** level;
      if (size - start >= width) {
        f.frontier[level] = read(level, start / width);
        start += width;
      }
    }
    return f;
  }

  /** Adds a leaf hash; returns its index. */
  append(leaf: Uint8Array, sink?: NodeSink): number {
    const index = this.size;
    let carry = leaf;
    let level = 0;
    let n = index;
    while (n % 2 === 1) {
      carry = fastNodeHash(this.frontier[level]!, carry);
      this.frontier[level] = undefined;
      level++;
      n = (n - 1) / 2;
      sink?.(level, n, carry);
    }
    this.frontier[level] = carry;
    this.size = index + 1;
    return index;
  }

  /** The root of the current tree (sha256("") when empty). */
  root(): Uint8Array {
    let r: Uint8Array | undefined;
    for (let level = 0; level < this.frontier.length; level++) {
      const h = this.frontier[level];
      if (h === undefined) continue;
      r = r === undefined ? h : fastNodeHash(h, r);
    }
    return r ?? EMPTY_ROOT;
  }

  /** A copy to roll back to if the surrounding transaction fails. */
  clone(): MerkleFrontier {
    const f = new MerkleFrontier();
    f.size = this.size;
    f.frontier = this.frontier.slice();
    return f;
  }
}

function largestPow2Below(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[start:end]) from perfect nodes; ranges arising from the RFC recursion are always aligned. */
export function subtreeHash(read: NodeReader, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n <= 0) return EMPTY_ROOT;
  const level = Math.round(Math.log2(n));
  if (2 ** level === n && start % n === 0) return read(level, start / n);
  const k = largestPow2Below(n);
  return fastNodeHash(subtreeHash(read, start, start + k), subtreeHash(read, start + k, end));
}

/** The root of the tree of the first `size` leaves. */
export function rootAt(read: NodeReader, size: number): Uint8Array {
  return subtreeHash(read, 0, size);
}

/** RFC 6962 PATH(index, D[0:size]), leaf side first. */
export function inclusionPath(read: NodeReader, index: number, size: number): Uint8Array[] {
  let start = 0;
  let end = size;
  const siblings: Uint8Array[] = [];
  while (end - start > 1) {
    const k = largestPow2Below(end - start);
    if (index < start + k) {
      siblings.push(subtreeHash(read, start + k, end));
      end = start + k;
    } else {
      siblings.push(subtreeHash(read, start, start + k));
      start += k;
    }
  }
  return siblings.reverse();
}

/** RFC 6962 PROOF(oldSize, D[0:newSize]) for 0 < oldSize < newSize; empty when the sizes are equal. */
export function consistencyPath(read: NodeReader, oldSize: number, newSize: number): Uint8Array[] {
  if (oldSize === newSize || oldSize === 0) return [];
  const tail: Uint8Array[] = [];
  let m = oldSize;
  let start = 0;
  let n = newSize;
  let complete = true;
  for (;;) {
    if (m === n) {
      if (!complete) tail.push(subtreeHash(read, start, start + n));
      break;
    }
    const k = largestPow2Below(n);
    if (m <= k) {
      tail.push(subtreeHash(read, start + k, start + n));
      n = k;
    } else {
      tail.push(subtreeHash(read, start, start + k));
      m -= k;
      start += k;
      n -= k;
      complete = false;
    }
  }
  return tail.reverse();
}
