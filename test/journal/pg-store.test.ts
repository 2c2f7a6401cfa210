/**
 * @module The PostgreSQL JournalStore on a real server (the private cluster of
 * test/pg/global-setup.ts): the conformance suite, then what only the database can show —
 * it refuses UPDATE, DELETE and TRUNCATE of entries itself, one receipt per intent is a
 * constraint, worlds sharing a database stay apart, a refused batch leaves no row, and a
 * second writer of a world is refused. Its roots and proofs match the RFC 9162 reference
 * (rfc9162-reference.ts) byte for byte.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { openPgJournalStore } from "../../kernel/journal/pg-store.js";
import { verifyJournal } from "../../kernel/journal/verify.js";
import { runJournalSuite } from "./journal.case.js";
import { expectStoreMatchesReference } from "./rfc9162-reference.js";
import { codeOfAsync, eventBody, genesisBody } from "./helpers.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);

const world = (): string => `test-${randomUUID()}`;
const create = (id = world()) => openPgJournalStore(url!, id, { create: true });

describe.skipIf(url === null)(
  "PostgreSQL journal store (skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)",
  () => {
    runJournalSuite({
      create: () => create(),
      reopen: async (s) => (await s.close(), openPgJournalStore(url!, s.worldId)),
    });

    const key = generateKeyPair();
    let raw: pg.Client;
    beforeAll(async () => {
      raw = new pg.Client({ connectionString: url! });
      await raw.connect();
    });
    afterAll(async () => {
      await raw?.end();
    });

    it("the database itself refuses UPDATE, DELETE and TRUNCATE of entries, Merkle nodes and receipts", async () => {
      const s = await create();
      try {
        await s.append("genesis", genesisBody(key));
        await s.appendMany(Array.from({ length: 20 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) })));
        await s.append("effect_receipt", { intent_id: "sha256:aa" });
        const refused = async (sql: string, values: unknown[] = []) =>
          raw.query(sql, values).then(
            () => "no error",
            (e: { code?: string }) => e.code,
          );
        const w = [s.worldId];
        expect(await refused("UPDATE worldkernel.entries SET kind = 'event' WHERE world_id = $1 AND seq = 1", w)).toBe(
          "WK002",
        );
        expect(await refused("DELETE FROM worldkernel.entries WHERE world_id = $1 AND seq = 21", w)).toBe("WK002");
        expect(await refused("TRUNCATE worldkernel.entries")).toBe("WK002");
        expect(await refused("UPDATE worldkernel.merkle SET hash = hash WHERE world_id = $1", w)).toBe("WK002");
        expect(await refused("DELETE FROM worldkernel.receipts WHERE world_id = $1", w)).toBe("WK002");
        expect(await refused("DELETE FROM worldkernel.ingress_keys")).toBe("WK002");
        expect(await s.count()).toBe(22);
        expect(await verifyJournal(s)).toMatchObject({ ok: true, entries: 22 });
      } finally {
        await s.close();
      }
    });

    it("serves roots and proofs byte-identical to the RFC 9162 reference for every m <= n <= 40", async () => {
      const s = await create();
      try {
        // Two batches, so the later sizes read nodes written by an earlier transaction.
        await s.append("genesis", genesisBody(key));
        await s.appendMany(Array.from({ length: 20 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) })));
        await s.appendMany(Array.from({ length: 19 }, (_, i) => ({ kind: "event" as const, body: eventBody(20 + i) })));
        const hashes: Uint8Array[] = [];
        for await (const e of s.iterate()) hashes.push(e.hash);
        const source = {
          root: (n: number) => s.root(n),
          inclusion: (i: number, n: number) => s.inclusionProof(i, n),
          consistency: (m: number, n: number) => s.consistencyProof(m, n),
        };
        const sizes = Array.from({ length: hashes.length + 1 }, (_, n) => n);
        expect(await expectStoreMatchesReference(source, hashes, sizes, "PostgreSQL")).toBe(41 * 41);
      } finally {
        await s.close();
      }
    });

    it("refuses a second receipt for an intent by constraint, with journal.duplicate_receipt, writing nothing of that batch", async () => {
      const s = await create();
      try {
        await s.append("genesis", genesisBody(key));
        await s.append("effect_receipt", { intent_id: "sha256:aa" });
        expect(await s.receiptSeq("sha256:aa")).toBe(1);
        const err = await s
          .appendMany([
            { kind: "effect_receipt", body: { intent_id: "sha256:bb" } },
            { kind: "effect_receipt", body: { intent_id: "sha256:aa" } },
          ])
          .then(
            () => ({ code: "no error", seq: -1, message: "" }),
            (e: unknown) => e as { code: string; seq: number; message: string },
          );
        expect(err).toMatchObject({ code: "journal.duplicate_receipt", seq: 3 });
        expect(err.message).toContain("intent sha256:aa already has its receipt at seq 1");
        expect(await s.count()).toBe(2);
        expect(await s.receiptSeq("sha256:bb")).toBeNull();
        // Twice in one batch is refused before it reaches the database, the same way.
        expect(
          await codeOfAsync(
            s.appendMany([
              { kind: "effect_receipt", body: { intent_id: "sha256:cc" } },
              { kind: "effect_receipt", body: { intent_id: "sha256:cc" } },
            ]),
          ),
        ).toBe("journal.duplicate_receipt");
        // The constraint holds for any client, not just the store.
        expect(
          await raw
            .query("INSERT INTO worldkernel.receipts (world_id, intent_id, seq) VALUES ($1, 'sha256:aa', 9)", [
              s.worldId,
            ])
            .then(
              () => "no error",
              (e: { code?: string; constraint?: string }) => `${e.code} ${e.constraint}`,
            ),
        ).toBe("23505 receipts_pkey");
        expect((await s.append("effect_receipt", { intent_id: "sha256:bb" })).seq).toBe(2);
        expect(await s.receiptSeq("sha256:bb")).toBe(2);
      } finally {
        await s.close();
      }
    });

    it("keeps worlds that share a database apart", async () => {
      const a = await create();
      const b = await create();
      const other = generateKeyPair();
      try {
        await a.append("genesis", genesisBody(key, "world-a"));
        await b.append("genesis", genesisBody(other, "world-b"));
        await a.appendMany(Array.from({ length: 40 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) })));
        await b.append("event", eventBody(7));
        const blob = await a.putBlob(new TextEncoder().encode("only in a"));
        await a.append("effect_receipt", { intent_id: "sha256:shared" });
        await b.append("effect_receipt", { intent_id: "sha256:shared" }); // its own index: not a duplicate
        expect([await a.count(), await b.count()]).toEqual([42, 3]);
        expect(await b.hasBlob(blob)).toBe(false);
        expect(await codeOfAsync(b.getBlob(blob))).toBe("journal.blob_not_found");
        const seen: number[] = [];
        for await (const e of b.iterate()) seen.push(e.seq);
        expect(seen).toEqual([0, 1, 2]);
        expect(Buffer.from((await b.get(0))!.hash).equals(Buffer.from((await a.get(0))!.hash))).toBe(false);
        expect(await verifyJournal(a)).toMatchObject({ ok: true, entries: 42 });
        expect(await verifyJournal(b)).toMatchObject({ ok: true, entries: 3 });
      } finally {
        await a.close();
        await b.close();
      }
    });

    it("writes signed checkpoints on its cadence, across a reopen, and erases per world", async () => {
      const id = world();
      let s = await openPgJournalStore(url!, id, { create: true, checkpointEvery: 10, worldKey: key });
      const other = await create();
      try {
        await s.append("genesis", genesisBody(key));
        await s.appendMany(Array.from({ length: 12 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) })));
        expect((await s.get(13))!.kind).toBe("checkpoint");
        await s.close();
        s = await openPgJournalStore(url!, id, { checkpointEvery: 10, worldKey: key });
        await s.appendMany(Array.from({ length: 8 }, (_, i) => ({ kind: "event" as const, body: eventBody(100 + i) })));
        expect((await s.get(22))!.kind).toBe("checkpoint");
        expect(await verifyJournal(s)).toMatchObject({ ok: true, entries: 23, checkpoints: 2 });
        // The same bytes in two worlds are two blobs: erasing one leaves the other.
        await other.append("genesis", genesisBody(key, "other"));
        const bytes = new TextEncoder().encode("same bytes");
        const h = await s.putBlob(bytes);
        expect(await other.putBlob(bytes)).toBe(h);
        await s.erase(h, "GDPR");
        expect(await codeOfAsync(s.getBlob(h))).toBe("journal.blob_erased");
        expect(Buffer.from(await other.getBlob(h)).toString()).toBe("same bytes");
        expect(await codeOfAsync(openPgJournalStore(url!, id, { worldKey: generateKeyPair() }))).toBe("journal.locked");
      } finally {
        await s.close();
        await other.close();
      }
      expect(await codeOfAsync(openPgJournalStore(url!, id, { worldKey: generateKeyPair() }))).toBe(
        "journal.wrong_key",
      );
    });

    it("refuses a second ingress event under one idempotency key with journal.duplicate_ingress", async () => {
      const s = await create();
      try {
        await s.append("genesis", genesisBody(key));
        const ingress = (i: number) => ({
          ...eventBody(i),
          origin: { kind: "ingress", idempotency_key: "order-7", request_hash: `sha256:${"0".repeat(64)}` },
        });
        await s.append("event", ingress(1));
        expect(await s.ingressKeySeq("order-7")).toMatchObject({ seq: 1 });
        const err = await s.append("event", ingress(2)).then(
          () => ({ code: "no error", message: "" }),
          (e: unknown) => e as { code: string; message: string },
        );
        expect(err.code).toBe("journal.duplicate_ingress");
        expect(err.message).toContain("at seq 1");
        expect(await s.count()).toBe(2);
      } finally {
        await s.close();
      }
    });

    it("a refused appendMany leaves no row in any table", async () => {
      const s = await create();
      try {
        await s.append("genesis", genesisBody(key));
        const rows = async () =>
          (
            await raw.query<{ n: string }>(
              `SELECT (SELECT count(*) FROM worldkernel.entries WHERE world_id = $1)
                  + (SELECT count(*) FROM worldkernel.merkle WHERE world_id = $1)
                  + (SELECT count(*) FROM worldkernel.receipts WHERE world_id = $1) AS n`,
              [s.worldId],
            )
          ).rows[0]!.n;
        const before = await rows();
        const big = Array.from({ length: 40 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) }));
        expect(await codeOfAsync(s.appendMany([...big, { kind: "event", body: { nope: 1 } }]))).toBe(
          "journal.bad_body",
        );
        await s.append("effect_receipt", { intent_id: "sha256:dd" });
        // Refused by the database (the constraint) after 40 entries and their nodes were sent.
        expect(
          await codeOfAsync(s.appendMany([...big, { kind: "effect_receipt", body: { intent_id: "sha256:dd" } }])),
        ).toBe("journal.duplicate_receipt");
        expect(Number(await rows())).toBe(Number(before) + 2);
        expect(await s.count()).toBe(2);
        await s.appendMany(big);
        expect(await verifyJournal(s)).toMatchObject({ ok: true, entries: 42 });
      } finally {
        await s.close();
      }
    });

    it("admits one writer per world, refuses a missing or existing world, and serves a reader", async () => {
      const id = world();
      const s = await create(id);
      try {
        await s.append("genesis", genesisBody(key));
        expect(await codeOfAsync(openPgJournalStore(url!, id))).toBe("journal.locked");
        expect(await codeOfAsync(openPgJournalStore(url!, world()))).toBe("journal.not_found");
        const r = await openPgJournalStore(url!, id, { readonly: true });
        try {
          await s.append("event", eventBody(1));
          expect(await r.count()).toBe(2);
          expect(await codeOfAsync(r.append("event", eventBody(2)))).toBe("journal.readonly");
        } finally {
          await r.close();
        }
      } finally {
        await s.close();
      }
      expect(await codeOfAsync(openPgJournalStore(url!, id, { create: true }))).toBe("journal.exists");
      const again = await openPgJournalStore(url!, id);
      expect(await again.count()).toBe(2);
      await again.close();
    });

    it("a writer whose head is stale is refused by the database, not forked", async () => {
      const id = world();
      const s = await create(id);
      await s.append("genesis", genesisBody(key));
      // A second writer that appended without a lease (leased writers are fenced; see below): the head check refuses the stale one.
      await raw.query(
        `SELECT worldkernel.append_entries($1, NULL, 1, $2, ARRAY['event'], ARRAY['\\x00'::bytea], ARRAY[$3::bytea],
         '{}', '{}', '{}', '{}', '{}', '{}', '{}')`,
        [id, (await s.head())!.hash, Buffer.alloc(32, 7)],
      );
      expect(await codeOfAsync(s.append("event", eventBody(1)))).toBe("journal.locked");
      expect(
        await raw
          .query(
            `SELECT worldkernel.append_entries($1, NULL, 5, $2, ARRAY['event'], ARRAY['\\x00'::bytea], ARRAY[$2::bytea],
             '{}', '{}', '{}', '{}', '{}', '{}', '{}')`,
            [id, Buffer.alloc(32, 7)],
          )
          .then(
            () => "no error",
            (e: { code?: string }) => e.code,
          ),
      ).toBe("WK001");
      await s.close();
    });

    describe("leases with fencing tokens", () => {
      const TTL = 10_000;
      /** A node's view of the clock (injected: no test waits for wall time). */
      const clock = (start: number) => {
        const c = { ms: start, now: () => c.ms };
        return c;
      };
      const leased = (id: string, holder: string, now: () => number, create = false) =>
        openPgJournalStore(url!, id, { create, lease: { holder, ttlMs: TTL, now } });
      const fences = async (id: string) =>
        (
          await raw.query<{ fence: string | null }>(
            "SELECT fence FROM worldkernel.entries WHERE world_id = $1 ORDER BY seq",
            [id],
          )
        ).rows.map((r) => (r.fence === null ? null : Number(r.fence)));

      it("a paused former holder cannot append after another node took the lease; tokens grow in the journal", async () => {
        const id = world();
        const t = clock(1_000_000);
        const a = await leased(id, "node-a", t.now, true);
        expect(a.lease).toEqual({ holder: "node-a", token: 1, expiresAtMs: 1_000_000 + TTL });
        await a.append("genesis", genesisBody(key));
        await a.appendMany(Array.from({ length: 3 }, (_, i) => ({ kind: "event" as const, body: eventBody(i) })));

        // While a's lease runs, nobody else gets the world.
        const early = await codeOfAsync(leased(id, "node-b", t.now));
        expect(early).toBe("journal.lease_held");
        await expect(leased(id, "node-b", t.now)).rejects.toThrow(/node-a holds the world's lease \(token 1\)/);

        // a is paused past its TTL (it does not renew); b takes over with a greater token.
        t.ms += TTL;
        const b = await leased(id, "node-b", t.now);
        expect(b.lease).toMatchObject({ holder: "node-b", token: 2 });
        await b.append("event", eventBody(10));

        // a wakes up: its append is fenced off, and it writes no more, renewal included.
        expect(await codeOfAsync(a.append("event", eventBody(99)))).toBe("journal.lease_lost");
        expect(await codeOfAsync(a.append("event", eventBody(98)))).toBe("journal.lease_lost");
        expect(await a.renewLease()).toBe(false);
        await b.append("event", eventBody(11));
        expect(await fences(id)).toEqual([1, 1, 1, 1, 2, 2]);
        expect(await verifyJournal(b)).toMatchObject({ ok: true, entries: 6 });
        await a.close();
        await b.close();
      });

      it("renewal keeps the lease; a clean close gives it up at once; a writer without a lease is fenced off", async () => {
        const id = world();
        const t = clock(5_000_000);
        const a = await leased(id, "node-a", t.now, true);
        await a.append("genesis", genesisBody(key));
        t.ms += TTL - 1;
        expect(await a.renewLease()).toBe(true);
        t.ms += TTL - 1; // past the first expiry, within the renewed one
        expect(await codeOfAsync(leased(id, "node-b", t.now))).toBe("journal.lease_held");

        // A plain writer (session lock, no token) may not append to a leased world.
        const plain = await openPgJournalStore(url!, id);
        expect(await codeOfAsync(plain.append("event", eventBody(1)))).toBe("journal.lease_lost");
        await plain.close();

        await a.close(); // releases the lease: b need not wait for the TTL
        const b = await leased(id, "node-b", t.now);
        expect(b.lease).toMatchObject({ token: 2 });
        await b.append("event", eventBody(2));
        expect(await fences(id)).toEqual([1, 2]);
        await b.close();
      });

      it("a former holder that closes without writing learns it lost the lease, and leaves the new holder's alone", async () => {
        const id = world();
        const t = clock(9_000_000);
        const a = await leased(id, "node-a", t.now, true);
        await a.append("genesis", genesisBody(key));
        t.ms += TTL;
        const b = await leased(id, "node-b", t.now);
        expect(a.leaseLost).toBe(false); // a has not tried to write or renew since
        await a.close();
        expect(a.leaseLost).toBe(true);
        // b's lease still runs: nobody else gets the world.
        expect(await codeOfAsync(leased(id, "node-c", t.now))).toBe("journal.lease_held");
        await b.close();
      });
    });
  },
);
