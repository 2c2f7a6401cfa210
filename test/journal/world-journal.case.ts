/**
 * @module The `WorldJournal` conformance suite: what the kernel calls beyond the `JournalStore`
 * port (journal.case.ts covers that) — the synchronous reads (ranges, rare and rule entries,
 * latestOfKind with its bound rules, genesis, the receipt and ingress indexes, the Merkle
 * frontier, roots and proofs, which agree with the asynchronous ones), appends, checkpoints with
 * a key and state provider, automatic checkpoints following `setStateProvider`, erasures with
 * `extra`, the typed refusals (duplicate receipt or ingress key; a refused batch changes
 * nothing), `journal.closed` after close, and identical reads after a reopen. Every
 * implementation runs it: `runWorldJournalSuite({ create, reopen })`.
 */
import { describe, expect, it } from "vitest";
import { decodeStored, encodeStored, hashBytes, type HashText } from "../../air/index.js";
import { generateKeyPair, type KeyPair } from "../../kernel/crypto/keys.js";
import { leafHash, rootOfLeafHashes } from "../../kernel/crypto/merkle-verify.js";
import type { CheckpointBody } from "../../kernel/journal/entries.js";
import type { AppendInput } from "../../kernel/journal/store.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import type { WorldJournal } from "../../kernel/journal/world-journal.js";
import { codeOf, codeOfAsync, eventBody, fixedState, genesisBody, MANIFEST, STATE } from "./helpers.js";

/** What a fresh journal may be created with. */
export interface WorldJournalCreateOptions {
  checkpointEvery?: number;
  worldKey?: KeyPair;
}

