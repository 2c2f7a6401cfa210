/**
 * @module The `JournalStore` conformance suite. Every implementation runs it through a
 * three-line test file: `runJournalSuite({ create })`, where `create` returns a fresh,
 * empty store. The SQLite store runs it today; a PostgreSQL store must pass it unchanged.
 */
import { describe, expect, it } from "vitest";
import { decodeStored, hashBytes } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import {
  EMPTY_ROOT,
  leafHash,
  rootOfLeafHashes,
  verifyConsistency,
  verifyInclusion,
} from "../../kernel/crypto/merkle-verify.js";
import { appendCheckpoint, signCheckpoint } from "../../kernel/journal/checkpoint.js";
import { entryHash, ZERO_HASH } from "../../kernel/journal/entry-hash.js";
import type { JournalStore } from "../../kernel/journal/store.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { codeOfAsync, eventBody, fixedState, genesisBody } from "./helpers.js";

/** How the suite gets stores: `create` returns a fresh, empty one; `reopen` closes one and opens it again (every store persists, so every one is held to it). */
export interface JournalSuiteOptions<S extends JournalStore = JournalStore> {
  create: () => S | Promise<S>;
  reopen: (store: S) => S | Promise<S>;
}

/** Registers the conformance tests for one JournalStore implementation. */
export function runJournalSuite<S extends JournalStore>({ create, reopen }: JournalSuiteOptions<S>): void {
  const key = generateKeyPair();
  const withStore = (fn: (s: JournalStore) => Promise<void>) => async () => {
    const s = await create();
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };

  describe("JournalStore conformance", () => {
    it(
      "starts empty",
      withStore(async (s) => {
        expect(await s.head()).toBeNull();
        expect(await s.count()).toBe(0);
        expect(Buffer.from(await s.root()).equals(Buffer.from(EMPTY_ROOT))).toBe(true);
        expect(await s.get(0)).toBeNull();
      }),
    );

    it(
      "requires genesis first and only first",
      withStore(async (s) => {
        expect(await codeOfAsync(s.append("event", eventBody(0)))).toBe("journal.bad_sequence");
        await s.append("genesis", genesisBody(key));
        expect(await codeOfAsync(s.append("genesis", genesisBody(key)))).toBe("journal.bad_sequence");
      }),
    );

    it(
      "refuses a bad body with journal.bad_body and its path",
      withStore(async (s) => {
        const bad = { ...genesisBody(key), world_public_key: new Uint8Array(31) };
        const err = await s.append("genesis", bad).catch((e: unknown) => e as { code: string; body_path: string });
        expect(err).toMatchObject({ code: "journal.bad_body", body_path: "$.world_public_key" });
        expect(await s.count()).toBe(0);
      }),
    );

    it(
      "chains entries from seq 0 with the documented hash",
      withStore(async (s) => {
        const g = await s.append("genesis", genesisBody(key));
        const [a, b] = await s.appendMany([
          { kind: "event", body: eventBody(1) },
          { kind: "event", body: eventBody(2) },
        ]);
        expect([g.seq, a!.seq, b!.seq]).toEqual([0, 1, 2]);
        const e0 = (await s.get(0))!;
        expect(Buffer.from(e0.prev_hash).equals(Buffer.from(ZERO_HASH))).toBe(true);
        expect(Buffer.from(e0.hash).equals(Buffer.from(entryHash(ZERO_HASH, 0, "genesis", e0.body)))).toBe(true);
        const e2 = (await s.get(2))!;
        expect(Buffer.from(e2.prev_hash).equals(Buffer.from(a!.hash))).toBe(true);
        expect(decodeStored(e2.body)).toEqual(eventBody(2));
        expect(await s.head()).toEqual({ seq: 2, hash: expect.anything() });
        expect(await s.count()).toBe(3);
      }),
    );

    it(
      "appendMany is all or nothing, and the store stays usable after a refused batch",
      withStore(async (s) => {
        await s.append("genesis", genesisBody(key));
        expect(
          await codeOfAsync(
            s.appendMany([
              { kind: "event", body: eventBody(1) },
              { kind: "event", body: { nope: 1 } },
            ]),
          ),
        ).toBe("journal.bad_body");
        expect(
          await codeOfAsync(
            s.appendMany([
              { kind: "event", body: eventBody(1) },
              { kind: "genesis", body: genesisBody(key) },
            ]),
          ),
        ).toBe("journal.bad_sequence");
        expect(await s.count()).toBe(1);
        const [x] = await s.appendMany([{ kind: "event", body: eventBody(1) }]);
        expect(x!.seq).toBe(1);
        expect((await verifyJournal(s)).ok).toBe(true);
      }),
    );

    it(
      "iterates an inclusive range in order, across page boundaries",
      withStore(async (s) => {
        await s.append("genesis", genesisBody(key));
        await s.appendMany(Array.from({ length: 600 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) })));
        const seqs: number[] = [];
        for await (const e of s.iterate(250, 520)) seqs.push(e.seq);
        expect(seqs.length).toBe(271);
        expect(seqs[0]).toBe(250);
        expect(seqs.at(-1)).toBe(520);
        let n = 0;
        for await (const e of s.iterate()) expect(e.seq).toBe(n++);
        expect(n).toBe(601);
      }),
    );

    it(
      "stores blobs by content, idempotently",
      withStore(async (s) => {
        const bytes = new TextEncoder().encode("hello blob");
        const h = await s.putBlob(bytes);
        expect(h).toBe(hashBytes(bytes));
        expect(await s.putBlob(bytes)).toBe(h);
        expect(await s.hasBlob(h)).toBe(true);
        expect(Buffer.from(await s.getBlob(h)).toString()).toBe("hello blob");
        const missing = hashBytes(new Uint8Array([1]));
        expect(await s.hasBlob(missing)).toBe(false);
        expect(await codeOfAsync(s.getBlob(missing))).toBe("journal.blob_not_found");
      }),
    );

    it(
      "erases a blob: bytes gone, ErasedError names the erasure seq, the journal still verifies",
      withStore(async (s) => {
        await s.append("genesis", genesisBody(key));
        const h = await s.putBlob(new TextEncoder().encode("personal data"));
        await s.append("event", { ...eventBody(1), value: { blob: h } });
        await appendCheckpoint(s, key, fixedState);
        const er = await s.erase(h, "GDPR art. 17 request #42");
        expect(er.kind).toBe("erasure");
        expect(decodeStored((await s.get(er.seq))!.body)).toEqual({ blob_hash: h, reason: "GDPR art. 17 request #42" });
        expect(await s.hasBlob(h)).toBe(false);
        const err = await s.getBlob(h).then(
          () => ({ code: "no error", erasure_seq: -1, message: "" }),
          (e: unknown) => e as { code: string; erasure_seq: number; message: string },
        );
        expect(err).toMatchObject({ code: "journal.blob_erased", erasure_seq: er.seq });
        expect(err.message).toContain(`seq ${er.seq}`);
        expect(await codeOfAsync(s.erase(h, "again"))).toBe("journal.blob_erased");
        expect(await codeOfAsync(s.erase(hashBytes(new Uint8Array([9])), "never stored"))).toBe(
          "journal.blob_not_found",
        );
        await appendCheckpoint(s, key, fixedState);
        expect(await verifyJournal(s)).toMatchObject({ ok: true, checkpoints: 2 });
      }),
    );

    it(
      "serves roots and RFC 6962 proofs that verify, for every size",
      withStore(async (s) => {
        await s.append("genesis", genesisBody(key));
        await s.appendMany(Array.from({ length: 40 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) })));
        const leaves: Uint8Array[] = [];
        for await (const e of s.iterate()) leaves.push(leafHash(e.hash));
        for (let size = 1; size <= leaves.length; size++) {
          const root = await s.root(size);
          expect(Buffer.from(root).equals(Buffer.from(rootOfLeafHashes(leaves.slice(0, size))))).toBe(true);
          const i = (size * 7) % size;
          expect(verifyInclusion(leaves[i]!, i, size, await s.inclusionProof(i, size), root)).toBe(true);
          const m = Math.max(1, Math.floor(size / 3));
          expect(verifyConsistency(m, size, await s.root(m), root, await s.consistencyProof(m, size))).toBe(true);
        }
        expect(await codeOfAsync(s.root(leaves.length + 1))).toBe("journal.out_of_range");
        expect(await codeOfAsync(s.inclusionProof(5, 5))).toBe("journal.out_of_range");
      }),
    );

    it("survives close and reopen at any size, then extends the same chain and tree", async () => {
      for (const n of [1, 2, 15, 16, 17, 31, 33, 100]) {
        let s = await create();
        await s.append("genesis", genesisBody(key));
        await s.appendMany(Array.from({ length: n - 1 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) })));
        const root = await s.root();
        const head = await s.head();
        const blob = await s.putBlob(Uint8Array.of(n));
        s = await reopen(s);
        try {
          expect(await s.count()).toBe(n);
          expect(await s.head()).toEqual(head);
          expect(Buffer.from(await s.root()).equals(Buffer.from(root))).toBe(true);
          expect(Array.from(await s.getBlob(blob))).toEqual([n]);
          await s.appendMany(
            Array.from({ length: 20 }, (_, i) => ({ kind: "event" as const, body: eventBody(1000 + i) })),
          );
          const leaves: Uint8Array[] = [];
          for await (const e of s.iterate()) leaves.push(leafHash(e.hash));
          expect(Buffer.from(await s.root()).equals(Buffer.from(rootOfLeafHashes(leaves)))).toBe(true);
          expect(await verifyJournal(s)).toMatchObject({ ok: true, entries: n + 20 });
        } finally {
          await s.close();
        }
      }
    });

    it(
      "accepts a checkpoint signed by the world key and refuses a forged or wrong one",
      withStore(async (s) => {
        await s.append("genesis", genesisBody(key));
        await s.append("event", eventBody(1));
        const good = await appendCheckpoint(s, key, fixedState);
        expect(good.seq).toBe(2);
        const head = (await s.head())!;
        const forged = signCheckpoint(
          { tree_size: 3, root: await s.root(3), head_hash: head.hash, ...fixedState() },
          generateKeyPair(),
        );
        expect(await codeOfAsync(s.append("checkpoint", forged))).toBe("journal.bad_body");
        const stale = signCheckpoint(
          { tree_size: 2, root: await s.root(2), head_hash: head.hash, ...fixedState() },
          key,
        );
        expect(await codeOfAsync(s.append("checkpoint", stale))).toBe("journal.bad_body");
        expect(await verifyJournal(s)).toMatchObject({ ok: true, entries: 3, checkpoints: 1 });
      }),
    );
  });
}
