/**
 * @module RFC 6962 / 9162 Merkle trees: the Certificate Transparency reference vectors,
 * then property tests over every tree size up to 1,000: the incremental tree's roots equal
 * the RFC recursion, and inclusion and consistency proofs verify — and fail for a wrong
 * leaf, index, size or root.
 */
import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EMPTY_ROOT,
  leafHash,
  rootFromInclusionProof,
  rootOfLeafHashes,
  verifyConsistency,
  verifyEntryInclusion,
  verifyInclusion,
} from "../../kernel/crypto/merkle-verify.js";
import {
  consistencyPath,
  inclusionPath,
  MerkleFrontier,
  rootAt,
  type NodeReader,
} from "../../kernel/journal/merkle.js";

interface Vectors {
  leaves_hex: string[];
  roots_hex: string[];
  inclusion: { index: number; size: number; path_hex: string[] }[];
  consistency: { old: number; new: number; proof_hex: string[] }[];
}
const V = JSON.parse(readFileSync(new URL("../vectors/merkle-ct.json", import.meta.url), "utf8")) as Vectors;
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const unhex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));

/** An in-memory tree built by the same incremental code the store uses; perfect nodes kept in a map. */
function buildTree(leafHashes: readonly Uint8Array[]): { read: NodeReader; roots: Uint8Array[] } {
  const nodes = new Map<string, Uint8Array>();
  const f = new MerkleFrontier();
  const roots: Uint8Array[] = [f.root()];
  for (const l of leafHashes) {
    f.append(l, (level, index, h) => nodes.set(`${level}/${index}`, h));
    roots.push(f.root());
  }
  const read: NodeReader = (level, index) => (level === 0 ? leafHashes[index]! : nodes.get(`${level}/${index}`)!);
  return { read, roots };
}

describe("RFC 6962 reference vectors (Certificate Transparency)", () => {
  const leaves = V.leaves_hex.map((h) => leafHash(unhex(h)));
  const { read, roots } = buildTree(leaves);

  it("roots of the first n leaves, n = 0..8", () => {
    expect(hex(EMPTY_ROOT)).toBe(V.roots_hex[0]);
    for (let n = 0; n <= 8; n++) {
      expect(hex(roots[n]!)).toBe(V.roots_hex[n]);
      expect(hex(rootAt(read, n))).toBe(V.roots_hex[n]);
      expect(hex(rootOfLeafHashes(leaves.slice(0, n)))).toBe(V.roots_hex[n]);
    }
  });

  it("audit paths", () => {
    for (const c of V.inclusion) {
      const path = inclusionPath(read, c.index, c.size);
      expect(path.map(hex)).toEqual(c.path_hex);
      expect(verifyInclusion(leaves[c.index]!, c.index, c.size, path, unhex(V.roots_hex[c.size]!))).toBe(true);
    }
  });

  it("consistency proofs", () => {
    for (const c of V.consistency) {
      const proof = consistencyPath(read, c.old, c.new);
      expect(proof.map(hex)).toEqual(c.proof_hex);
      expect(verifyConsistency(c.old, c.new, unhex(V.roots_hex[c.old]!), unhex(V.roots_hex[c.new]!), proof)).toBe(true);
    }
  });
});

