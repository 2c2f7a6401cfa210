/**
 * @module Pure RFC 6962 / RFC 9162 Merkle tree hashing and proof verification: leaf =
 * sha256(0x00 ‖ data), node = sha256(0x01 ‖ left ‖ right). No SQLite, no node:crypto:
 * the offline verifier checks receipts' inclusion and checkpoints' consistency with this
 * file and @noble/hashes alone. In the journal a leaf's data is the entry hash.
 */
import { sha256 } from "@noble/hashes/sha2.js";

/** sha256 of the empty string: the root of the empty tree (RFC 6962 §2.1). */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/** Every hash a verifier takes (roots, leaf hashes, proof elements) is one SHA-256 output. */
const HASH_SIZE = 32;

/** A private copy of MTH({}) = SHA-256(), so a caller writing into EMPTY_ROOT cannot move it. */
const EMPTY = sha256(new Uint8Array(0));

/** The leaf hash of some leaf data: sha256(0x00 ‖ data). */
export function leafHash(data: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + data.length);
  buf.set(data, 1);
  return sha256(buf);
}

/** An interior node hash: sha256(0x01 ‖ left ‖ right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const buf = new Uint8Array(1 + left.length + right.length);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 1 + left.length);
  return sha256(buf);
}

/** Constant-shape byte equality. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}

const isOdd = (x: number): boolean => x % 2 === 1;
const half = (x: number): number => Math.floor(x / 2);
const validSize = (x: number): boolean => Number.isSafeInteger(x) && x >= 0;
const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === HASH_SIZE;
const allHashes = (hs: unknown): hs is readonly Uint8Array[] => Array.isArray(hs) && hs.every(isHash);

/** MTH over leaf hashes, straight from the RFC's recursion (reference for tests and small trees). */
export function rootOfLeafHashes(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return nodeHash(rootOfLeafHashes(leaves.slice(0, k)), rootOfLeafHashes(leaves.slice(k)));
}

/**
 * The root an inclusion proof implies (RFC 9162 §2.1.3.2), or null when the proof has
 * the wrong shape for (index, size) or the leaf hash or a proof element is not 32 bytes.
 */
export function rootFromInclusionProof(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
): Uint8Array | null {
  if (!validSize(index) || !validSize(size) || index >= size) return null;
  if (!isHash(leaf) || !allHashes(proof)) return null;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return null;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 ? r : null;
}

/**
 * True when `proof` shows the leaf hash at `index` is in the tree of `size` with `root`.
 * The leaf hash, the root and every proof element must be 32 bytes.
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(root)) return false;
  const r = rootFromInclusionProof(leaf, index, size, proof);
  return r !== null && bytesEqual(r, root);
}

/**
 * Inclusion of a journal entry: its leaf is sha256(0x00 ‖ entry hash) and its index is its
 * seq. The entry hash is itself a sha256 and must be 32 bytes.
 */
export function verifyEntryInclusion(
  entryHash: Uint8Array,
  seq: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!isHash(entryHash)) return false;
  return verifyInclusion(leafHash(entryHash), seq, size, proof, root);
}

/**
 * True when `proof` shows the tree of `oldSize` with `oldRoot` is a prefix of the tree of
 * `newSize` with `newRoot` (RFC 9162 §2.1.4.2). Sizes must be safe non-negative integers
 * with `oldSize <= newSize`; both roots and every proof element must be 32 bytes.
 *
 * - Equal sizes need an empty proof and equal roots; for size 0 both roots must be the
 *   empty-tree root MTH({}) = SHA-256() (RFC 6962 §2.1), not merely equal to each other.
 * - From size 0 (RFC 9162 §2.1.4 leaves the proof undefined): the only proof accepted is
 *   the empty one, and only when `oldRoot` is the empty-tree root. The empty tree is a
 *   prefix of every tree, so this says nothing about `newRoot` beyond its being a 32-byte
 *   hash: a caller must establish `newRoot` (e.g. from a signed checkpoint) by other means.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!validSize(oldSize) || !validSize(newSize) || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || !allHashes(proof)) return false;
  if (oldSize === 0)
    return proof.length === 0 && bytesEqual(oldRoot, EMPTY) && (newSize > 0 || bytesEqual(newRoot, EMPTY));
  if (oldSize === newSize) return proof.length === 0 && bytesEqual(oldRoot, newRoot);
  if (proof.length === 0) return false;
  // A power-of-two old tree is itself a node of the new tree, so its root seeds the path.
  const path = isPow2(oldSize) ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot);
}

function isPow2(x: number): boolean {
  let v = x;
  while (v > 1) {
    if (isOdd(v)) return false;
    v = half(v);
  }
  return v === 1;
}
