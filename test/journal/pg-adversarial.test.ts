/**
 * @module Tampering with a world in PostgreSQL is found, as tamper.test.ts finds it in SQLite:
 * an attacker with database (super)user access and no keys (pg-attacker.ts) flips a body byte,
 * deletes a row, swaps rows, forges or edits a checkpoint, edits a Merkle node row, re-chains a
 * suffix (caught by a later signed checkpoint or an exported anchor) and substitutes blob bytes
 * (`journal.blob_hash_mismatch` on read). `verifyJournal` names the fault and the seq, reading
 * the database through `PgJournalStore` and through `PgWorldJournal` (whose mirror is loaded
 * from the same rows). Without turning the triggers off, UPDATE, DELETE and TRUNCATE are refused
 * (WK002). One receipt per intent holds against the database: a direct INSERT, a second writer
 * calling the append function itself, and two concurrent transactions.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { encodeStored, type CborValue } from "../../air/index.js";
import { generateKeyPair, type KeyPair } from "../../kernel/crypto/keys.js";
import { exportAnchor, type Anchor } from "../../kernel/journal/anchor.js";
import { signCheckpoint } from "../../kernel/journal/checkpoint.js";
import type { CheckpointBody } from "../../kernel/journal/entries.js";
import { entryHash } from "../../kernel/journal/entry-hash.js";
import { PgJournalStore } from "../../kernel/journal/pg-store.js";
import { PgWorldJournal } from "../../kernel/journal/pg-world-journal.js";
import { nodeKey } from "../../kernel/journal/sqlite-merkle.js";
import { verifyJournal, type VerifyResult } from "../../kernel/journal/verify.js";
import { codeOf, codeOfAsync, eventBody, fixedState, genesisBody } from "./helpers.js";
import { rechainPg, tamperPg } from "./pg-attacker.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);

const E = "worldkernel.entries";

describe.skipIf(url === null)(
  "tampering with a PostgreSQL journal (skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)",
  () => {
    let raw: pg.Client;
    beforeAll(async () => {
      raw = new pg.Client({ connectionString: url! });
      await raw.connect();
    });
    afterAll(async () => {
      await raw?.end();
    });

    /** genesis + 30 events with a checkpoint every 10 (at seq 10, 20, 30), as tamper.test.ts builds it. */
    async function world(): Promise<{ id: string; key: KeyPair }> {
      const id = `tamper-${randomUUID()}`;
      const key = generateKeyPair();
      const s = await PgJournalStore.open(url!, id, {
        create: true,
        checkpointEvery: 10,
        worldKey: key,
        stateProvider: fixedState,
      });
      await s.append("genesis", genesisBody(key));
      for (let i = 0; i < 30; i++) await s.append("event", eventBody(i));
      await s.close();
      return { id, key };
    }

    /** What verify finds reading the database, through both stores; they must agree. */
    async function verified(id: string, anchor?: Anchor): Promise<VerifyResult> {
      const opts = anchor === undefined ? {} : { anchor };
      const db = await PgJournalStore.open(url!, id, { readonly: true });
      const a = await verifyJournal(db, opts).finally(() => db.close());
      const wj = await PgWorldJournal.open(url!, id, { readonly: true });
      const b = await verifyJournal(wj, opts).finally(() => wj.close());
      expect(b, "PgWorldJournal and PgJournalStore verify alike").toEqual(a);
      return a;
    }

    const rewriteEvent = (target: number) => (seq: number, kind: string, body: CborValue) =>
      seq === target && kind === "event"
        ? ({ ...(body as object), value: { n: 1_000_000, note: "rewritten history" } } as CborValue)
        : null;

    it("an untouched world verifies; without the triggers off, UPDATE, DELETE and TRUNCATE are refused (WK002)", async () => {
      const { id } = await world();
      expect(await verified(id)).toEqual({ ok: true, entries: 34, checkpoints: 3 });
      const refused = (sql: string) =>
        raw.query(sql, sql.includes("$1") ? [id] : []).then(
          () => "no error",
          (e: { code?: string }) => e.code,
        );
      const w = "WHERE world_id = $1";
      expect(
        await Promise.all([
          refused(`UPDATE ${E} SET body = body ${w} AND seq = 5`),
          refused(`DELETE FROM ${E} ${w} AND seq = 33`),
          refused(`TRUNCATE ${E}`),
          refused(`DELETE FROM worldkernel.merkle ${w}`),
          refused(`UPDATE worldkernel.receipts SET seq = 0 ${w}`),
          refused(`DELETE FROM worldkernel.ingress_keys ${w}`),
        ]),
      ).toEqual(Array(6).fill("WK002"));
      expect(await verified(id)).toEqual({ ok: true, entries: 34, checkpoints: 3 });
    });

    it("a flipped byte in a body → hash_mismatch at that seq", async () => {
      const { id } = await world();
      await tamperPg(raw, async (c) => {
        const body = (await c.query<{ body: Buffer }>(`SELECT body FROM ${E} WHERE world_id = $1 AND seq = 5`, [id]))
          .rows[0]!.body;
        body[body.length - 2]! ^= 0x01;
        await c.query(`UPDATE ${E} SET body = $2 WHERE world_id = $1 AND seq = 5`, [id, body]);
      });
      expect(await verified(id)).toMatchObject({ ok: false, first_bad_seq: 5, fault: "hash_mismatch", entries: 5 });
    });

    it("a deleted row → seq_gap at the missing seq", async () => {
      const { id } = await world();
      await tamperPg(raw, (c) => c.query(`DELETE FROM ${E} WHERE world_id = $1 AND seq = 7`, [id]).then(() => {}));
      expect(await verified(id)).toMatchObject({ ok: false, first_bad_seq: 7, fault: "seq_gap" });
    });

    it("two rows swapped → bad_prev_hash at the first of them", async () => {
      const { id } = await world();
      await tamperPg(raw, async (c) => {
        const cols = "kind, body, prev_hash, hash";
        const get = async (seq: number) =>
          (await c.query(`SELECT ${cols} FROM ${E} WHERE world_id = $1 AND seq = $2`, [id, seq])).rows[0] as Record<
            string,
            unknown
          >;
        const [a, b] = [await get(12), await get(13)];
        const put = (seq: number, r: Record<string, unknown>) =>
          c.query(`UPDATE ${E} SET kind = $3, body = $4, prev_hash = $5, hash = $6 WHERE world_id = $1 AND seq = $2`, [
            id,
            seq,
            r.kind,
            r.body,
            r.prev_hash,
            r.hash,
          ]);
        await put(12, b);
        await put(13, a);
      });
      expect(await verified(id)).toMatchObject({ ok: false, first_bad_seq: 12, fault: "bad_prev_hash" });
    });

    it("a forged checkpoint signature (suffix re-chained so the hashes hold) → bad_signature", async () => {
      const { id } = await world();
      await rechainPg(raw, id, 20, (seq, _kind, body) => {
        if (seq !== 20) return null;
        const cp = body as CheckpointBody;
        const sig = Uint8Array.from(cp.signature);
        sig[10]! ^= 0x80;
        return { ...cp, signature: sig } as unknown as CborValue;
      });
      expect(await verified(id)).toMatchObject({ ok: false, first_bad_seq: 20, fault: "bad_signature" });
    });

    it("an edited checkpoint: a changed root → checkpoint_mismatch; a changed state root → bad_signature", async () => {
      const a = await world();
      await rechainPg(raw, a.id, 10, (seq, _k, body) =>
        seq === 10 ? ({ ...(body as CheckpointBody), root: new Uint8Array(32).fill(7) } as unknown as CborValue) : null,
      );
      expect(await verified(a.id)).toMatchObject({ ok: false, first_bad_seq: 10, fault: "checkpoint_mismatch" });
      const b = await world();
      await rechainPg(raw, b.id, 10, (seq, _k, body) =>
        seq === 10
          ? ({ ...(body as CheckpointBody), state_root: `sha256:${"ee".repeat(32)}` } as unknown as CborValue)
          : null,
      );
      expect(await verified(b.id)).toMatchObject({ ok: false, first_bad_seq: 10, fault: "bad_signature" });
    });

    it("an edited Merkle node row (proofs are served from it) → tree_mismatch at the last entry it covers", async () => {
      const { id } = await world();
      await tamperPg(raw, (c) =>
        c
          .query("UPDATE worldkernel.merkle SET hash = $3 WHERE world_id = $1 AND node = $2", [
            id,
            nodeKey(4, 1),
            Buffer.alloc(32, 9),
          ])
          .then(() => {}),
      );
      const db = await PgJournalStore.open(url!, id, { readonly: true });
      try {
        expect(await verifyJournal(db)).toMatchObject({ ok: false, first_bad_seq: 31, fault: "tree_mismatch" });
      } finally {
        await db.close();
      }
    });

    // PgWorldJournal.nodeAt reads the database's rows (the mirror's are rebuilt from the entry
    // hashes on open), so verifying through it audits the nodes inclusion proofs are served from.
    it("an edited Merkle node row is found through PgWorldJournal too", async () => {
      const { id } = await world();
      await tamperPg(raw, (c) =>
        c
          .query("UPDATE worldkernel.merkle SET hash = $3 WHERE world_id = $1 AND node = $2", [
            id,
            nodeKey(4, 1),
            Buffer.alloc(32, 9),
          ])
          .then(() => {}),
      );
      const wj = await PgWorldJournal.open(url!, id, { readonly: true });
      try {
        expect(await verifyJournal(wj)).toMatchObject({ ok: false, first_bad_seq: 31, fault: "tree_mismatch" });
      } finally {
        await wj.close();
      }
    });

    describe("the re-chain attack", () => {
      it("is invisible to the chain alone: a rewritten suffix with no checkpoint after it verifies", async () => {
        const { id } = await world();
        await rechainPg(raw, id, 31, rewriteEvent(31));
        expect(await verified(id)).toMatchObject({ ok: true, entries: 34 });
      });

      it("is caught by a later signed checkpoint that still holds the old root → checkpoint_mismatch there", async () => {
        const { id } = await world();
        await rechainPg(raw, id, 15, rewriteEvent(15));
        expect(await verified(id)).toMatchObject({ ok: false, first_bad_seq: 20, fault: "checkpoint_mismatch" });
      });

      it("is caught when the attacker re-signs the checkpoints with a key of its own → bad_signature", async () => {
        const { id } = await world();
        const mallory = generateKeyPair();
        await rechainPg(raw, id, 15, (seq, kind, body, ctx) =>
          kind === "checkpoint"
            ? (signCheckpoint(
                { tree_size: ctx.size, root: ctx.root, head_hash: ctx.prev, ...fixedState() },
                mallory,
              ) as unknown as CborValue)
            : rewriteEvent(15)(seq, kind, body),
        );
        expect(await verified(id)).toMatchObject({ ok: false, first_bad_seq: 20, fault: "bad_signature" });
      });

      it("is caught by an exported anchor even where no checkpoint follows the rewrite → anchor_mismatch", async () => {
        const { id, key } = await world();
        const s = await PgJournalStore.open(url!, id, { worldKey: key });
        const anchor = await exportAnchor(s);
        expect(anchor.seq).toBe(30);
        await s.append("event", eventBody(31));
        await s.close();
        expect(await verified(id, anchor)).toMatchObject({ ok: true });
        // Everything from seq 25 rewritten, the checkpoint at 30 turned into an event: no signature left to fail.
        await rechainPg(raw, id, 25, (seq, kind, body) =>
          seq === 30
            ? { kind: "event", body: eventBody(30) as unknown as CborValue }
            : rewriteEvent(25)(seq, kind, body),
        );
        expect(await verified(id)).toMatchObject({ ok: true, checkpoints: 2 });
        expect(await verified(id, anchor)).toMatchObject({ ok: false, first_bad_seq: 29, fault: "anchor_mismatch" });
      });

      it("is caught by an anchor even when the whole log is rewritten under a new world key → anchor_mismatch at genesis", async () => {
        const { id } = await world();
        const s = await PgJournalStore.open(url!, id, { readonly: true });
        const anchor = await exportAnchor(s, 20);
        await s.close();
        const mallory = generateKeyPair();
        await rechainPg(raw, id, 0, (seq, kind, body, ctx) => {
          if (kind === "genesis") return genesisBody(mallory) as unknown as CborValue;
          if (kind === "checkpoint")
            return signCheckpoint(
              { tree_size: ctx.size, root: ctx.root, head_hash: ctx.prev, ...fixedState() },
              mallory,
            ) as unknown as CborValue;
          return rewriteEvent(15)(seq, kind, body);
        });
        expect(await verified(id)).toMatchObject({ ok: true, checkpoints: 3 });
        expect(await verified(id, anchor)).toMatchObject({ ok: false, first_bad_seq: 0, fault: "anchor_mismatch" });
      });

      it("a truncated log is caught by an anchor that covers more than remains", async () => {
        const { id } = await world();
        const s = await PgJournalStore.open(url!, id, { readonly: true });
        const anchor = await exportAnchor(s, 30);
        await s.close();
        await tamperPg(raw, (c) => c.query(`DELETE FROM ${E} WHERE world_id = $1 AND seq >= 25`, [id]).then(() => {}));
        await rechainPg(raw, id, 0, () => null);
        expect(await verified(id)).toMatchObject({ ok: true, entries: 25 });
        expect(await verified(id, anchor)).toMatchObject({ ok: false, first_bad_seq: 25, fault: "anchor_mismatch" });
      });
    });

    it("substituted blob bytes are journal.blob_hash_mismatch on read, never returned", async () => {
      const { id, key } = await world();
      const w = await PgWorldJournal.open(url!, id, { worldKey: key });
      const a = w.putBlobSync(new TextEncoder().encode("the real bytes"));
      const b = w.putBlobSync(new TextEncoder().encode("other bytes"));
      await w.append("event", { ...eventBody(40), value: { a, b } });
      await w.close();
      // The blobs table is the CAS, not history: no trigger guards it, so no bypass is needed.
      await raw.query("UPDATE worldkernel.blobs SET bytes = $3 WHERE world_id = $1 AND hash = $2", [
        id,
        Buffer.from(a.slice(7), "hex"),
        Buffer.from("forged bytes"),
      ]);
      const db = await PgJournalStore.open(url!, id, { readonly: true });
      const wj = await PgWorldJournal.open(url!, id, { readonly: true });
      try {
        const err = await db.getBlob(a).catch((e: unknown) => e as { code: string; expected: string });
        expect(err).toMatchObject({ code: "journal.blob_hash_mismatch", expected: a });
        expect(await codeOfAsync(wj.getBlob(a))).toBe("journal.blob_hash_mismatch");
        expect(codeOf(() => wj.getBlobSync(a))).toBe("journal.blob_hash_mismatch");
        expect(Buffer.from(wj.getBlobSync(b)).toString()).toBe("other bytes");
        expect(await verifyJournal(db)).toMatchObject({ ok: true }); // the chain itself is intact
      } finally {
        await db.close();
        await wj.close();
      }
    });

    describe("receipts are unique per intent, by the database's constraint", () => {
      const receipt = (intent: string) => ({ kind: "effect_receipt" as const, body: { intent_id: intent } });
      const receiptRows = async (id: string) =>
        (
          await raw.query<{ intent_id: string; seq: string }>(
            "SELECT intent_id, seq FROM worldkernel.receipts WHERE world_id = $1 ORDER BY seq",
            [id],
          )
        ).rows.map((r) => `${r.intent_id}@${r.seq}`);

      it("a second receipt is refused and nothing of its batch is written; a receipt inserted directly blocks the writer's", async () => {
        const id = `rcpt-${randomUUID()}`;
        const j = await PgWorldJournal.open(url!, id, { create: true });
        try {
          await j.append("genesis", genesisBody(generateKeyPair()));
          await j.append("effect_receipt", { intent_id: "sha256:aa" });
          expect(j.receiptSeq("sha256:aa")).toBe(1);
          expect(await codeOfAsync(j.appendMany([receipt("sha256:bb"), receipt("sha256:aa")]))).toBe(
            "journal.duplicate_receipt",
          );
          expect([j.countSync(), await j.count(), j.receiptSeq("sha256:bb")]).toEqual([2, 2, null]);
          expect(await receiptRows(id)).toEqual(["sha256:aa@1"]);
          // A receipt row inserted behind the writer's back, for an intent its mirror has never seen:
          await raw.query("INSERT INTO worldkernel.receipts (world_id, intent_id, seq) VALUES ($1, 'sha256:cc', 1)", [
            id,
          ]);
          const events = Array.from({ length: 5 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) }));
          const err = await j.appendMany([...events, receipt("sha256:cc")]).catch((e: unknown) => e);
          expect(err).toMatchObject({ code: "journal.duplicate_receipt", seq: 7 });
          expect([j.countSync(), await j.count()]).toEqual([2, 2]);
          expect(
            await raw
              .query("INSERT INTO worldkernel.receipts (world_id, intent_id, seq) VALUES ($1, 'sha256:aa', 9)", [id])
              .then(
                () => "no error",
                (e: { code?: string; constraint?: string }) => `${e.code} ${e.constraint}`,
              ),
          ).toBe("23505 receipts_pkey");
          expect((await j.append("effect_receipt", { intent_id: "sha256:bb" })).seq).toBe(2);
          expect(await receiptRows(id)).toEqual(["sha256:aa@1", "sha256:cc@1", "sha256:bb@2"]);
          expect(await verifyJournal(j)).toMatchObject({ ok: true, entries: 3 });
        } finally {
          await j.close();
        }
      });

      it("a second writer that calls the append function itself cannot add a second receipt", async () => {
        const id = `rcpt-${randomUUID()}`;
        const s = await PgJournalStore.open(url!, id, { create: true });
        await s.append("genesis", genesisBody(generateKeyPair()));
        await s.append("effect_receipt", { intent_id: "sha256:aa" });
        const head = (await s.head())!;
        await s.close();
        // A well-formed, correctly chained entry at the head: only the receipts key refuses it.
        const body = encodeStored({ intent_id: "sha256:aa" });
        const hash = entryHash(head.hash, 2, "effect_receipt", body);
        const append = (intents: string[]) =>
          raw
            .query(
              `SELECT worldkernel.append_entries($1, NULL, 2, $2, ARRAY['effect_receipt'], ARRAY[$3::bytea], ARRAY[$4::bytea],
               '{}', '{}', $5::text[], ARRAY[2]::bigint[], '{}', '{}', '{}')`,
              [id, head.hash, body, hash, intents],
            )
            .then(
              () => "no error",
              (e: { code?: string; constraint?: string }) => `${e.code} ${e.constraint}`,
            );
        expect(await append(["sha256:aa"])).toBe("23505 receipts_pkey");
        const r = await PgJournalStore.open(url!, id, { readonly: true });
        try {
          expect(await r.count()).toBe(2);
          expect(await receiptRows(id)).toEqual(["sha256:aa@1"]);
          expect(await verifyJournal(r)).toMatchObject({ ok: true, entries: 2 });
        } finally {
          await r.close();
        }
      });

      it("of two concurrent transactions inserting a receipt for one intent, the second fails once the first commits", async () => {
        const id = `rcpt-${randomUUID()}`;
        const other = new pg.Client({ connectionString: url! });
        await other.connect();
        try {
          const otherPid = (await other.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
          const insert = "INSERT INTO worldkernel.receipts (world_id, intent_id, seq) VALUES ($1, 'sha256:dd', $2)";
          await raw.query("BEGIN");
          await raw.query(insert, [id, 1]);
          const second = other.query(insert, [id, 2]).then(
            () => "no error",
            (e: { code?: string; constraint?: string }) => `${e.code} ${e.constraint}`,
          );
          // Poll the server until the second insert is really waiting on the first one's row lock.
          for (let waiting = false; !waiting;) {
            const q = await raw.query<{ w: string | null }>(
              "SELECT wait_event_type AS w FROM pg_stat_activity WHERE pid = $1",
              [otherPid],
            );
            waiting = q.rows[0]?.w === "Lock";
          }
          await raw.query("COMMIT");
          expect(await second).toBe("23505 receipts_pkey");
          expect(await receiptRows(id)).toEqual(["sha256:dd@1"]);
        } finally {
          await raw.query("ROLLBACK").catch(() => undefined);
          await other.end();
        }
      });
    });
  },
);
