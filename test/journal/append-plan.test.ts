/**
 * @module The append rules as a pure function (kernel/journal/append-plan.ts), without a
 * store: every refusal with its code and message, the rows a plan lists, the automatic
 * checkpoint at the cadence crossing, duplicates within one batch, and the tip untouched by
 * a refused plan (and by an accepted one: only the store adopts `next`, on commit); and one plan
 * executed by a second store (`applyPlanSync`, how PostgreSQL's read mirror follows its database)
 * leaves the same rows as the store that planned it, refused unless it extends that store's head.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored } from "../../air/cbor/decode.js";
import type { HashText } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import {
  planAppend,
  tipCheckpoint,
  tipState,
  type AppendPlan,
  type AutoCheckpoint,
  type Tip,
} from "../../kernel/journal/append-plan.js";
import { ZERO_STATE_ROOT } from "../../kernel/journal/checkpoint.js";
import type { CheckpointBody } from "../../kernel/journal/entries.js";
import { entryHash, ZERO_HASH } from "../../kernel/journal/entry-hash.js";
import { signKeysEntry } from "../../kernel/journal/keys-entry.js";
import { MerkleFrontier, nodeKey } from "../../kernel/journal/merkle.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import type { AppendInput } from "../../kernel/journal/store.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { codeOf, eventBody, fixedState, genesisBody, MANIFEST, STATE, tempDir } from "./helpers.js";

const key = generateKeyPair();
const other = generateKeyPair();
const WHERE = "test:plan";
const h = (c: string): HashText => `sha256:${c.repeat(64)}`;
const none: AutoCheckpoint = { every: undefined, signer: undefined, state: undefined };
const empty = (): Tip => ({ tree: new MerkleFrontier(), head: ZERO_HASH, genesis: undefined, state: undefined });
const ev = (from: number, n: number): AppendInput[] =>
  Array.from({ length: n }, (_, i) => ({ kind: "event" as const, body: eventBody(from + i) }));
const ingress = (i: number, k: string) => ({
  ...eventBody(i),
  origin: { kind: "ingress", idempotency_key: k, request_hash: h(String(i % 10)) },
});
const receipt = (intent: string): AppendInput => ({ kind: "effect_receipt", body: { intent_id: intent } });
const snapshot = (c: string) => ({ state_root: h(c), cells_ref: h("e"), height: 1, manifest_hash: MANIFEST });

/** A tip with genesis and `n` events (planned, as a store would have committed them). */
function tipOf(n: number): Tip {
  return planAppend(empty(), [{ kind: "genesis", body: genesisBody(key) }, ...ev(1, n)], none, WHERE).next;
}

/** Everything a plan could change in a tip, as plain values. */
const look = (t: Tip) => ({
  size: t.tree.size,
  root: Buffer.from(t.tree.root()).toString("hex"),
  head: Buffer.from(t.head).toString("hex"),
  genesis: t.genesis,
  state: t.state,
});

/** The refusal `planAppend` throws, as {code, seq, message}; asserts the tip is exactly as it was. */
function refusal(tip: Tip, items: readonly AppendInput[], auto: AutoCheckpoint = none) {
  const before = look(tip);
  const tree = tip.tree;
  let err: { code?: string; seq?: number; message: string } | undefined;
  try {
    planAppend(tip, items, auto, WHERE);
  } catch (e) {
    err = e as typeof err;
  }
  expect(look(tip)).toEqual(before);
  expect(tip.tree).toBe(tree);
  if (err === undefined) throw new Error("the plan was not refused");
  // The message as the rule words it, without the " (where, seq n)" JournalError appends.
  return { code: err.code, seq: err.seq, message: err.message.replace(/ \((test:plan|seq \d+)(, seq \d+)?\)$/, "") };
}

