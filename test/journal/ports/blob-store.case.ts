/**
 * @module The `BlobStore` conformance suite (a world's CAS as the kernel reads it, synchronously):
 * put is idempotent and names bytes by their sha256, get returns them, unknown names are
 * `journal.blob_not_found`, an erased blob is `journal.blob_erased` naming its erasure seq (with
 * `erasureSeq` and the erasure index agreeing), a blob stored again after its erasure is back,
 * and the blob listing holds exactly what is present. `runBlobStoreSuite({ create })`, where
 * `create` returns a fresh, empty, writable store (an erasure is a journal entry).
 */
import { describe, expect, it } from "vitest";
import { hashBytes, type HashText } from "../../../air/index.js";
import { generateKeyPair } from "../../../kernel/crypto/keys.js";
import type { BlobStore } from "../../../kernel/journal/ports.js";
import { codeOf, codeOfAsync, eventBody, genesisBody } from "../helpers.js";
import type { Create, PortsUnderTest } from "./fixtures.js";

/** How the suite gets stores: a fresh, empty, writable journal (an erasure is a journal entry). */
export interface BlobStoreSuiteOptions {
  create: Create;
}

const text = (s: string) => new TextEncoder().encode(s);
const listing = (j: BlobStore) =>
  [...j.iterateBlobsSync()].map((b) => `${b.hash} ${Buffer.from(b.bytes).toString("hex")}`).sort();
const erasures = (j: BlobStore) => [...j.iterateErasuresSync()].map((e) => `${e.hash}@${e.seq}`).sort();
const erasedSeqOf = (fn: () => unknown): { code: string; erasure_seq?: number } => {
  try {
    fn();
  } catch (e) {
    return e as { code: string; erasure_seq?: number };
  }
  return { code: "no error" };
};

/** Registers the conformance tests for one BlobStore implementation. */
export function runBlobStoreSuite({ create }: BlobStoreSuiteOptions): void {
  const key = generateKeyPair();
  const withJournal = (fn: (j: PortsUnderTest) => Promise<void>) => async (): Promise<void> => {
    const j = await create();
    try {
      await j.append("genesis", genesisBody(key));
      await fn(j);
    } finally {
      await j.close();
    }
  };

  describe("BlobStore conformance", () => {
    it(
      "puts idempotently under the sha256 of the bytes and gets them back",
      withJournal(async (j) => {
        const big = Uint8Array.from({ length: 300_000 }, (_, i) => (i * 31) & 0xff);
        const blobs = [text("hello"), new Uint8Array(0), big, Uint8Array.of(0, 0, 0)];
        const names = blobs.map((b) => j.putBlobSync(b));
        expect(names).toEqual(blobs.map((b) => hashBytes(b)));
        expect(new Set(names).size).toBe(4);
        expect(j.putBlobSync(text("hello"))).toBe(names[0]);
        expect(await j.putBlob(text("hello"))).toBe(names[0]);
        blobs.forEach((b, i) => {
          expect(j.hasBlobSync(names[i]!)).toBe(true);
          expect(Buffer.from(j.getBlobSync(names[i]!)).equals(Buffer.from(b))).toBe(true);
          expect(j.erasureSeq(names[i]!)).toBeNull();
        });
        expect(Buffer.from(await j.getBlob(names[2]!)).equals(Buffer.from(big))).toBe(true);
        expect(await j.hasBlob(names[3]!)).toBe(true);
        expect(listing(j)).toEqual(blobs.map((b) => `${hashBytes(b)} ${Buffer.from(b).toString("hex")}`).sort());
        // The bytes returned are the stored ones, not the caller's buffer.
        const mutable = text("mutable");
        const m = j.putBlobSync(mutable);
        mutable[0] = 0;
        expect(Buffer.from(j.getBlobSync(m)).toString()).toBe("mutable");
        expect(Buffer.from(await j.getBlob(m)).toString()).toBe("mutable");
        await j.append("event", eventBody(1)); // a store may write blobs out with its next entry
        expect(Buffer.from(await j.getBlob(m)).toString()).toBe("mutable");
      }),
    );

    it(
      "an unknown blob is journal.blob_not_found, and absent from every index",
      withJournal(async (j) => {
        const unknown = hashBytes(text("never stored"));
        expect(codeOf(() => j.getBlobSync(unknown))).toBe("journal.blob_not_found");
        expect(await codeOfAsync(j.getBlob(unknown))).toBe("journal.blob_not_found");
        expect([j.hasBlobSync(unknown), await j.hasBlob(unknown), j.erasureSeq(unknown)]).toEqual([false, false, null]);
        expect([listing(j), erasures(j)]).toEqual([[], []]);
      }),
    );

    it(
      "an erased blob is journal.blob_erased with its erasure seq; erasureSeq and the erasure index agree",
      withJournal(async (j) => {
        const keep = j.putBlobSync(text("keep me"));
        const a = j.putBlobSync(text("personal data a"));
        const b = j.putBlobSync(text("personal data b"));
        await j.append("event", { ...eventBody(1), value: { a, b } }); // 1
        const ea = await j.erase(a, "GDPR art. 17 #1"); // 2
        await j.append("event", eventBody(3)); // 3
        const eb = await j.erase(b, "GDPR art. 17 #2"); // 4
        expect([ea.seq, eb.seq]).toEqual([2, 4]);
        for (const [hash, seq] of [
          [a, 2],
          [b, 4],
        ] as [HashText, number][]) {
          expect(erasedSeqOf(() => j.getBlobSync(hash))).toMatchObject({
            code: "journal.blob_erased",
            erasure_seq: seq,
          });
          const err = await j.getBlob(hash).catch((e: unknown) => e as { code: string; erasure_seq: number });
          expect(err).toMatchObject({ code: "journal.blob_erased", erasure_seq: seq });
          expect([j.hasBlobSync(hash), await j.hasBlob(hash), j.erasureSeq(hash)]).toEqual([false, false, seq]);
        }
        expect(erasures(j)).toEqual([`${a}@2`, `${b}@4`].sort());
        expect(listing(j)).toEqual([`${keep} ${Buffer.from(text("keep me")).toString("hex")}`]);
        expect(Buffer.from(j.getBlobSync(keep)).toString()).toBe("keep me");
        expect(await codeOfAsync(j.erase(a, "twice"))).toBe("journal.blob_erased");
        expect(j.countSync()).toBe(5);
      }),
    );

    it(
      "a blob stored again after its erasure is present again; erased again, the index names the latest erasure",
      withJournal(async (j) => {
        const bytes = text("comes back");
        const x = j.putBlobSync(bytes);
        await j.erase(x, "first"); // 1
        expect(j.putBlobSync(bytes)).toBe(x);
        expect([j.hasBlobSync(x), Buffer.from(j.getBlobSync(x)).toString()]).toEqual([true, "comes back"]);
        expect(listing(j)).toEqual([`${x} ${Buffer.from(bytes).toString("hex")}`]);
        await j.append("event", eventBody(2)); // 2
        const again = await j.erase(x, "second"); // 3
        expect(again.seq).toBe(3);
        expect(j.erasureSeq(x)).toBe(3);
        expect(erasures(j)).toEqual([`${x}@3`]);
        expect(erasedSeqOf(() => j.getBlobSync(x))).toMatchObject({ code: "journal.blob_erased", erasure_seq: 3 });
        expect(listing(j)).toEqual([]);
      }),
    );
  });
}
