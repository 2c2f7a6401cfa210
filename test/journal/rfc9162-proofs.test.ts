/**
 * @module RFC 9162 inclusion (§2.1.3) and consistency (§2.1.4) proofs, held to the RFC's
 * text through an independent reference (rfc9162-reference.ts): the reference itself against
 * the Certificate Transparency vectors; then for every (index, size) and every 0 < m < n up
 * to 70 leaves, the kernel's verifier accepts the reference proof, refuses every single
 * corruption of it (a flipped byte in any element, an element dropped or added, a wrong
 * index, m or n, a wrong or swapped root), and agrees with a step-by-step transcription of
 * §2.1.3.2 / §2.1.4.2 on every one of those inputs, which between them take every step of
 * both algorithms; the cases outside the RFC's domain (m = n, m = 0); sizes up to 2^53 - 1;
 * malformed arguments; and a real SQLite store's roots and proofs, byte for byte.
 *
 * Random bytes and picks come from one seed (WK_TEST_SEED to reproduce), printed on failure.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import {
  EMPTY_ROOT,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from "../../kernel/crypto/merkle-verify.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { below, bytesFrom, mulberry32, reproduce, testSeed } from "../seeded.js";
import { codeOf, eventBody, genesisBody, tempDir } from "./helpers.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import {
  CONSISTENCY_STEPS,
  expectStoreMatchesReference,
  HASH,
  hex,
  INCLUSION_STEPS,
  largestPow2Below,
  listTree,
  referencePath,
  referenceProof,
  rfcVerifyConsistency,
  rfcVerifyInclusion,
  uniformTree,
  type RangeHash,
} from "./rfc9162-reference.js";

const FILE = "test/journal/rfc9162-proofs.test.ts";
const SEED = testSeed();
const random = mulberry32(SEED);
const SEEDED = `seed ${SEED} (${reproduce(SEED, FILE)})`;
beforeEach(({ onTestFailed }) => {
  onTestFailed(() => console.error(`${FILE} ran with ${SEEDED}`));
});

/** Leaf inputs are distinct 32-byte strings (like entry hashes), so distinct subtrees have distinct hashes. */
const N = 70;
const DATA = Array.from({ length: N + 2 }, (_, i) => HASH(Uint8Array.of(0x5a, i)));
const mth = listTree(DATA);
const root = (n: number) => mth(0, n);
const leaf = (i: number) => mth(i, i + 1);

/** Every power of two up to `max`, with its neighbours. */
function powerNeighbours(max: number): number[] {
  const out = new Set<number>();
  for (let p = 1; p <= max; p *= 2) for (const d of [-1, 0, 1]) if (p + d >= 0 && p + d <= max) out.add(p + d);
  return [...out].sort((a, b) => a - b);
}

/**
 * Stand-ins for a correct size or index `x` in [lo, hi]: its neighbours, the power of two
 * past it, and a random pick. Trying every value took minutes and reached no step of the
 * algorithms that these picks miss.
 */
function others(x: number, lo: number, hi: number): number[] {
  const picks = [x - 1, x + 1, 2 * largestPow2Below(Math.max(x, 2)), lo + below(random, hi - lo + 1)];
  return [...new Set(picks)].filter((v) => v !== x && v >= lo && v <= hi);
}

const flip = (b: Uint8Array, at: number, mask: number): Uint8Array => {
  const c = Uint8Array.from(b);
  c[at]! ^= mask;
  return c;
};

/**
 * Every single corruption of a proof: in each element a flipped byte (at a random place,
 * with a random nonzero mask: SHA-256 makes one place as good as another), each element
 * dropped, a random hash added at each position, and each of `extras` (hashes the verifier
 * already holds) added at the front and at the back.
 */
function mutations(proof: readonly Uint8Array[], extras: readonly Uint8Array[]): [string, Uint8Array[]][] {
  const out: [string, Uint8Array[]][] = [];
  const mask = () => 1 + below(random, 255);
  proof.forEach((_, i) => {
    const at = below(random, 32);
    out.push([`byte ${at} of element ${i} flipped`, proof.map((p, j) => (j === i ? flip(p, at, mask()) : p))]);
    out.push([`element ${i} dropped`, proof.filter((_, j) => j !== i)]);
  });
  for (let i = 0; i <= proof.length; i++)
    out.push([`random hash added at ${i}`, [...proof.slice(0, i), bytesFrom(random, 32), ...proof.slice(i)]]);
  extras.forEach((x, k) => {
    out.push([`extra ${k} added at the front`, [x, ...proof]]);
    out.push([`extra ${k} added at the back`, [...proof, x]]);
  });
  return out;
}

