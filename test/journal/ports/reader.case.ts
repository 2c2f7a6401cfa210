/**
 * @module The `JournalReader` conformance suite: the kernel's synchronous reads — head, count,
 * get and inclusive ranges (agreeing with the async reads of the record), latestOfKind with its
 * bound rules, rare and rule entries, genesis, the receipt and ingress-key indexes, Merkle
 * frontiers and roots for every size, `journal.closed` after close, and identical reads after a
 * reopen. Every store runs it: `runJournalReaderSuite({ create, reopen, storageVersion })`.
 */
import { describe, expect, it } from "vitest";
import { decodeStored, encodeStored, hashBytes } from "../../../air/index.js";
import { generateKeyPair } from "../../../kernel/crypto/keys.js";
import { leafHash, rootOfLeafHashes } from "../../../kernel/crypto/merkle-verify.js";
import { verifyJournal } from "../../../kernel/journal/verify.js";
import { codeOf, codeOfAsync, eventBody, fixedState, genesisBody } from "../helpers.js";
import {
  appendIndexed,
  apply,
  bySeq,
  ev,
  h,
  hex,
  ingress,
  readAll,
  seqsOf,
  shadow,
  snapshot,
  withStore,
  type Create,
  type PortsUnderTest,
} from "./fixtures.js";

/** `create` returns a fresh, empty journal; `reopen` closes one and opens the same world for writing. */
export interface JournalReaderSuiteOptions {
  create: Create;
  reopen: (j: PortsUnderTest) => PortsUnderTest | Promise<PortsUnderTest>;
  /** What `storageVersionSync()` answers: the store's own layout version (SQLite file or PostgreSQL schema). */
  storageVersion: number;
}