describe("proofs for every tree size up to 1,000", () => {
  const N = 1000;
  const leaves = Array.from({ length: N }, (_, i) => leafHash(Uint8Array.of(i >> 8, i & 255, 7)));
  const { read, roots } = buildTree(leaves);
  const flip = (b: Uint8Array) => {
    const c = Uint8Array.from(b);
    c[0]! ^= 1;
    return c;
  };

  it("the incremental root equals the RFC recursion at every size", () => {
    for (let n = 0; n <= N; n += n < 130 ? 1 : 7)
      expect(hex(roots[n]!)).toBe(hex(rootOfLeafHashes(leaves.slice(0, n))));
    for (let n = 0; n <= N; n++) expect(hex(rootAt(read, n))).toBe(hex(roots[n]!));
  });

  it("inclusion proofs verify at every size, and fail for a wrong leaf, index, size or root", () => {
    for (let size = 1; size <= N; size++) {
      const root = roots[size]!;
      const picks = new Set([0, size - 1, (size * 31) % size, Math.floor(size / 2)]);
      for (const i of picks) {
        const proof = inclusionPath(read, i, size);
        expect(verifyInclusion(leaves[i]!, i, size, proof, root)).toBe(true);
        expect(verifyInclusion(flip(leaves[i]!), i, size, proof, root)).toBe(false);
        if (size > 1) expect(verifyInclusion(leaves[i]!, (i + 1) % size, size, proof, root)).toBe(false);
        if (size < N) expect(verifyInclusion(leaves[i]!, i, size + 1, proof, roots[size + 1]!)).toBe(false);
        if (size > 1 && i < size - 1)
          expect(verifyInclusion(leaves[i]!, i, size - 1, proof, roots[size - 1]!)).toBe(false);
        expect(verifyInclusion(leaves[i]!, i, size, proof, flip(root))).toBe(false);
        if (proof.length > 0) expect(verifyInclusion(leaves[i]!, i, size, proof.slice(1), root)).toBe(false);
      }
      expect(verifyInclusion(leaves[0]!, size, size, [], root)).toBe(false);
    }
  });

  it("consistency proofs verify for every new size (old sizes sampled), and fail when tampered", () => {
    for (let n = 1; n <= N; n++) {
      const olds = new Set([1, n, n - 1 || 1, Math.ceil(n / 2), (n * 13) % n || 1]);
      for (const m of olds) {
        const proof = consistencyPath(read, m, n);
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, proof)).toBe(true);
        if (m < n) {
          expect(verifyConsistency(m, n, flip(roots[m]!), roots[n]!, proof)).toBe(false);
          expect(verifyConsistency(m, n, roots[m]!, flip(roots[n]!), proof)).toBe(false);
          if (n < N) expect(verifyConsistency(m, n + 1, roots[m]!, roots[n + 1]!, proof)).toBe(false);
          if (m > 1) expect(verifyConsistency(m - 1, n, roots[m - 1]!, roots[n]!, proof)).toBe(false);
          expect(
            verifyConsistency(
              m,
              n,
              roots[m]!,
              roots[n]!,
              proof.map((p, i) => (i === proof.length - 1 ? flip(p) : p)),
            ),
          ).toBe(false);
        }
      }
    }
  });

  it("every (old, new) pair up to 64 leaves", () => {
    for (let n = 1; n <= 64; n++) {
      for (let m = 0; m <= n; m++)
        expect(verifyConsistency(m, n, roots[m]!, roots[n]!, consistencyPath(read, m, n))).toBe(true);
      for (let i = 0; i < n; i++)
        expect(verifyInclusion(leaves[i]!, i, n, inclusionPath(read, i, n), roots[n]!)).toBe(true);
    }
  });

  it("property: a random proof for a random pair verifies, a one-bit flip anywhere breaks it", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: N }), fc.nat(), fc.nat(), (n, a, b) => {
        const i = a % n;
        const proof = inclusionPath(read, i, n);
        if (!verifyInclusion(leaves[i]!, i, n, proof, roots[n]!)) return false;
        if (proof.length === 0) return true;
        const j = b % proof.length;
        const bad = proof.map((p, k) => (k === j ? flip(p) : p));
        return !verifyInclusion(leaves[i]!, i, n, bad, roots[n]!);
      }),
      { numRuns: 300 },
    );
  });
});