describe("the reference is RFC 9162 (Certificate Transparency vectors)", () => {
  interface Vectors {
    leaves_hex: string[];
    roots_hex: string[];
    inclusion: { index: number; size: number; path_hex: string[] }[];
    consistency: { old: number; new: number; proof_hex: string[] }[];
  }
  const V = JSON.parse(readFileSync(new URL("../vectors/merkle-ct.json", import.meta.url), "utf8")) as Vectors;
  const unhex = (h: string) => Uint8Array.from(Buffer.from(h, "hex"));
  const t = listTree(V.leaves_hex.map(unhex));

  it("MTH, PATH and PROOF give the vectors' roots, audit paths and consistency proofs", () => {
    for (let n = 0; n < V.roots_hex.length; n++) expect(hex(t(0, n))).toBe(V.roots_hex[n]);
    for (const c of V.inclusion) {
      expect(referencePath(t, c.index, c.size).map(hex)).toEqual(c.path_hex);
      const ok = rfcVerifyInclusion(c.index, c.size, t(c.index, c.index + 1), c.path_hex.map(unhex), t(0, c.size));
      expect(ok).toBe(true);
    }
    for (const c of V.consistency) {
      if (c.old === c.new) {
        expect(c.proof_hex).toEqual([]); // outside PROOF's domain; the vector agrees with SUBPROOF(m, D[m], true) = {}
        continue;
      }
      expect(referenceProof(t, c.old, c.new).map(hex)).toEqual(c.proof_hex);
      expect(rfcVerifyConsistency(c.old, c.new, t(0, c.old), t(0, c.new), c.proof_hex.map(unhex))).toBe(true);
    }
  });
});

/**
 * Runs the kernel's verifier and the RFC transcription on many inputs and keeps what went
 * wrong: one `expect` per input would cost more than the hashing. `want` is the verdict the
 * input must get, or "agree" where only the two verifiers' agreement is asserted.
 */
class Tally {
  readonly took = new Set<string>();
  readonly wrong: string[] = [];
  checked = 0;
  accepted = 0;
  record(what: string, ours: boolean, rfc: boolean | null, want: boolean | "agree"): void {
    this.checked++;
    if (ours) this.accepted++;
    const bad = want === "agree" ? rfc !== null && ours !== rfc : ours !== want || (rfc !== null && rfc !== want);
    if (bad && this.wrong.length < 20) this.wrong.push(`${what}: kernel ${ours}, RFC steps ${rfc}, want ${want}`);
  }
  /** Nothing went wrong, at least `min` inputs were checked, and every step of the algorithm ran. */
  expectClean(min: number, steps: readonly string[]): void {
    expect(this.wrong, SEEDED).toEqual([]);
    expect(this.checked).toBeGreaterThan(min);
    expect(steps.filter((s) => !this.took.has(s))).toEqual([]);
  }
}

describe("inclusion (§2.1.3.2) for every (index, size) up to 70", () => {
  it("accepts every reference path, refuses every corruption, and agrees with the RFC's steps on all of them", () => {
    const t = new Tally();
    const check = (
      i: number,
      n: number,
      l: Uint8Array,
      p: Uint8Array[],
      r: Uint8Array,
      want: boolean | "agree",
      what: string,
    ) =>
      t.record(
        `${what}: index ${i}, size ${n}`,
        verifyInclusion(l, i, n, p, r),
        rfcVerifyInclusion(i, n, l, p, r, t.took),
        want,
      );
    for (let n = 1; n <= N; n++) {
      for (let i = 0; i < n; i++) {
        const path = referencePath(mth, i, n);
        check(i, n, leaf(i), path, root(n), true, "reference path");
        expect(hex(rootFromInclusionProof(leaf(i), i, n, path)!)).toBe(hex(root(n)));
        for (const [what, bad] of mutations(path, [leaf(i), root(n)])) check(i, n, leaf(i), bad, root(n), false, what);
        for (const j of others(i, 0, n + 1)) {
          check(j, n, leaf(i), path, root(n), false, `index ${j} instead`);
          if (j < n) check(j, n, leaf(j), path, root(n), false, `index ${j} with its own leaf`);
        }
        for (const s of others(n, 1, N + 2)) {
          check(i, s, leaf(i), path, root(s), false, `size ${s} instead, with its root`);
          // The path fixes only the left/right pattern and the length, which some sizes share.
          check(i, s, leaf(i), path, root(n), "agree", `size ${s} instead, same root`);
        }
        check(i, n, leaf((i + 1) % (N + 2)), path, root(n), false, "another leaf");
        check(i, n, flip(leaf(i), below(random, 32), 1 + below(random, 255)), path, root(n), false, "flipped leaf");
        check(i, n, leaf(i), path, flip(root(n), below(random, 32), 1 + below(random, 255)), false, "flipped root");
        // In a one-leaf tree the root is the leaf, so swapping them changes nothing.
        if (n > 1) check(i, n, root(n), path, leaf(i), false, "leaf and root swapped");
      }
    }
    // Size 0 has no leaves: step 1 refuses every index.
    check(0, 0, leaf(0), [], EMPTY_ROOT, false, "the empty tree");
    t.expectClean(50_000, INCLUSION_STEPS);
  });
});

