/**
 * @module An RFC 9162 reference for the proof tests, written from the RFC's text and
 * sharing no code with kernel/: SHA-256 from node:crypto; MTH, PATH and PROOF/SUBPROOF as
 * the recursions of §2.1.1, §2.1.3.1 and §2.1.4.1 over index ranges; the two verifiers as
 * step-by-step transcriptions of §2.1.3.2 and §2.1.4.2 that record which steps each run
 * took; and `expectStoreMatchesReference`, which holds a store's roots and proofs to it.
 */
import { createHash } from "node:crypto";
import { expect } from "vitest";
import { verifyConsistency, verifyInclusion } from "../../kernel/crypto/merkle-verify.js";

/** HASH(x ‖ y ‖ …) with SHA-256, the only hash RFC 9162 §2.1 uses here. */
export function HASH(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** Lowercase hex, to compare proofs byte for byte in readable failure messages. */
export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** The largest power of two smaller than n (n > 1): the k of every recursion in §2.1. */
export function largestPow2Below(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** An exact power of two (1, 2, 4, …): x is one exactly when it is the largest power of two below x + 1. */
export const isPow2 = (x: number): boolean => x >= 1 && largestPow2Below(x + 1) === x;

/** MTH(D[start:end]) of one fixed input list, as a function of the range alone. */
export type RangeHash = (start: number, end: number) => Uint8Array;

/**
 * §2.1.1 over the inputs `data`: MTH({}) = HASH(), MTH({d(0)}) = HASH(0x00 ‖ d(0)),
 * MTH(D_n) = HASH(0x01 ‖ MTH(D[0:k]) ‖ MTH(D[k:n])). Memoised by range, since PATH and
 * PROOF for every pair ask for the same subtrees again and again.
 */
export function listTree(data: readonly Uint8Array[]): RangeHash {
  const memo = new Map<string, Uint8Array>();
  const mth: RangeHash = (start, end) => {
    const key = `${start}:${end}`;
    let h = memo.get(key);
    if (h !== undefined) return h;
    const n = end - start;
    if (n < 0 || end > data.length) throw new RangeError(`D[${start}:${end}] of ${data.length} inputs`);
    if (n === 0) h = HASH();
    else if (n === 1) h = HASH(LEAF_PREFIX, data[start]!);
    else {
      const k = largestPow2Below(n);
      h = HASH(NODE_PREFIX, mth(start, start + k), mth(start + k, end));
    }
    memo.set(key, h);
    return h;
  };
  return mth;
}

/**
 * §2.1.1 over 2^53 - 1 copies of one input: MTH of a range then depends only on its
 * length, so trees of any safe size cost O(log² n) hashes. For shape tests at sizes no
 * store can reach (powers of two up to 2^52 and their neighbours); equal leaves make
 * mutation tests meaningless there, so those run on `listTree`.
 */
export function uniformTree(datum: Uint8Array): RangeHash {
  const memo = new Map<number, Uint8Array>();
  const byLength = (n: number): Uint8Array => {
    let h = memo.get(n);
    if (h !== undefined) return h;
    if (n === 0) h = HASH();
    else if (n === 1) h = HASH(LEAF_PREFIX, datum);
    else {
      const k = largestPow2Below(n);
      h = HASH(NODE_PREFIX, byLength(k), byLength(n - k));
    }
    memo.set(n, h);
    return h;
  };
  return (start, end) => byLength(end - start);
}

/** §2.1.3.1 PATH(m, D_n): PATH(0, {d(0)}) = {}; else recurse into the half holding m, then its sibling. */
export function referencePath(mth: RangeHash, m: number, n: number, start = 0): Uint8Array[] {
  if (!(m >= 0 && m < n)) throw new RangeError(`PATH(${m}, D_${n}) needs 0 <= m < n`);
  if (n === 1) return [];
  const k = largestPow2Below(n);
  return m < k
    ? [...referencePath(mth, m, k, start), mth(start + k, start + n)]
    : [...referencePath(mth, m - k, n - k, start + k), mth(start, start + k)];
}

/** §2.1.4.1 SUBPROOF(m, D[start:start+n], b). */
function subproof(mth: RangeHash, m: number, n: number, b: boolean, start: number): Uint8Array[] {
  if (m === n) return b ? [] : [mth(start, start + n)];
  const k = largestPow2Below(n);
  return m <= k
    ? [...subproof(mth, m, k, b, start), mth(start + k, start + n)]
    : [...subproof(mth, m - k, n - k, false, start + k), mth(start, start + k)];
}

/** §2.1.4.1 PROOF(m, D_n) = SUBPROOF(m, D_n, true), defined for 0 < m < n only. */
export function referenceProof(mth: RangeHash, m: number, n: number): Uint8Array[] {
  if (!(m > 0 && m < n)) throw new RangeError(`PROOF(${m}, D_${n}) needs 0 < m < n`);
  return subproof(mth, m, n, true, 0);
}

// The RFC's LSB and right shift, for sizes past JavaScript's 32-bit bit operators.
const LSB = (x: number): boolean => x % 2 === 1;
const shr = (x: number): number => Math.floor(x / 2);
const same = (a: Uint8Array, b: Uint8Array): boolean => hex(a) === hex(b);

/** Notes the step at which a verification stops, and gives its verdict. */
function ends(took: Set<string>, step: string, verdict: boolean): boolean {
  took.add(step);
  return verdict;
}

/** Every step label `rfcVerifyInclusion` can record: a test covering all of them took every branch. */
export const INCLUSION_STEPS = [
  "1: leaf_index >= tree_size",
  "4a: sn = 0",
  "4b: LSB(fn)",
  "4b: fn = sn",
  "4b-ii: shift",
  "4b: otherwise",
  "5: sn != 0",
  "5: r != root_hash",
  "5: proven",
] as const;

/** RFC 9162 §2.1.3.2, one numbered step at a time; `took` gathers the steps this run went through. */
export function rfcVerifyInclusion(
  leafIndex: number,
  treeSize: number,
  hash: Uint8Array,
  inclusionPath: readonly Uint8Array[],
  rootHash: Uint8Array,
  took: Set<string> = new Set(),
): boolean {
  // 1.
  if (leafIndex >= treeSize) return ends(took, "1: leaf_index >= tree_size", false);
  // 2.
  let fn = leafIndex;
  let sn = treeSize - 1;
  // 3.
  let r = hash;
  // 4.
  for (const p of inclusionPath) {
    // a.
    if (sn === 0) return ends(took, "4a: sn = 0", false);
    // b.
    if (LSB(fn) || fn === sn) {
      took.add(LSB(fn) ? "4b: LSB(fn)" : "4b: fn = sn");
      // i.
      r = HASH(NODE_PREFIX, p, r);
      // ii.
      if (!LSB(fn)) {
        took.add("4b-ii: shift");
        while (!LSB(fn) && fn !== 0) {
          fn = shr(fn);
          sn = shr(sn);
        }
      }
    } else {
      took.add("4b: otherwise");
      r = HASH(NODE_PREFIX, r, p);
    }
    // c.
    fn = shr(fn);
    sn = shr(sn);
  }
  // 5.
  if (sn !== 0) return ends(took, "5: sn != 0", false);
  if (!same(r, rootHash)) return ends(took, "5: r != root_hash", false);
  return ends(took, "5: proven", true);
}

/** Every step label `rfcVerifyConsistency` can record. */
export const CONSISTENCY_STEPS = [
  "1: empty consistency_path",
  "2: first is a power of 2",
  "2: first is not a power of 2",
  "4: LSB(fn) set, shift",
  "4: LSB(fn) not set",
  "6a: sn = 0",
  "6b: LSB(fn)",
  "6b: fn = sn",
  "6b-ii: shift",
  "6b: otherwise",
  "7: fr != first_hash",
  "7: sr != second_hash",
  "7: sn != 0",
  "7: proven",
] as const;

/** RFC 9162 §2.1.4.2, one numbered step at a time, for its domain 0 < first < second only. */
export function rfcVerifyConsistency(
  first: number,
  second: number,
  firstHash: Uint8Array,
  secondHash: Uint8Array,
  consistencyPath: readonly Uint8Array[],
  took: Set<string> = new Set(),
): boolean {
  if (!(0 < first && first < second))
    throw new RangeError(`§2.1.4.2 needs 0 < first < second, got ${first}, ${second}`);
  // 1.
  if (consistencyPath.length === 0) return ends(took, "1: empty consistency_path", false);
  // 2.
  let path = [...consistencyPath];
  if (isPow2(first)) {
    took.add("2: first is a power of 2");
    path = [firstHash, ...path];
  } else took.add("2: first is not a power of 2");
  // 3.
  let fn = first - 1;
  let sn = second - 1;
  // 4.
  took.add(LSB(fn) ? "4: LSB(fn) set, shift" : "4: LSB(fn) not set");
  while (LSB(fn)) {
    fn = shr(fn);
    sn = shr(sn);
  }
  // 5.
  let fr = path[0]!;
  let sr = path[0]!;
  // 6.
  for (const c of path.slice(1)) {
    // a.
    if (sn === 0) return ends(took, "6a: sn = 0", false);
    // b.
    if (LSB(fn) || fn === sn) {
      took.add(LSB(fn) ? "6b: LSB(fn)" : "6b: fn = sn");
      // i.
      fr = HASH(NODE_PREFIX, c, fr);
      sr = HASH(NODE_PREFIX, c, sr);
      // ii.
      if (!LSB(fn)) {
        took.add("6b-ii: shift");
        while (!LSB(fn) && fn !== 0) {
          fn = shr(fn);
          sn = shr(sn);
        }
      }
    } else {
      took.add("6b: otherwise");
      // i.
      sr = HASH(NODE_PREFIX, sr, c);
    }
    // c.
    fn = shr(fn);
    sn = shr(sn);
  }
  // 7.
  if (!same(fr, firstHash)) return ends(took, "7: fr != first_hash", false);
  if (!same(sr, secondHash)) return ends(took, "7: sr != second_hash", false);
  if (sn !== 0) return ends(took, "7: sn != 0", false);
  return ends(took, "7: proven", true);
}

/**
 * The consistency proof a store should serve for (m, n): PROOF(m, D_n) for 0 < m < n, and
 * the empty list for m = n (SUBPROOF(m, D[m], true) = {}) and for m = 0 (no RFC proof:
 * the kernel's verifier accepts only the empty one there).
 */
export const expectedConsistency = (mth: RangeHash, m: number, n: number): Uint8Array[] =>
  m > 0 && m < n ? referenceProof(mth, m, n) : [];

/** What a store serves, sync or async, in the shape `expectStoreMatchesReference` asks for. */
export interface ProofSource {
  root(size: number): Uint8Array | Promise<Uint8Array>;
  inclusion(index: number, size: number): Uint8Array[] | Promise<Uint8Array[]>;
  consistency(oldSize: number, newSize: number): Uint8Array[] | Promise<Uint8Array[]>;
}

/**
 * For every n in `sizes` (each at most entryHashes.length): the store's root is MTH(D_n),
 * and for every i < n and every m <= n its inclusion and consistency proofs are the
 * reference ones byte for byte, and the kernel's verifier accepts them. The leaf inputs
 * D are the entry hashes, as in the journal. Returns how many proofs it compared.
 */
export async function expectStoreMatchesReference(
  store: ProofSource,
  entryHashes: readonly Uint8Array[],
  sizes: Iterable<number>,
  where: string,
): Promise<number> {
  const mth = listTree(entryHashes);
  let compared = 0;
  for (const n of sizes) {
    const root = await store.root(n);
    expect(hex(root), `${where}: root of ${n}`).toBe(hex(mth(0, n)));
    for (let i = 0; i < n; i++) {
      const proof = await store.inclusion(i, n);
      expect(proof.map(hex), `${where}: inclusion of ${i} in ${n}`).toEqual(referencePath(mth, i, n).map(hex));
      expect(verifyInclusion(mth(i, i + 1), i, n, proof, root), `${where}: verify inclusion ${i} in ${n}`).toBe(true);
      compared++;
    }
    for (let m = 0; m <= n; m++) {
      const proof = await store.consistency(m, n);
      expect(proof.map(hex), `${where}: consistency ${m} → ${n}`).toEqual(expectedConsistency(mth, m, n).map(hex));
      expect(verifyConsistency(m, n, mth(0, m), root, proof), `${where}: verify consistency ${m} → ${n}`).toBe(true);
      compared++;
    }
  }
  return compared;
}