describe("planAppend: refusals (the store's typed errors, tip unchanged)", () => {
  it("genesis first and only first: journal.bad_sequence", () => {
    expect(refusal(empty(), ev(0, 1))).toMatchObject({
      code: "journal.bad_sequence",
      message: "the first entry must be genesis, not event",
    });
    expect(refusal(tipOf(2), [{ kind: "genesis", body: genesisBody(key) }])).toMatchObject({
      code: "journal.bad_sequence",
      seq: 3,
      message: "genesis may only be the first entry",
    });
  });

  it("a body its kind's schema refuses: journal.bad_body, before any entry is planned", () => {
    const r = refusal(tipOf(1), [...ev(2, 3), { kind: "event", body: {} }]);
    expect(r).toMatchObject({ code: "journal.bad_body", seq: 5 });
  });

  it("a genesis whose world key is not the signer's: journal.wrong_key", () => {
    expect(refusal(empty(), [{ kind: "genesis", body: genesisBody(key) }], { ...none, signer: other })).toMatchObject({
      code: "journal.wrong_key",
    });
  });

  it("a keys entry not signed by the world key at its seq: journal.bad_body", () => {
    const tip = tipOf(2);
    const keys = [{ id: "a", public_key: other.publicKey }];
    for (const body of [signKeysEntry("world-1", 3, keys, other), signKeysEntry("world-1", 4, keys, key)])
      expect(refusal(tip, [{ kind: "keys", body }])).toMatchObject({
        code: "journal.bad_body",
        seq: 3,
        message: "keys entry: signature does not verify with the world key",
      });
    expect(
      planAppend(tip, [{ kind: "keys", body: signKeysEntry("world-1", 3, keys, key) }], none, WHERE).appended,
    ).toHaveLength(1);
  });

  it("a checkpoint that does not attest exactly the entries before it, or is not the world key's: journal.bad_body", () => {
    const tip = tipOf(5);
    const good = tipCheckpoint(tip, key, fixedState());
    // The fields are checked in order (size, head, root, signature), so each case names its own.
    const wrong = (b: Partial<CheckpointBody>): CheckpointBody => ({ ...good, ...b });
    const cases: [CheckpointBody, string][] = [
      [wrong({ tree_size: 5 }), "checkpoint tree_size 5 must equal its seq 6"],
      [wrong({ head_hash: new Uint8Array(32) }), "checkpoint head_hash is not the hash of the previous entry"],
      [wrong({ root: new Uint8Array(32) }), "checkpoint root is not the Merkle root of the entries before it"],
      [tipCheckpoint(tip, other, fixedState()), "checkpoint signature does not verify with the world key"],
      [{ ...good, state_root: h("9") }, "checkpoint signature does not verify with the world key"],
    ];
    for (const [body, message] of cases)
      expect(refusal(tip, [{ kind: "checkpoint", body }])).toEqual({ code: "journal.bad_body", seq: 6, message });
    expect(planAppend(tip, [{ kind: "checkpoint", body: good }], none, WHERE).next.tree.size).toBe(7);
  });

  it("a checkpoint or keys entry on a tip that has no genesis: journal.bad_sequence", () => {
    const t = { ...tipOf(1), genesis: undefined };
    const body = tipCheckpoint(t, key, fixedState());
    expect(refusal(t, [{ kind: "checkpoint", body }])).toMatchObject({
      code: "journal.bad_sequence",
      message: "journal has no genesis",
    });
    expect(() => tipState(t, WHERE)).toThrow(expect.objectContaining({ code: "journal.bad_sequence" }));
  });

  it("a second receipt for an intent within one batch: journal.duplicate_receipt naming both seqs", () => {
    const r = refusal(tipOf(1), [receipt("sha256:aa"), ...ev(3, 2), receipt("sha256:aa")]);
    expect(r).toEqual({
      code: "journal.duplicate_receipt",
      seq: 5,
      message: "intent sha256:aa already has its receipt at seq 2",
    });
  });

  it("a second ingress event under one idempotency key within one batch: journal.duplicate_ingress", () => {
    const r = refusal(tipOf(1), [
      { kind: "event", body: ingress(2, "order-1") },
      { kind: "event", body: ingress(3, "order-2") },
      { kind: "event", body: ingress(4, "order-1") },
    ]);
    expect(r).toEqual({
      code: "journal.duplicate_ingress",
      seq: 4,
      message: 'idempotency key "order-1" already names the event at seq 2',
    });
  });

  it("a refusal after an automatic checkpoint was due still leaves the tip as it was", () => {
    const auto: AutoCheckpoint = { every: 4, signer: key, state: fixedState };
    expect(refusal(tipOf(1), [...ev(2, 4), receipt("sha256:bb"), receipt("sha256:bb")], auto).code).toBe(
      "journal.duplicate_receipt",
    );
  });
});