describe("consistency (§2.1.4.2) for every 0 < m < n <= 70", () => {
  it("accepts every reference proof, refuses every corruption, and agrees with the RFC's steps on all of them", () => {
    const t = new Tally();
    const check = (
      m: number,
      n: number,
      a: Uint8Array,
      b: Uint8Array,
      p: Uint8Array[],
      want: boolean | "agree",
      what: string,
    ) =>
      t.record(
        `${what}: ${m} → ${n}`,
        verifyConsistency(m, n, a, b, p),
        // The RFC's steps are defined for 0 < first < second; elsewhere only the kernel's rule applies.
        0 < m && m < n ? rfcVerifyConsistency(m, n, a, b, p, t.took) : null,
        want,
      );
    for (let n = 2; n <= N; n++) {
      for (let m = 1; m < n; m++) {
        const proof = referenceProof(mth, m, n);
        check(m, n, root(m), root(n), proof, true, "reference proof");
        // Adding root(m) at the front is the proof with step 2's prepend already done.
        for (const [what, bad] of mutations(proof, [root(m), root(n)])) check(m, n, root(m), root(n), bad, false, what);
        for (const k of others(m, 0, n)) {
          check(k, n, root(k), root(n), proof, false, `m = ${k} instead, with its root`);
          // Outside 0 < m < n the kernel's rule refuses any non-empty proof; inside, some sizes share a shape.
          check(k, n, root(m), root(n), proof, k === 0 || k === n ? false : "agree", `m = ${k} instead, same roots`);
        }
        for (const k of others(n, m, N + 2)) {
          check(m, k, root(m), root(k), proof, false, `n = ${k} instead, with its root`);
          check(m, k, root(m), root(n), proof, k === m ? false : "agree", `n = ${k} instead, same roots`);
        }
        check(m, n, root(n), root(m), proof, false, "roots swapped");
        check(n, m, root(n), root(m), proof, false, "sizes and roots swapped");
        check(m, n, flip(root(m), below(random, 32), 1 + below(random, 255)), root(n), proof, false, "flipped first");
        check(m, n, root(m), flip(root(n), below(random, 32), 1 + below(random, 255)), proof, false, "flipped second");
      }
    }
    t.expectClean(50_000, CONSISTENCY_STEPS);
  });

  it("a proof binds the sizes only through its shape: with the same roots, 1 → 3's proof also passes as 1 → 4", () => {
    // PROOF(1, D_3) = [leaf 1, leaf 2] computes MTH(D[0:3]) whether sn starts at 2 or 3, since
    // the verifier cannot tell a leaf hash from MTH(D[2:4]). Any RFC 9162 verifier accepts
    // this, so a caller must take each (size, root) pair together from one signed tree head.
    const proof = referenceProof(mth, 1, 3);
    expect(verifyConsistency(1, 4, root(1), root(3), proof)).toBe(true);
    expect(rfcVerifyConsistency(1, 4, root(1), root(3), proof)).toBe(true);
    expect(verifyConsistency(1, 4, root(1), root(4), proof)).toBe(false);
  });

  it("step 2 at work: a power-of-two first tree's proof leaves out first_hash, and is refused with it put back", () => {
    for (const m of [1, 2, 4, 8, 16, 32, 64]) {
      for (const n of [m + 1, 2 * m, 2 * m + 1, N]) {
        if (n <= m || n > N) continue;
        const proof = referenceProof(mth, m, n);
        expect(proof.map(hex)).not.toContain(hex(root(m)));
        expect(verifyConsistency(m, n, root(m), root(n), proof)).toBe(true);
        expect(verifyConsistency(m, n, root(m), root(n), [root(m), ...proof])).toBe(false);
      }
    }
    // A power of two into the next one: the proof is the new right half alone.
    expect(referenceProof(mth, 32, 64).map(hex)).toEqual([hex(mth(32, 64))]);
  });
});

