/**
 * @module Tampering is found, with the right seq and fault: a flipped body byte, a deleted
 * row, two rows swapped, a forged or edited checkpoint, a doctored Merkle table, and the
 * re-chain attack (a whole suffix rewritten with recomputed hashes and tree), which the
 * chain alone cannot see but a signed checkpoint or an exported anchor catches. Each case
 * runs with the hashing inline and on a chain lane's worker thread.
 */
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeStored, fromHex, toHex, type CborValue } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { exportAnchor } from "../../kernel/journal/anchor.js";
import { signCheckpoint } from "../../kernel/journal/checkpoint.js";
import type { CheckpointBody } from "../../kernel/journal/entries.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { nodeKey } from "../../kernel/journal/sqlite-merkle.js";
import {
  verifyJournal as verifyOn,
  type DecodedEntry,
  type EntryCheckContext,
  type VerifyOptions,
} from "../../kernel/journal/verify.js";
import { rechain, tamper } from "./attacker.js";
import { eventBody, fixedState, genesisBody, makeJournal, tempDir } from "./helpers.js";

/** genesis + 30 events with a checkpoint every 10: checkpoints land at seq 10, 20, 30. */
function world(): { path: string; checkpoints: number[] } {
  const { dir } = tempDir();
  const path = join(dir, "journal.db");
  const { store } = makeJournal(path, 30, { every: 10 });
  const checkpoints = [...store.iterateSync()].filter((e) => e.kind === "checkpoint").map((e) => e.seq);
  store.closeSync();
  return { path, checkpoints };
}

