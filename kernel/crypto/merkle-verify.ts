/**
 * @module Pure RFC 6962 / RFC 9162 Merkle tree hashing and proof verification: leaf =
 * sha256(0x00 ‖ data), node = sha256(0x01 ‖ left ‖ right). No SQLite, no node:crypto:
 * the offline verifier checks receipts' inclusion and checkpoints' consistency with this
 * file and @noble/hashes alone. In the journal a leaf's data is the entry hash. The two
 * verifiers are RFC 9162 §2.1.3.2 and §2.1.4.2 step by step (the step numbers are in
 * the comments), behind input checks that turn any malformed argument into `false`, never
 * into a throw.
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

// Sizes go up to 2^53 - 1, past what JavaScript's 32-bit `>>` and `&` can shift, so the
// RFC's LSB and right shift are spelled with % and Math.floor.
const lsb = (x: number): boolean => x % 2 === 1;
const shr = (x: number): number => Math.floor(x / 2);
const validSize = (x: number): boolean => Number.isSafeInteger(x) && x >= 0;
const isHash = (h: unknown): h is Uint8Array => h instanceof Uint8Array && h.length === HASH_SIZE;

/** An exact power of two (1, 2, 4, …); RFC 9162 §2.1.4.2 step 2 asks this of `first`. */
function isPow2(x: number): boolean {
  let v = x;
  while (v > 1) {
    if (lsb(v)) return false;
    v = shr(v);
  }
  return v === 1;
}

/**
 * A copy of `proof` when it is an array of 32-byte hashes, else null. Copied first, then
 * checked, then used: `every` skips the holes of a sparse array (which then reached the
 * hashing as undefined and threw), and a getter could answer the check and the use
 * differently.
 */
function hashList(proof: unknown): Uint8Array[] | null {
  if (!Array.isArray(proof)) return null;
  const copy = Array.from(proof as unknown[]);
  for (const h of copy) if (!isHash(h)) return null;
  return copy as Uint8Array[];
}

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
  const path = hashList(proof);
  if (!validSize(index) || !validSize(size) || !isHash(leaf) || path === null) return null;
  // 1. leaf_index >= tree_size fails.
  if (index >= size) return null;
  // 2.
  let fn = index;
  let sn = size - 1;
  // 3.
  let r = leaf;
  // 4.
  for (const p of path) {
    // 4a. The path is longer than the tree is high.
    if (sn === 0) return null;
    // 4b. p is a left sibling when fn is a right child, or when fn is the last node of
    // its level and so has no right sibling at this level (a non-full right edge).
    if (lsb(fn) || fn === sn) {
      // 4b-i.
      r = nodeHash(p, r);
      // 4b-ii. On that right edge, climb past the levels where the node has no sibling.
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = shr(fn);
          sn = shr(sn);
        }
      }
    } else {
      // 4b, otherwise: p is the right sibling.
      r = nodeHash(r, p);
    }
    // 4c.
    fn = shr(fn);
    sn = shr(sn);
  }
  // 5. sn == 0 means the path reached the root: not shorter than the tree is high.
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
  // 5. (continued) r must equal root_hash.
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
 * RFC 9162 verifies only 0 < first < second. The two other cases this accepts:
 * - Equal sizes need an empty proof and equal roots: §2.1.4.1's SUBPROOF(m, D[m], true) =
 *   {} is the proof of a tree against itself. (The §2.1.4.2 steps, run outside their
 *   domain, would refuse that empty proof in step 1 yet accept some non-empty ones, e.g.
 *   [leaf 4, MTH(D[0:4])] for 5 → 5; those are refused here.) For size 0 both roots must be
 *   the empty-tree root MTH({}) = SHA-256() (RFC 6962 §2.1), not merely equal to each other.
 * - From size 0 (RFC 9162 defines no proof: for m = 0, SUBPROOF's recursion ends in a
 *   one-leaf tree, which has no split point k): the only proof accepted is the empty one,
 *   and only when `oldRoot` is the empty-tree root. The empty tree is a prefix of every
 *   tree, so this says nothing about `newRoot` beyond its being a 32-byte hash: a caller
 *   must establish `newRoot` (e.g. from a signed checkpoint) by other means.
 */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  const given = hashList(proof);
  if (!validSize(oldSize) || !validSize(newSize) || oldSize > newSize) return false;
  if (!isHash(oldRoot) || !isHash(newRoot) || given === null) return false;
  if (oldSize === 0)
    return given.length === 0 && bytesEqual(oldRoot, EMPTY) && (newSize > 0 || bytesEqual(newRoot, EMPTY));
  if (oldSize === newSize) return given.length === 0 && bytesEqual(oldRoot, newRoot);
  // From here 0 < first < second, the RFC's domain. 1.
  if (given.length === 0) return false;
  // 2. A power-of-two old tree is itself a node of the new tree: the proof leaves its root
  // out, since the verifier holds it.
  const path = isPow2(oldSize) ? [oldRoot, ...given] : given;
  // 3.
  let fn = oldSize - 1;
  let sn = newSize - 1;
  // 4. Climb to the root of the largest perfect subtree that ends the old tree.
  while (lsb(fn)) {
    fn = shr(fn);
    sn = shr(sn);
  }
  // 5. That subtree's root seeds both the old root (fr) and the new root (sr).
  let fr = path[0]!;
  let sr = path[0]!;
  // 6.
  for (let i = 1; i < path.length; i++) {
    const c = path[i]!;
    // 6a. The proof is longer than the new tree is high.
    if (sn === 0) return false;
    // 6b. c is a left sibling: part of both trees.
    if (lsb(fn) || fn === sn) {
      // 6b-i.
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      // 6b-ii. On the new tree's right edge, climb past the levels without a sibling.
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = shr(fn);
          sn = shr(sn);
        }
      }
    } else {
      // 6b, otherwise: c is a right sibling, appended after the old tree: new root only.
      sr = nodeHash(sr, c);
    }
    // 6c.
    fn = shr(fn);
    sn = shr(sn);
  }
  // 7.
  return sn === 0 && bytesEqual(fr, oldRoot) && bytesEqual(sr, newRoot);
}