describe("outside the RFC's domain (it verifies only 0 < first < second)", () => {
  it("m = n: only the empty proof, only with equal roots (SUBPROOF(m, D[m], true) = {})", () => {
    for (let n = 1; n <= N; n++) {
      expect(verifyConsistency(n, n, root(n), root(n), [])).toBe(true);
      expect(verifyConsistency(n, n, root(n), root(n - 1), [])).toBe(false);
      expect(verifyConsistency(n, n, root(n), flip(root(n), 0, 1), [])).toBe(false);
      expect(verifyConsistency(n, n, root(n), root(n), [root(n)])).toBe(false);
      expect(verifyConsistency(n, n, root(n), root(n), [leaf(n - 1)])).toBe(false);
      for (let m = 1; m < n; m++)
        expect(verifyConsistency(n, n, root(n), root(n), referenceProof(mth, m, n))).toBe(false);
    }
    // §2.1.4.2's steps, run for 5 → 5, would accept [d(4) leaf, MTH(D[0:4])] (fr = sr = MTH(D[0:5]),
    // sn = 0): a second proof of a tree against itself, refused so that the empty one is the only one.
    expect(hex(HASH(Uint8Array.of(1), mth(0, 4), leaf(4)))).toBe(hex(root(5)));
    expect(verifyConsistency(5, 5, root(5), root(5), [leaf(4), mth(0, 4)])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(true);
    expect(verifyConsistency(0, 0, root(1), root(1), [])).toBe(false);
  });

  it("m = 0: RFC 9162 defines no proof; only the empty one, from the empty-tree root, to any 32-byte root", () => {
    for (let n = 1; n <= N; n++) {
      expect(verifyConsistency(0, n, EMPTY_ROOT, root(n), [])).toBe(true);
      expect(verifyConsistency(0, n, root(1), root(n), [])).toBe(false);
      expect(verifyConsistency(0, n, new Uint8Array(32), root(n), [])).toBe(false);
      expect(verifyConsistency(0, n, EMPTY_ROOT, root(n), [root(n)])).toBe(false);
      expect(verifyConsistency(0, n, EMPTY_ROOT, root(n), [EMPTY_ROOT])).toBe(false);
      if (n > 1) expect(verifyConsistency(0, n, EMPTY_ROOT, root(n), referenceProof(mth, 1, n))).toBe(false);
    }
  });
});

describe("sizes up to 2^53 - 1 (one repeated leaf, so trees of any size cost O(log² n) hashes)", () => {
  const big = uniformTree(HASH(Uint8Array.of(0xb1)));
  // Powers of two to 2^12 and around the 32-bit boundary, where `>>` and `&` would break, then
  // on to the largest safe size.
  const exponents = [...Array.from({ length: 13 }, (_, e) => e), 20, 31, 32, 33, 40, 52];
  const sizes = [
    ...new Set([
      ...exponents.flatMap((e) => [2 ** e - 1, 2 ** e, 2 ** e + 1]),
      3 * 2 ** 40 + 5,
      2 ** 53 - 2,
      2 ** 53 - 1,
    ]),
  ].filter((s) => s > 0);

  it("every pair of powers of two and their neighbours: the reference proof verifies, and the RFC's steps agree on its corruptions", () => {
    const at = (t: RangeHash, n: number) => t(0, n);
    let pairs = 0;
    for (const n of sizes) {
      for (const m of sizes) {
        if (m >= n) continue;
        const proof = referenceProof(big, m, n);
        expect(verifyConsistency(m, n, at(big, m), at(big, n), proof), `${m} → ${n}`).toBe(true);
        expect(rfcVerifyConsistency(m, n, at(big, m), at(big, n), proof), `${m} → ${n} by the RFC`).toBe(true);
        pairs++;
        // Equal leaves can make a corrupted proof valid for another shape, so only agreement
        // is asserted; on one pair in 50, as each proof has up to 2·53 elements to corrupt.
        if (pairs % 50 !== 0) continue;
        for (const [what, bad] of mutations(proof, [at(big, m)]))
          expect(verifyConsistency(m, n, at(big, m), at(big, n), bad), `${what}: ${m} → ${n}; ${SEEDED}`).toBe(
            rfcVerifyConsistency(m, n, at(big, m), at(big, n), bad),
          );
      }
      for (const i of new Set([0, 1, Math.floor(n / 2), n - 2, n - 1].filter((x) => x >= 0 && x < n))) {
        const path = referencePath(big, i, n);
        expect(verifyInclusion(big(i, i + 1), i, n, path, at(big, n)), `inclusion ${i} in ${n}`).toBe(true);
      }
    }
    expect(pairs).toBeGreaterThan(1_000);
  });
});

describe("malformed arguments are refused with false, never a throw", () => {
  const m = 3;
  const n = 11;
  const proof = referenceProof(mth, m, n);
  const path = referencePath(mth, 5, n);

  it("sparse arrays, non-arrays and getters that change their answer", () => {
    const holes = (p: readonly Uint8Array[], at: number) => {
      const s: Uint8Array[] = new Array<Uint8Array>(p.length);
      p.forEach((h, i) => {
        if (i !== at) s[i] = h;
      });
      return s;
    };
    for (let at = 0; at < proof.length; at++)
      expect(() => verifyConsistency(m, n, root(m), root(n), holes(proof, at))).not.toThrow();
    for (let at = 0; at < path.length; at++) {
      expect(verifyInclusion(leaf(5), 5, n, holes(path, at), root(n))).toBe(false);
      expect(rootFromInclusionProof(leaf(5), 5, n, holes(path, at))).toBeNull();
    }
    for (let at = 0; at < proof.length; at++)
      expect(verifyConsistency(m, n, root(m), root(n), holes(proof, at))).toBe(false);
    expect(verifyConsistency(m, n, root(m), root(n), new Array<Uint8Array>(proof.length))).toBe(false);
    const notArrays: unknown[] = [null, undefined, "ab", 7, { length: 1, 0: proof[0] }, new Uint8Array(32)];
    for (const bad of notArrays) {
      expect(verifyConsistency(m, n, root(m), root(n), bad as Uint8Array[])).toBe(false);
      expect(verifyInclusion(leaf(5), 5, n, bad as Uint8Array[], root(n))).toBe(false);
    }
    // A getter that answers a valid hash once and garbage after: the verifier reads each element once.
    const fickle = [...proof];
    let reads = 0;
    Object.defineProperty(fickle, 0, { get: () => (reads++ === 0 ? proof[0] : undefined), enumerable: true });
    expect(verifyConsistency(m, n, root(m), root(n), fickle)).toBe(true);
  });
});

describe("a real SQLite store: roots and proofs byte-identical to the reference", () => {
  const entries = 140;
  const key = generateKeyPair();

  it(`while appending (every m <= n <= ${N}), then reopened (every size up to ${N} and around powers of two to ${entries})`, async () => {
    const file = join(tempDir().dir, "journal.db");
    let store = SqliteJournalStore.open(file, { create: true });
    const hashes: Uint8Array[] = [];
    const source = (s: SqliteJournalStore) => ({
      root: (size: number) => s.rootSync(size),
      inclusion: (i: number, size: number) => s.inclusionProofSync(i, size),
      consistency: (old: number, size: number) => s.consistencyProofSync(old, size),
    });
    let compared = 0;
    try {
      compared += await expectStoreMatchesReference(source(store), hashes, [0], "empty store");
      for (let seq = 0; seq < entries; seq++) {
        const appended =
          seq === 0 ? store.appendSync("genesis", genesisBody(key)) : store.appendSync("event", eventBody(seq));
        hashes.push(appended.hash);
        // The newest size comes from the in-memory frontier and the freshly written nodes.
        if (seq < N) compared += await expectStoreMatchesReference(source(store), hashes, [seq + 1], "appending");
      }
      store.closeSync();
      store = SqliteJournalStore.open(file, { readonly: true });
      const sizes = new Set([...Array.from({ length: N + 1 }, (_, n) => n), ...powerNeighbours(entries), entries]);
      compared += await expectStoreMatchesReference(source(store), hashes, sizes, "reopened");
      // What no proof exists for is refused, not answered with an empty list.
      expect(codeOf(() => store.consistencyProofSync(5, 4))).toBe("journal.out_of_range");
      expect(codeOf(() => store.consistencyProofSync(0, entries + 1))).toBe("journal.out_of_range");
      expect(codeOf(() => store.inclusionProofSync(4, 4))).toBe("journal.out_of_range");
      expect(compared).toBeGreaterThan(10_000);
    } finally {
      store.closeSync();
    }
  });
});