// Every case runs with the walk's hashing on this thread and on a worker (chain-lane.ts); a
// chain lane checks no anchor, so walks held to one stay on this thread.
describe.each(["inline", "worker"] as const)("verify finds tampering (hashing %s)", (lane) => {
  const verifyJournal = (path: string, opts: VerifyOptions = {}) =>
    verifyOn(path, { lane: opts.anchor === undefined ? lane : "inline", ...opts });

  it("an untouched journal verifies", async () => {
    const { path, checkpoints } = world();
    expect(checkpoints).toEqual([10, 20, 30]);
    expect(await verifyJournal(path)).toEqual({ ok: true, entries: 34, checkpoints: 3 });
  });

  it("a flipped byte in a body → hash_mismatch at that seq", async () => {
    const { path } = world();
    tamper(path, (db) => {
      const body = db.prepare("SELECT body FROM entries WHERE seq = 5").pluck().get() as Buffer;
      body[body.length - 2]! ^= 0x01;
      db.prepare("UPDATE entries SET body = ? WHERE seq = 5").run(body);
    });
    expect(await verifyJournal(path)).toMatchObject({
      ok: false,
      first_bad_seq: 5,
      fault: "hash_mismatch",
      entries: 5,
    });
  });

  it("a deleted row → seq_gap at the missing seq", async () => {
    const { path } = world();
    tamper(path, (db) => db.prepare("DELETE FROM entries WHERE seq = 7").run());
    expect(await verifyJournal(path)).toMatchObject({ ok: false, first_bad_seq: 7, fault: "seq_gap" });
  });

  it("two rows swapped → bad_prev_hash at the first of them", async () => {
    const { path } = world();
    tamper(path, (db) => {
      const get = db.prepare("SELECT kind, body, prev_hash, hash FROM entries WHERE seq = ?");
      const a = get.get(12) as Record<string, unknown>;
      const b = get.get(13) as Record<string, unknown>;
      const put = db.prepare(
        "UPDATE entries SET kind = @kind, body = @body, prev_hash = @prev_hash, hash = @hash WHERE seq = @seq",
      );
      put.run({ ...b, seq: 12 });
      put.run({ ...a, seq: 13 });
    });
    expect(await verifyJournal(path)).toMatchObject({ ok: false, first_bad_seq: 12, fault: "bad_prev_hash" });
  });

  it("a forged checkpoint signature (suffix re-chained so the hashes hold) → bad_signature", async () => {
    const { path } = world();
    rechain(path, 20, (seq, kind, body) => {
      if (seq !== 20) return null;
      const cp = body as CheckpointBody;
      const sig = Uint8Array.from(cp.signature);
      sig[10]! ^= 0x80;
      return { ...cp, signature: sig } as unknown as CborValue;
    });
    expect(await verifyJournal(path)).toMatchObject({ ok: false, first_bad_seq: 20, fault: "bad_signature" });
  });

  it("an edited checkpoint: a changed root → checkpoint_mismatch; a changed state root → bad_signature", async () => {
    const a = world();
    rechain(a.path, 10, (seq, _k, body) =>
      seq === 10 ? ({ ...(body as CheckpointBody), root: new Uint8Array(32).fill(7) } as unknown as CborValue) : null,
    );
    expect(await verifyJournal(a.path)).toMatchObject({ ok: false, first_bad_seq: 10, fault: "checkpoint_mismatch" });
    const b = world();
    rechain(b.path, 10, (seq, _k, body) =>
      seq === 10
        ? ({ ...(body as CheckpointBody), state_root: `sha256:${"ee".repeat(32)}` } as unknown as CborValue)
        : null,
    );
    expect(await verifyJournal(b.path)).toMatchObject({ ok: false, first_bad_seq: 10, fault: "bad_signature" });
  });

  it("a doctored Merkle node (proofs are served from it) → tree_mismatch at the last entry it covers", async () => {
    const { path } = world();
    tamper(path, (db) =>
      db.prepare("UPDATE merkle SET hash = ? WHERE node = ?").run(Buffer.alloc(32, 9), nodeKey(4, 1)),
    );
    expect(await verifyJournal(path)).toMatchObject({ ok: false, first_bad_seq: 31, fault: "tree_mismatch" });
  });

  describe("the re-chain attack", () => {
    const rewriteEvent = (target: number) => (seq: number, kind: string, body: CborValue) =>
      seq === target && kind === "event"
        ? ({ ...(body as object), value: { n: 1_000_000, note: "rewritten history" } } as CborValue)
        : null;

    it("is invisible to the chain alone: a rewritten suffix with no checkpoint after it verifies", async () => {
      const { path } = world();
      rechain(path, 31, rewriteEvent(31));
      expect(await verifyJournal(path)).toMatchObject({ ok: true, entries: 34 });
    });

    it("is caught by a later signed checkpoint that still holds the old root → checkpoint_mismatch at that checkpoint", async () => {
      const { path } = world();
      rechain(path, 15, rewriteEvent(15));
      expect(await verifyJournal(path)).toMatchObject({ ok: false, first_bad_seq: 20, fault: "checkpoint_mismatch" });
    });

    it("is caught when the attacker re-signs the checkpoints with a key of its own → bad_signature", async () => {
      const { path } = world();
      const mallory = generateKeyPair();
      rechain(path, 15, (seq, kind, body, ctx) => {
        if (kind === "checkpoint")
          return signCheckpoint(
            { tree_size: ctx.size, root: ctx.root, head_hash: ctx.prev, ...fixedState() },
            mallory,
          ) as unknown as CborValue;
        return rewriteEvent(15)(seq, kind, body);
      });
      expect(await verifyJournal(path)).toMatchObject({ ok: false, first_bad_seq: 20, fault: "bad_signature" });
    });

    it("is caught by an exported anchor even where no checkpoint follows the rewrite → anchor_mismatch", async () => {
      const { dir } = tempDir();
      const path = join(dir, "journal.db");
      const { store, key } = makeJournal(path, 30, { every: 10 });
      const anchor = await exportAnchor(store);
      expect(anchor.seq).toBe(30);
      store.appendSync("event", eventBody(31));
      store.closeSync();
      expect(await verifyJournal(path, { anchor })).toMatchObject({ ok: true });
      // Rewrite everything from seq 25, including the checkpoint at 30, which the attacker
      // simply drops in favour of an event: no signature left to fail, chain and tree intact.
      rechain(path, 25, (seq, kind, body) =>
        seq === 30 ? (eventBody(30) as unknown as CborValue) : rewriteEvent(25)(seq, kind, body),
      );
      tamper(path, (db) => db.prepare("UPDATE entries SET kind = 'event' WHERE seq = 30").run());
      rechain(path, 30, () => null);
      const noAnchor = await verifyJournal(path);
      expect(noAnchor).toMatchObject({ ok: true, checkpoints: 2 });
      expect(await verifyJournal(path, { anchor })).toMatchObject({
        ok: false,
        first_bad_seq: 29,
        fault: "anchor_mismatch",
      });
      void key;
    });

    it("is caught by an anchor even when the whole log is rewritten under a new world key → anchor_mismatch at genesis", async () => {
      const { path } = world();
      const store = SqliteJournalStore.open(path, { readonly: true });
      const anchor = await exportAnchor(store, 20);
      store.closeSync();
      const mallory = generateKeyPair();
      rechain(path, 0, (seq, kind, body, ctx) => {
        if (kind === "genesis") return genesisBody(mallory) as unknown as CborValue;
        if (kind === "checkpoint")
          return signCheckpoint(
            { tree_size: ctx.size, root: ctx.root, head_hash: ctx.prev, ...fixedState() },
            mallory,
          ) as unknown as CborValue;
        return rewriteEvent(15)(seq, kind, body);
      });
      expect(await verifyJournal(path)).toMatchObject({ ok: true, checkpoints: 3 });
      expect(await verifyJournal(path, { anchor })).toMatchObject({
        ok: false,
        first_bad_seq: 0,
        fault: "anchor_mismatch",
      });
    });

    it("a truncated log is caught by an anchor that covers more than remains", async () => {
      const { path } = world();
      const store = SqliteJournalStore.open(path, { readonly: true });
      const anchor = await exportAnchor(store, 30);
      store.closeSync();
      tamper(path, (db) => {
        db.prepare("DELETE FROM entries WHERE seq >= 25").run();
        db.prepare("DELETE FROM merkle").run();
      });
      rechain(path, 0, () => null);
      expect(await verifyJournal(path)).toMatchObject({ ok: true, entries: 25 });
      expect(await verifyJournal(path, { anchor })).toMatchObject({
        ok: false,
        first_bad_seq: 25,
        fault: "anchor_mismatch",
      });
    });
  });

  it("property: any one-bit flip in any stored column of any entry is caught at that entry", async () => {
    const base = world();
    const { dir } = tempDir();
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 33 }),
        fc.constantFrom("body", "prev_hash", "hash"),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (seq, column, at, bit) => {
          const path = join(dir, `flip-${n++}.db`);
          copyFileSync(base.path, path);
          tamper(path, (db) => {
            const v = db.prepare(`SELECT ${column} FROM entries WHERE seq = ?`).pluck().get(seq) as Buffer;
            v[at % v.length]! ^= 1 << bit;
            db.prepare(`UPDATE entries SET ${column} = ? WHERE seq = ?`).run(v, seq);
          });
          const r = await verifyJournal(path);
          return (
            !r.ok && r.first_bad_seq === seq && r.fault === (column === "prev_hash" ? "bad_prev_hash" : "hash_mismatch")
          );
        },
      ),
      { numRuns: 40 },
    );
  });

  it("an anchor signed over the same tree but another state root (a key holder's second story) → anchor_mismatch at its seq", async () => {
    const { dir } = tempDir();
    const path = join(dir, "journal.db");
    const { store, key } = makeJournal(path, 30, { every: 10 });
    const anchor = await exportAnchor(store, 20);
    store.closeSync();
    const cp = signCheckpoint(
      {
        tree_size: anchor.tree_size,
        root: fromHex(anchor.root),
        head_hash: fromHex(anchor.head_hash),
        state_root: `sha256:${"7".repeat(64)}` as const,
        manifest_hash: anchor.manifest_hash,
      },
      key,
    );
    const other = { ...anchor, state_root: cp.state_root as typeof anchor.state_root, signature: toHex(cp.signature) };
    expect(await verifyJournal(path, { anchor })).toMatchObject({ ok: true });
    expect(await verifyJournal(path, { anchor: other })).toMatchObject({
      ok: false,
      fault: "anchor_mismatch",
      first_bad_seq: 20,
    });
  });

  it("a forged anchor (bad signature) is refused outright", async () => {
    const { path } = world();
    const store = SqliteJournalStore.open(path, { readonly: true });
    const anchor = await exportAnchor(store);
    store.closeSync();
    await expect(verifyJournal(path, { anchor: { ...anchor, root: "00".repeat(32) } })).rejects.toMatchObject({
      code: "journal.bad_anchor",
    });
  });

  it("checks of meaning are passed explicitly and report their own fault; a stateful checker's finish runs last", async () => {
    const { path } = world();
    const only = await verifyJournal(path, {
      checks: [(e) => (e.seq === 17 ? { fault: "bad_receipt", message: "receipt signature does not verify" } : null)],
    });
    expect(only).toMatchObject({ ok: false, first_bad_seq: 17, fault: "bad_receipt" });
    const policy = (e: DecodedEntry, ctx: EntryCheckContext) =>
      e.kind === "event" &&
      ctx.genesis.world_id === "world-1" &&
      (decodeStored(e.body) as { value: { n: number } }).value.n === 3
        ? { fault: "policy", message: "n = 3 is not allowed" }
        : null;
    expect(await verifyJournal(path, { checks: [policy] })).toMatchObject({
      ok: false,
      first_bad_seq: 4,
      fault: "policy",
    });
    let seen = 0;
    const counting = {
      check: () => (seen++, null),
      finish: () => ({ fault: "counted", message: `${seen} entries`, seq: 2 }),
    };
    expect(await verifyJournal(path, { checks: [counting] })).toMatchObject({
      ok: false,
      first_bad_seq: 2,
      fault: "counted",
      message: "34 entries",
    });
    // Nothing is remembered between runs: without checks, the same journal verifies.
    expect((await verifyJournal(path)).ok).toBe(true);
  });

  it("a sealed head is required on request: entries after the last checkpoint are uncovered_tail", async () => {
    const { path } = world();
    expect(await verifyJournal(path, { requireSealedHead: true })).toMatchObject({
      ok: false,
      fault: "uncovered_tail",
      first_bad_seq: 31,
    });
  });
});