/** `create` returns a fresh, empty journal; `reopen` closes one and opens the same world for writing. */
export interface WorldJournalSuiteOptions {
  create: (opts?: WorldJournalCreateOptions) => WorldJournal | Promise<WorldJournal>;
  reopen: (j: WorldJournal) => WorldJournal | Promise<WorldJournal>;
  /** What `storageVersionSync()` answers: the store's own layout version (SQLite file or PostgreSQL schema). */
  storageVersion: number;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const h = (c: string): HashText => `sha256:${c.repeat(64)}` as HashText;
const ev = (from: number, n: number): AppendInput[] =>
  Array.from({ length: n }, (_, i) => ({ kind: "event" as const, body: eventBody(from + i) }));
const ingress = (i: number, key: string) => ({
  ...eventBody(i),
  origin: { kind: "ingress", idempotency_key: key, request_hash: h(String(i % 10)) },
});
const snapshot = (c: string) => ({ state_root: h(c), cells_ref: h("e"), height: 1, manifest_hash: MANIFEST });
const shadow = { proposal_id: h("1"), report_ref: h("2"), report_hash: h("3") };
const apply = { proposal_id: h("1"), new_manifest_hash: MANIFEST, bundle_ref: h("4"), approvals: [] };
const seqsOf = (it: Iterable<{ seq: number; kind?: string }>) => [...it].map((e) => `${e.seq}:${e.kind}`);
const bySeq = <T extends { seq: number }>(xs: Iterable<T>): T[] => [...xs].sort((a, b) => a.seq - b.seq);

/** Everything the kernel reads synchronously, as comparable text. */
function readAll(j: WorldJournal): Record<string, unknown> {
  const n = j.countSync();
  return {
    head: j.headSync() && { seq: j.headSync()!.seq, hash: hex(j.headSync()!.hash) },
    entries: [...j.iterateSync()].map((e) => [e.seq, e.kind, hex(e.body), hex(e.prev_hash), hex(e.hash)]),
    rare: seqsOf(j.rareEntriesSync()),
    rules: seqsOf(j.ruleEntriesSync()),
    receipts: bySeq(j.iterateReceiptIndexSync()),
    ingress: bySeq(j.iterateIngressKeysSync()),
    blobs: [...j.iterateBlobsSync()].map((b) => [b.hash, hex(b.bytes)]).sort(),
    erasures: bySeq(j.iterateErasuresSync()),
    roots: Array.from({ length: n + 1 }, (_, s) => hex(j.rootSync(s))),
    genesis: hex(encodeStored(j.genesis())),
    latestSnapshot: j.latestOfKind("snapshot")?.seq,
  };
}

/** Registers the conformance tests for one WorldJournal implementation. */
export function runWorldJournalSuite({ create, reopen, storageVersion }: WorldJournalSuiteOptions): void {
  const key = generateKeyPair();
  const withJournal =
    (fn: (j: WorldJournal) => Promise<void>, opts?: WorldJournalCreateOptions) => async (): Promise<void> => {
      const j = await create(opts);
      try {
        await fn(j);
      } finally {
        await j.close();
      }
    };

  describe("WorldJournal conformance", () => {
    it(
      "sync reads agree with the async port: head, count, get, inclusive ranges",
      withJournal(async (j) => {
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
      withJournal(async (j) => {
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
      "indexes receipts and ingress keys, and refuses duplicates with typed errors, changing nothing",
      withJournal(async (j) => {
        await j.append("genesis", genesisBody(key));
        await j.appendMany([
          { kind: "effect_receipt", body: { intent_id: "sha256:aa" } }, // 1
          { kind: "event", body: ingress(2, "order-1") }, // 2
          { kind: "event", body: eventBody(3) }, // 3
        ]);
        await j.append("event", ingress(4, "order-2")); // 4
        await j.append("effect_receipt", { intent_id: "sha256:bb" }); // 5
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
        const before = readAll(j);
        const root = hex(await j.root());
        const refusals = [
          [{ kind: "effect_receipt", body: { intent_id: "sha256:aa" } }],
          [
            ...ev(6, 30),
            { kind: "event", body: ingress(7, "order-new") },
            { kind: "event", body: ingress(8, "order-1") },
          ],
          [
            { kind: "effect_receipt", body: { intent_id: "sha256:cc" } },
            ...ev(9, 3),
            { kind: "effect_receipt", body: { intent_id: "sha256:cc" } },
          ],
          [
            { kind: "event", body: ingress(13, "order-x") },
            { kind: "event", body: ingress(14, "order-x") },
          ],
          [...ev(15, 20), { kind: "effect_receipt", body: { intent_id: "sha256:dd" } }, { kind: "event", body: {} }],
        ] as AppendInput[][];
        const codes = [];
        for (const batch of refusals) codes.push(await codeOfAsync(j.appendMany(batch)));
        expect(codes).toEqual([
          "journal.duplicate_receipt",
          "journal.duplicate_ingress",
          "journal.duplicate_receipt",
          "journal.duplicate_ingress",
          "journal.bad_body",
        ]);
        const err = await j.append("effect_receipt", { intent_id: "sha256:bb" }).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: "journal.duplicate_receipt", seq: 6 });
        expect((err as Error).message).toContain("already has its receipt at seq 5");
        const dup = await j.append("event", ingress(16, "order-2")).catch((e: unknown) => e);
        expect(dup).toMatchObject({ code: "journal.duplicate_ingress" });
        expect((dup as Error).message).toContain("at seq 4");
        // All or none: not one row of any refused batch is visible, synchronously or not.
        expect(readAll(j)).toEqual(before);
        expect([await j.count(), hex(await j.root())]).toEqual([6, root]);
        expect([j.receiptSeq("sha256:cc"), j.receiptSeq("sha256:dd"), j.ingressKeySeq("order-new")]).toEqual([
          null,
          null,
          null,
        ]);
        expect((await j.append("effect_receipt", { intent_id: "sha256:cc" })).seq).toBe(6);
        expect(j.receiptSeq("sha256:cc")).toBe(6);
        expect(await verifyJournal(j)).toMatchObject({ ok: true, entries: 7 });
      }),
    );

    it(
      "serves frontiers, roots and proofs synchronously that equal the async ones, for every size",
      withJournal(async (j) => {
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

    it(
      "checkpoints with a key and state provider; without a key it is refused",
      withJournal(async (j) => {
        await j.append("genesis", genesisBody(key));
        await j.appendMany(ev(1, 4));
        expect(await codeOfAsync(j.checkpoint())).toBe("journal.no_signing_key");
        const state = () => ({ state_root: h("9"), manifest_hash: MANIFEST });
        const root = hex(j.rootSync());
        const head = hex(j.headSync()!.hash);
        const cp = await j.checkpoint(key, state);
        expect(cp).toMatchObject({ seq: 5, kind: "checkpoint" });
        expect(hex(cp.hash)).toBe(hex(j.headSync()!.hash));
        const body = decodeStored(j.getSync(5)!.body) as CheckpointBody;
        expect([body.tree_size, hex(body.root), hex(body.head_hash), body.state_root]).toEqual([5, root, head, h("9")]);
        expect(await codeOfAsync(j.checkpoint(generateKeyPair(), state))).toBe("journal.bad_body");
        expect(j.countSync()).toBe(6);
        expect(await verifyJournal(j)).toMatchObject({ ok: true, entries: 6, checkpoints: 1 });
      }),
    );

    it(
      "automatic checkpoints (checkpointEvery) attest what setStateProvider last set",
      withJournal(
        async (j) => {
          await j.append("genesis", genesisBody(key));
          await j.appendMany(ev(1, 2)); // 3 entries
          j.setStateProvider(() => ({ state_root: h("5"), manifest_hash: MANIFEST }));
          const a = await j.appendMany(ev(3, 3)); // 6 entries: crosses 5 → checkpoint at 6
          expect(
            a.map((x) => `${x.seq}:${x.kind}`),
            "the appended items only, as every store returns them",
          ).toEqual(["3:event", "4:event", "5:event"]);
          expect(j.countSync()).toBe(7);
          j.setStateProvider(() => ({ state_root: STATE, manifest_hash: MANIFEST }));
          await j.append("event", eventBody(7)); // 7
          await j.appendMany(ev(8, 4)); // 8..11 → crosses 10 → checkpoint at 12
          expect(seqsOf(j.rareEntriesSync(1))).toEqual(["6:checkpoint", "12:checkpoint"]);
          const roots = [6, 12].map((s) => (decodeStored(j.getSync(s)!.body) as CheckpointBody).state_root);
          expect(roots).toEqual([h("5"), STATE]);
          expect(await j.count()).toBe(13);
          expect(await verifyJournal(j)).toMatchObject({ ok: true, entries: 13, checkpoints: 2 });
        },
        { checkpointEvery: 5, worldKey: key },
      ),
    );

    it(
      "erases with extra ({derived_from}, {notify}); an erasure that crosses the cadence checkpoints too",
      withJournal(
        async (j) => {
          await j.append("genesis", genesisBody(key));
          const a = j.putBlobSync(new TextEncoder().encode("cell state v1"));
          const b = j.putBlobSync(new TextEncoder().encode("derived copy"));
          await j.append("event", { ...eventBody(1), value: { a, b } }); // 1
          const notify: [string, null | string | Uint8Array][] = [
            ["demo/cell", null],
            ["demo/keyed", "k1"],
            ["demo/bytes", Uint8Array.of(1, 2)],
          ];
          const e1 = await j.erase(b, "derived from erased data", { derived_from: a }); // 2
          const e2 = await j.erase(a, "GDPR art. 17", { notify }); // 3
          expect([e1.seq, e2.seq, j.countSync()]).toEqual([2, 3, 4]);
          const stored = (s: number) => hex(j.getSync(s)!.body);
          expect(stored(2)).toBe(
            hex(encodeStored({ blob_hash: b, reason: "derived from erased data", derived_from: a })),
          );
          expect(stored(3)).toBe(hex(encodeStored({ blob_hash: a, reason: "GDPR art. 17", notify })));
          expect([j.erasureSeq(a), j.erasureSeq(b)]).toEqual([3, 2]);
          expect(await codeOfAsync(j.erase(a, "again", { derived_from: b }))).toBe("journal.blob_erased");
          expect(await codeOfAsync(j.erase(h("0"), "bad", { notify: [["", null]] }))).toBe("journal.bad_body");
          await j.append("event", eventBody(4)); // 4: crosses 5 → checkpoint at 5
          const c = j.putBlobSync(new TextEncoder().encode("erased at the cadence"));
          await j.appendMany(ev(6, 3)); // 6..8
          const e3 = await j.erase(c, "cadence"); // 9: 10 entries → checkpoint at 10
          expect(e3.seq).toBe(9);
          expect([j.countSync(), await j.count()]).toEqual([11, 11]);
          expect(j.getSync(10)?.kind).toBe("checkpoint");
          expect(hex(j.headSync()!.hash)).toBe(hex((await j.head())!.hash));
          await j.append("event", eventBody(11)); // the journal is still usable after it
          expect(j.countSync()).toBe(12);
          expect(await verifyJournal(j)).toMatchObject({ ok: true, entries: 12, checkpoints: 2 });
        },
        { checkpointEvery: 5, worldKey: key },
      ),
    );

    it("after close every call is journal.closed", async () => {
      const j = await create();
      await j.append("genesis", genesisBody(key));
      const blob = j.putBlobSync(Uint8Array.of(1));
      await j.append("event", eventBody(1));
      await j.close();
      const sync: [string, () => unknown][] = [
        ["headSync", () => j.headSync()],
        ["countSync", () => j.countSync()],
        ["getSync", () => j.getSync(0)],
        ["iterateSync", () => j.iterateSync().next()],
        ["latestOfKind", () => j.latestOfKind("genesis")],
        ["rareEntriesSync", () => j.rareEntriesSync().next()],
        ["ruleEntriesSync", () => j.ruleEntriesSync().next()],
        ["genesis", () => j.genesis()],
        ["ingressKeySeq", () => j.ingressKeySeq("k")],
        ["iterateReceiptIndexSync", () => j.iterateReceiptIndexSync().next()],
        ["iterateIngressKeysSync", () => j.iterateIngressKeysSync().next()],
        ["frontierSync", () => j.frontierSync(1)],
        ["rootSync", () => j.rootSync()],
        ["nodeAt", () => j.nodeAt(4, 0)],
        ["putBlobSync", () => j.putBlobSync(Uint8Array.of(2))],
        ["getBlobSync", () => j.getBlobSync(blob)],
        ["hasBlobSync", () => j.hasBlobSync(blob)],
        ["erasureSeq", () => j.erasureSeq(blob)],
        ["iterateBlobsSync", () => j.iterateBlobsSync().next()],
        ["iterateErasuresSync", () => j.iterateErasuresSync().next()],
      ];
      const async: [string, () => Promise<unknown>][] = [
        ["append", () => j.append("event", eventBody(2))],
        ["appendMany", () => j.appendMany(ev(2, 2))],
        ["checkpoint", () => j.checkpoint(key, fixedState)],
        ["erase", () => j.erase(blob, "gone")],
        ["head", () => j.head()],
        ["count", () => j.count()],
        ["get", () => j.get(0)],
        ["iterate", () => j.iterate()[Symbol.asyncIterator]().next()],
        ["putBlob", () => j.putBlob(Uint8Array.of(3))],
        ["getBlob", () => j.getBlob(blob)],
        ["hasBlob", () => j.hasBlob(blob)],
        ["root", () => j.root()],
        ["inclusionProof", () => j.inclusionProof(0)],
        ["consistencyProof", () => j.consistencyProof(1)],
      ];
      const got: string[] = [];
      for (const [name, fn] of sync) got.push(`${name}: ${codeOf(fn)}`);
      for (const [name, fn] of async) got.push(`${name}: ${await codeOfAsync(Promise.resolve().then(fn))}`);
      expect(got).toEqual([...sync, ...async].map(([name]) => `${name}: journal.closed`));
      await j.close(); // closing twice is harmless
    });

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