/** Registers the conformance tests of one store's JournalReader. */
export function runJournalReaderSuite({ create, reopen, storageVersion }: JournalReaderSuiteOptions): void {
  const key = generateKeyPair();

  describe("JournalReader conformance", () => {
    it(
      "sync reads agree with the async port: head, count, get, inclusive ranges",
      withStore(create, async (j) => {
        expect([j.headSync(), j.countSync(), j.getSync(0)]).toEqual([null, 0, null]);
        expect([...j.iterateSync()]).toEqual([]);
        await j.append("genesis", genesisBody(key));
        await j.appendMany(ev(1, 40));
        expect(j.countSync()).toBe(41);
        expect(await j.count()).toBe(41);
        expect(hex(j.headSync()!.hash)).toBe(hex((await j.head())!.hash));
        for (const s of [0, 1, 17, 40]) {
          const [a, b] = [j.getSync(s)!, (await j.get(s))!];
          expect([a.seq, a.kind, hex(a.body), hex(a.prev_hash), hex(a.hash)]).toEqual([
            b.seq,
            b.kind,
            hex(b.body),
            hex(b.prev_hash),
            hex(b.hash),
          ]);
        }
        expect(j.getSync(41)).toBeNull();
        expect(decodeStored(j.getSync(7)!.body)).toEqual(eventBody(7));
        expect([...j.iterateSync(5, 9)].map((e) => e.seq)).toEqual([5, 6, 7, 8, 9]);
        expect([...j.iterateSync(38)].map((e) => e.seq)).toEqual([38, 39, 40]);
        expect([...j.iterateSync(12, 12)].map((e) => e.seq)).toEqual([12]);
        expect([...j.iterateSync(30, 29)]).toEqual([]);
        expect([...j.iterateSync()].map((e) => e.seq)).toEqual(Array.from({ length: 41 }, (_, i) => i));
        expect(j.storageVersionSync()).toBe(storageVersion);
        expect(hex(encodeStored(j.genesis()))).toBe(hex(encodeStored(genesisBody(key))));
      }),
    );

    it(
      "latestOfKind (a bound only on rare kinds: RangeError otherwise), rare and rule entries",
      withStore(create, async (j) => {
        expect(codeOf(() => j.genesis())).toBe("journal.bad_sequence");
        await j.append("genesis", genesisBody(key)); // 0
        await j.appendMany(ev(1, 3)); // 1..3
        await j.append("snapshot", snapshot("a")); // 4
        await j.append("event", eventBody(5)); // 5
        await j.appendMany([
          { kind: "shadow_report", body: shadow }, // 6
          { kind: "apply", body: apply }, // 7
        ]);
        await j.checkpoint(key, fixedState); // 8
        await j.append("snapshot", snapshot("b")); // 9
        await j.append("event", eventBody(10)); // 10
        expect(j.latestOfKind("snapshot")?.seq).toBe(9);
        expect(j.latestOfKind("snapshot", 8)?.seq).toBe(4);
        expect(j.latestOfKind("snapshot", 4)?.seq).toBe(4);
        expect(j.latestOfKind("snapshot", 3)).toBeNull();
        expect(j.latestOfKind("checkpoint")?.seq).toBe(8);
        expect(j.latestOfKind("genesis", 0)?.seq).toBe(0);
        expect(j.latestOfKind("erasure")).toBeNull();
        expect(j.latestOfKind("event")?.seq).toBe(10);
        expect(j.latestOfKind("step")).toBeNull();
        expect(() => j.latestOfKind("event", 5)).toThrow(RangeError);
        expect(decodeStored(j.latestOfKind("snapshot", 8)!.body)).toEqual(snapshot("a"));
        expect(seqsOf(j.rareEntriesSync())).toEqual([
          "0:genesis",
          "4:snapshot",
          "6:shadow_report",
          "7:apply",
          "8:checkpoint",
          "9:snapshot",
        ]);
        expect(seqsOf(j.rareEntriesSync(4, 8))).toEqual(["4:snapshot", "6:shadow_report", "7:apply", "8:checkpoint"]);
        expect(seqsOf(j.rareEntriesSync(10))).toEqual([]);
        expect(seqsOf(j.ruleEntriesSync())).toEqual(["0:genesis", "6:shadow_report", "7:apply"]);
        expect(seqsOf(j.ruleEntriesSync(1, 6))).toEqual(["6:shadow_report"]);
      }),
    );

    it(
      "indexes receipts and ingress keys: by key, and as the listings the rules hold to the entries",
      withStore(create, async (j) => {
        await appendIndexed(j, key);
        expect([j.receiptSeq("sha256:aa"), j.receiptSeq("sha256:bb"), j.receiptSeq("sha256:zz")]).toEqual([1, 5, null]);
        expect(j.ingressKeySeq("order-1")).toEqual({ seq: 2, request_hash: h("2") });
        expect(j.ingressKeySeq("order-2")).toEqual({ seq: 4, request_hash: h("4") });
        expect(j.ingressKeySeq("order-3")).toBeNull();
        expect(bySeq(j.iterateReceiptIndexSync())).toEqual([
          { intent_id: "sha256:aa", seq: 1 },
          { intent_id: "sha256:bb", seq: 5 },
        ]);
        expect(bySeq(j.iterateIngressKeysSync())).toEqual([
          { key: "order-1", seq: 2, request_hash: h("2") },
          { key: "order-2", seq: 4, request_hash: h("4") },
        ]);
      }),
    );

    it(
      "serves frontiers, roots and proofs synchronously that equal the async ones, for every size",
      withStore(create, async (j) => {
        await j.append("genesis", genesisBody(key));
        await j.appendMany(ev(1, 36));
        const leaves = [...j.iterateSync()].map((e) => leafHash(e.hash));
        for (let size = 1; size <= leaves.length; size++) {
          const want = hex(rootOfLeafHashes(leaves.slice(0, size)));
          expect([hex(j.rootSync(size)), hex(await j.root(size))]).toEqual([want, want]);
          const f = j.frontierSync(size);
          expect([f.size, hex(f.root())]).toEqual([size, want]);
        }
        expect(hex(j.rootSync())).toBe(hex(await j.root()));
        // Stored perfect nodes: level 4 and up; what is not yet complete is missing; lower levels are not kept.
        expect(hex((await j.nodeAt(4, 1))!)).toBe(hex(rootOfLeafHashes(leaves.slice(16, 32))));
        expect(hex((await j.nodeAt(5, 0))!)).toBe(hex(rootOfLeafHashes(leaves.slice(0, 32))));
        expect(await j.nodeAt(4, 2)).toBeNull();
        expect(await j.nodeAt(2, 0)).toBeUndefined();
        expect(codeOf(() => j.rootSync(38))).toBe("journal.out_of_range");
        expect(codeOf(() => j.frontierSync(38))).toBe("journal.out_of_range");
      }),
    );

    it("after close receiptSeq is journal.closed", async () => {
      const j = await create();
      await j.append("genesis", genesisBody(key));
      await j.close();
      expect(codeOf(() => j.receiptSeq("sha256:aa"))).toBe("journal.closed");
    });

    it("after a reopen every sync read is the same, and the journal extends the same chain", async () => {
      let j = await create();
      await j.append("genesis", genesisBody(key));
      const kept = j.putBlobSync(new TextEncoder().encode("kept"));
      const gone = j.putBlobSync(new TextEncoder().encode("gone"));
      await j.appendMany([
        ...ev(1, 20),
        { kind: "effect_receipt", body: { intent_id: "sha256:aa" } },
        { kind: "event", body: ingress(22, "order-1") },
        { kind: "snapshot", body: snapshot("a") },
        { kind: "apply", body: apply },
      ]);
      await j.checkpoint(key, fixedState);
      await j.erase(gone, "GDPR", { derived_from: kept });
      await j.appendMany(ev(27, 9));
      const before = readAll(j);
      expect(before).toMatchObject({ head: { seq: 35 }, blobs: [[kept, expect.any(String)]] });
      j = await reopen(j);
      try {
        expect(readAll(j)).toEqual(before);
        expect(hex(await j.root())).toBe(hex(j.rootSync()));
        expect([j.receiptSeq("sha256:aa"), j.ingressKeySeq("order-1")?.seq, j.erasureSeq(gone)]).toEqual([21, 22, 26]);
        expect(Buffer.from(j.getBlobSync(kept)).toString()).toBe("kept");
        expect(await codeOfAsync(j.append("effect_receipt", { intent_id: "sha256:aa" }))).toBe(
          "journal.duplicate_receipt",
        );
        expect(await codeOfAsync(j.append("event", ingress(40, "order-1")))).toBe("journal.duplicate_ingress");
        const [x] = await j.appendMany(ev(36, 5));
        expect(x!.seq).toBe(36);
        expect(hex(j.getSync(36)!.prev_hash)).toBe((before as { head: { hash: string } }).head.hash);
        expect(await verifyJournal(j)).toMatchObject({ ok: true, entries: 41, checkpoints: 1 });
        expect(hashBytes(j.getBlobSync(kept))).toBe(kept);
      } finally {
        await j.close();
      }
    });
  });
}