describe("input validation: hash sizes, sizes and the empty tree", () => {
  const N = 16;
  const leaves = Array.from({ length: N }, (_, i) => leafHash(Uint8Array.of(i, 9)));
  const { read, roots } = buildTree(leaves);
  const sha256Empty = unhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  const short = (b: Uint8Array) => b.slice(0, 31);
  const long = (b: Uint8Array) => Uint8Array.from([...b, 0]);
  const anyBytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);

  it("the empty tree's root is sha256 of the empty string (RFC 6962 MTH({}) = SHA-256())", () => {
    expect(hex(EMPTY_ROOT)).toBe(hex(sha256Empty));
    expect(hex(rootOfLeafHashes([]))).toBe(hex(sha256Empty));
    expect(hex(roots[0]!)).toBe(hex(sha256Empty));
  });

  it("0 → 0 holds only for the empty-tree root, not for any two equal byte strings", () => {
    expect(verifyConsistency(0, 0, sha256Empty, sha256Empty, [])).toBe(true);
    expect(verifyConsistency(0, 0, anyBytes(32, 7), anyBytes(32, 7), [])).toBe(false);
    expect(verifyConsistency(0, 0, new Uint8Array(0), new Uint8Array(0), [])).toBe(false);
    expect(verifyConsistency(0, 0, Uint8Array.of(1), Uint8Array.of(1), [])).toBe(false);
    expect(verifyConsistency(0, 0, roots[3]!, roots[3]!, [])).toBe(false);
    expect(verifyConsistency(0, 0, sha256Empty, roots[1]!, [])).toBe(false);
    expect(verifyConsistency(0, 0, sha256Empty, sha256Empty, [sha256Empty])).toBe(false);
  });

  it("from size 0: only the empty proof, with the empty-tree first root and a 32-byte second root", () => {
    for (let n = 1; n <= N; n++) expect(verifyConsistency(0, n, sha256Empty, roots[n]!, [])).toBe(true);
    expect(verifyConsistency(0, 5, sha256Empty, roots[5]!, [roots[5]!])).toBe(false);
    expect(verifyConsistency(0, 5, sha256Empty, roots[5]!, consistencyPath(read, 1, 5))).toBe(false);
    expect(verifyConsistency(0, 5, roots[1]!, roots[5]!, [])).toBe(false);
    expect(verifyConsistency(0, 5, short(sha256Empty), roots[5]!, [])).toBe(false);
    expect(verifyConsistency(0, 5, long(sha256Empty), roots[5]!, [])).toBe(false);
    // The second root is not provable from the empty tree, but it must at least be a hash.
    expect(verifyConsistency(0, 5, sha256Empty, new Uint8Array(0), [])).toBe(false);
    expect(verifyConsistency(0, 5, sha256Empty, Uint8Array.of(1, 2, 3), [])).toBe(false);
    expect(verifyConsistency(0, 5, sha256Empty, long(roots[5]!), [])).toBe(false);
  });

  it("n → n needs an empty proof and equal 32-byte roots", () => {
    expect(verifyConsistency(5, 5, roots[5]!, roots[5]!, [])).toBe(true);
    expect(verifyConsistency(5, 5, anyBytes(31, 1), anyBytes(31, 1), [])).toBe(false);
    expect(verifyConsistency(5, 5, anyBytes(33, 1), anyBytes(33, 1), [])).toBe(false);
    expect(verifyConsistency(5, 5, new Uint8Array(0), new Uint8Array(0), [])).toBe(false);
  });

  it("consistency: wrong-sized roots or proof elements are rejected", () => {
    const m = 3;
    const n = 11;
    const proof = consistencyPath(read, m, n);
    expect(verifyConsistency(m, n, roots[m]!, roots[n]!, proof)).toBe(true);
    expect(verifyConsistency(m, n, long(roots[m]!), roots[n]!, proof)).toBe(false);
    expect(verifyConsistency(m, n, roots[m]!, long(roots[n]!), proof)).toBe(false);
    for (let i = 0; i < proof.length; i++) {
      expect(
        verifyConsistency(
          m,
          n,
          roots[m]!,
          roots[n]!,
          proof.map((p, k) => (k === i ? short(p) : p)),
        ),
      ).toBe(false);
      expect(
        verifyConsistency(
          m,
          n,
          roots[m]!,
          roots[n]!,
          proof.map((p, k) => (k === i ? long(p) : p)),
        ),
      ).toBe(false);
    }
    // A 64-byte "element" that is two real siblings concatenated is not a proof element.
    const joined = Uint8Array.from([...proof[0]!, ...proof[1]!]);
    expect(verifyConsistency(m, n, roots[m]!, roots[n]!, [joined, ...proof.slice(2)])).toBe(false);
  });

  it("inclusion: the leaf hash, the root and every proof element must be 32 bytes", () => {
    const i = 5;
    const size = 13;
    const proof = inclusionPath(read, i, size);
    expect(verifyInclusion(leaves[i]!, i, size, proof, roots[size]!)).toBe(true);
    expect(verifyInclusion(long(leaves[i]!), i, size, proof, roots[size]!)).toBe(false);
    expect(verifyInclusion(short(leaves[i]!), i, size, proof, roots[size]!)).toBe(false);
    expect(verifyInclusion(leaves[i]!, i, size, proof, long(roots[size]!))).toBe(false);
    expect(verifyInclusion(leaves[i]!, i, size, proof, short(roots[size]!))).toBe(false);
    for (let k = 0; k < proof.length; k++) {
      expect(
        verifyInclusion(
          leaves[i]!,
          i,
          size,
          proof.map((p, j) => (j === k ? short(p) : p)),
          roots[size]!,
        ),
      ).toBe(false);
      expect(
        verifyInclusion(
          leaves[i]!,
          i,
          size,
          proof.map((p, j) => (j === k ? long(p) : p)),
          roots[size]!,
        ),
      ).toBe(false);
    }
    // Size-1 tree: the root is the leaf hash itself; a non-32-byte "leaf" equal to the "root" is not a proof.
    expect(verifyInclusion(leaves[0]!, 0, 1, [], roots[1]!)).toBe(true);
    expect(verifyInclusion(Uint8Array.of(1, 2), 0, 1, [], Uint8Array.of(1, 2))).toBe(false);
    expect(verifyInclusion(new Uint8Array(0), 0, 1, [], new Uint8Array(0))).toBe(false);
    expect(rootFromInclusionProof(Uint8Array.of(1, 2), 0, 1, [])).toBeNull();
    expect(rootFromInclusionProof(leaves[i]!, i, size, [new Uint8Array(64), ...proof.slice(1)])).toBeNull();
  });

  it("verifyEntryInclusion needs a 32-byte entry hash", () => {
    const entries = Array.from({ length: 4 }, (_, k) => new Uint8Array(32).fill(k + 1));
    const t = buildTree(entries.map(leafHash));
    const proof = inclusionPath(t.read, 2, 4);
    expect(verifyEntryInclusion(entries[2]!, 2, 4, proof, t.roots[4]!)).toBe(true);
    // A 1-byte "entry hash" whose leaf happens to be in a tree is still not an entry hash.
    const tiny = Uint8Array.of(9);
    const t2 = buildTree([leafHash(tiny)]);
    expect(verifyEntryInclusion(tiny, 0, 1, [], t2.roots[1]!)).toBe(false);
  });

  it("sizes and indexes must be safe non-negative integers", () => {
    const proof = consistencyPath(read, 3, 8);
    for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, -0.5]) {
      expect(verifyConsistency(bad, 8, roots[3]!, roots[8]!, proof)).toBe(false);
      expect(verifyConsistency(3, bad, roots[3]!, roots[8]!, proof)).toBe(false);
      expect(verifyInclusion(leaves[0]!, bad, 8, inclusionPath(read, 0, 8), roots[8]!)).toBe(false);
      expect(verifyInclusion(leaves[0]!, 0, bad, inclusionPath(read, 0, 8), roots[8]!)).toBe(false);
    }
    expect(verifyConsistency(8, 3, roots[8]!, roots[3]!, proof)).toBe(false);
  });
});
