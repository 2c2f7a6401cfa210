/**
 * @module The `JournalWriter` conformance suite: appends and group commits, the typed refusals
 * (duplicate receipt or ingress key, bad body; a refused batch changes nothing anyone can read),
 * checkpoints with a key and state provider, automatic checkpoints following `setStateProvider`,
 * erasures with `extra` (and at the cadence), `journal.readonly` for a read-only store and
 * `journal.closed` after close. Every store runs it: `runJournalWriterSuite({ create, openReadonly })`.
 */
import { describe, expect, it } from "vitest";
import { decodeStored, encodeStored } from "../../../air/index.js";
import { generateKeyPair } from "../../../kernel/crypto/keys.js";
import type { CheckpointBody } from "../../../kernel/journal/entries.js";
import type { AppendInput } from "../../../kernel/journal/store.js";
import { verifyJournal } from "../../../kernel/journal/verify.js";
import { codeOf, codeOfAsync, eventBody, fixedState, genesisBody, MANIFEST, STATE } from "../helpers.js";
import {
  appendIndexed,
  ev,
  h,
  hex,
  ingress,
  readAll,
  seqsOf,
  withStore,
  type Create,
  type PortsUnderTest,
} from "./fixtures.js";

/** `create` returns a fresh, empty, writable journal; `openReadonly` opens the world of a closed one read-only. */
export interface JournalWriterSuiteOptions {
  create: Create;
  openReadonly: (closed: PortsUnderTest) => PortsUnderTest | Promise<PortsUnderTest>;
}

/** Registers the conformance tests of one store's JournalWriter. */
export function runJournalWriterSuite({ create, openReadonly }: JournalWriterSuiteOptions): void {
  const key = generateKeyPair();

  describe("JournalWriter conformance", () => {
    it(
      "refuses a duplicate receipt or ingress key and a bad body with typed errors; a refused batch changes nothing",
      withStore(create, async (j) => {
        await appendIndexed(j, key);
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
      "checkpoints with a key and state provider; without a key it is refused",
      withStore(create, async (j) => {
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
      withStore(
        create,
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
      withStore(
        create,
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

    it("a read-only store reads what was written and refuses every write with journal.readonly", async () => {
      const w = await create();
      await w.append("genesis", genesisBody(key));
      const blob = w.putBlobSync(Uint8Array.of(7));
      await w.append("event", eventBody(1));
      await w.close();
      const r = await openReadonly(w);
      try {
        expect([r.readonly, r.countSync(), r.hasBlobSync(blob)]).toEqual([true, 2, true]);
        const writes: [string, () => Promise<unknown>][] = [
          ["append", () => r.append("event", eventBody(2))],
          ["appendMany", () => r.appendMany(ev(2, 2))],
          ["checkpoint", () => r.checkpoint(key, fixedState)],
          ["erase", () => r.erase(blob, "gone")],
          ["putBlobSync", async () => r.putBlobSync(Uint8Array.of(8))],
        ];
        const got: string[] = [];
        for (const [name, fn] of writes) got.push(`${name}: ${await codeOfAsync(Promise.resolve().then(fn))}`);
        expect(got).toEqual(writes.map(([name]) => `${name}: journal.readonly`));
        expect(r.countSync()).toBe(2);
      } finally {
        await r.close();
      }
    });
  });
}