describe("planAppend: the rows of an accepted append", () => {
  it("chains entries from the tip's head, lists nodes, receipts and ingress keys, and leaves the tip alone", () => {
    const tip = tipOf(10);
    const before = look(tip);
    const items: AppendInput[] = [
      ...ev(11, 3),
      receipt("sha256:cc"),
      { kind: "event", body: ingress(15, "order-9") },
      ...ev(16, 5),
    ];
    const p: AppendPlan = planAppend(tip, items, none, WHERE);
    expect(look(tip)).toEqual(before);
    expect(p.first).toBe(11);
    expect(p.prev).toBe(tip.head);
    let prev = tip.head;
    p.hashes.forEach((hash, i) => {
      expect(hash).toEqual(entryHash(prev, 11 + i, p.kinds[i]!, p.bodies[i]!));
      expect(decodeStored(p.bodies[i]!)).toEqual(items[i]!.body);
      prev = hash;
    });
    expect(p.appended.map((a) => a.seq)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    // Entries 0..15 complete the level-4 node (0, 0): the only stored node of this append.
    expect(p.nodes).toEqual([nodeKey(4, 0)]);
    expect([p.receipts, p.receiptSeqs]).toEqual([["sha256:cc"], [14]]);
    expect([p.ingress, p.ingressSeqs, p.ingressRequests]).toEqual([["order-9"], [15], [h("5")]]);
    expect(p.items).toBe(items);
    expect(look(p.next)).toMatchObject({ size: 21, head: Buffer.from(p.hashes[9]!).toString("hex") });
    // The same rows planned in two appends give the same tip.
    const a = planAppend(tip, items.slice(0, 4), none, WHERE).next;
    expect(look(planAppend(a, items.slice(4), none, WHERE).next)).toEqual(look(p.next));
  });

  it("tracks genesis and the latest snapshot's refs in the next tip", () => {
    const g = planAppend(empty(), [{ kind: "genesis", body: genesisBody(key) }], none, WHERE).next;
    expect(g.genesis?.world_id).toBe("world-1");
    expect(tipState(g, WHERE)).toEqual({ state_root: ZERO_STATE_ROOT, manifest_hash: MANIFEST });
    const s = planAppend(g, [{ kind: "snapshot", body: snapshot("7") }], none, WHERE).next;
    expect(s.state).toEqual({ state_root: h("7"), manifest_hash: MANIFEST });
  });
});

describe("planAppend: the automatic checkpoint", () => {
  const auto: AutoCheckpoint = { every: 4, signer: key, state: fixedState };

  it("is appended once, after the items, when the batch crosses a multiple of the cadence", () => {
    const tip = tipOf(1); // size 2
    const quiet = planAppend(tip, ev(2, 1), auto, WHERE);
    expect(quiet.kinds).toEqual(["event"]);
    const p = planAppend(tip, ev(2, 3), auto, WHERE); // 2 → 5 crosses 4
    expect(p.kinds).toEqual(["event", "event", "event", "checkpoint"]);
    expect(p.appended.at(-1)).toMatchObject({ seq: 5, kind: "checkpoint" });
    expect(p.items.map((x) => x.kind)).toEqual(p.kinds);
    const body = decodeStored(p.bodies[3]!) as unknown as CheckpointBody;
    expect(body).toMatchObject({ tree_size: 5, state_root: STATE, manifest_hash: MANIFEST });
    expect(Buffer.from(body.head_hash)).toEqual(Buffer.from(p.hashes[2]!));
    // A batch that crosses several multiples still gets one checkpoint.
    expect(planAppend(tip, ev(2, 9), auto, WHERE).kinds.filter((k) => k === "checkpoint")).toHaveLength(1);
  });

  it("attests the batch's own snapshot when the store has no state provider", () => {
    const p = planAppend(
      tipOf(1),
      [{ kind: "snapshot", body: snapshot("6") }, ...ev(3, 2)],
      { ...auto, state: undefined },
      WHERE,
    );
    const body = decodeStored(p.bodies.at(-1)!) as unknown as CheckpointBody;
    expect(body).toMatchObject({ tree_size: 5, state_root: h("6"), manifest_hash: MANIFEST });
    const q = planAppend(tipOf(1), ev(2, 3), { ...auto, state: undefined }, WHERE);
    expect(decodeStored(q.bodies.at(-1)!)).toMatchObject({ state_root: ZERO_STATE_ROOT });
  });
});

describe("one plan, two stores", () => {
  it("a store that executes another's plan (applyPlanSync) holds the same rows; a plan not extending its head is journal.corrupt", async () => {
    const dir = tempDir().dir;
    const planner = SqliteJournalStore.open(join(dir, "a.db"), { create: true });
    const follower = SqliteJournalStore.open(join(dir, "b.db"), { create: true });
    try {
      const first: AppendInput[] = [
        { kind: "genesis", body: genesisBody(key) },
        ...ev(1, 20),
        receipt("sha256:aa"),
        { kind: "event", body: ingress(22, "order-1") },
      ];
      const p1 = planAppend(empty(), first, none, WHERE);
      follower.applyPlanSync(p1);
      planner.appendManySync(first);
      const p2 = planAppend(p1.next, ev(23, 9), none, WHERE);
      follower.applyPlanSync(p2);
      planner.appendManySync(ev(23, 9));
      const rows = (s: SqliteJournalStore) => ({
        entries: [...s.iterateSync()].map((e) => Buffer.from(e.hash).toString("hex")),
        root: Buffer.from(s.rootSync()).toString("hex"),
        receipts: [...s.iterateReceiptIndexSync()],
        ingress: [...s.iterateIngressKeysSync()],
      });
      expect(rows(follower)).toEqual(rows(planner));
      expect(await verifyJournal(follower)).toMatchObject({ ok: true, entries: 32 });
      expect(codeOf(() => follower.applyPlanSync(p2))).toBe("journal.corrupt");
      expect(codeOf(() => follower.applyPlanSync(p1))).toBe("journal.corrupt");
      expect(follower.countSync()).toBe(32);
    } finally {
      planner.closeSync();
      follower.closeSync();
    }
  });
});
