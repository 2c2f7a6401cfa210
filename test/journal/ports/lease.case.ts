/**
 * @module The `Lease` conformance suite. A store without leases (SQLite: one writer by its file
 * lock) says so: `leaseState()` is undefined, open or closed. A leased store (PostgreSQL) reports
 * the lease it writes under (holder, fencing token, expiry in the injected clock); refuses a
 * second holder while it is live (`journal.lease_held`); after expiry a takeover gets a greater
 * token, and the former holder's next write is `journal.lease_lost` and its port says `lost`
 * (still readable after close, as `wk worker` reads it); a clean close gives the lease up at once.
 * `runLeaseSuite({ create, leased })`, `leased` null for a store without leases.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { generateKeyPair } from "../../../kernel/crypto/keys.js";
import { codeOfAsync, eventBody, genesisBody } from "../helpers.js";
import type { Create, PortsUnderTest } from "./fixtures.js";

/** A lease to open a world under: who, for how long, and the clock its expiry is read in. */
export interface LeaseRequest {
  holder: string;
  ttlMs: number;
  now: () => number;
}

/** How the suite opens worlds under a lease: `create` the first time; the store renews nothing on its own. */
export type OpenLeased = (worldId: string, lease: LeaseRequest, create: boolean) => Promise<PortsUnderTest>;

/** `create` opens a fresh writable store; `leased` opens a world under a lease, or is null when the store has none. */
export interface LeaseSuiteOptions {
  create: Create;
  leased: OpenLeased | null;
}

/** Registers the conformance tests of one store's Lease port. */
export function runLeaseSuite({ create, leased }: LeaseSuiteOptions): void {
  const key = generateKeyPair();

  describe("Lease conformance", () => {
    if (leased === null) {
      it("a store without leases says so: leaseState() is undefined, before and after writes and close", async () => {
        const j = await create();
        expect(j.leaseState()).toBeUndefined();
        await j.append("genesis", genesisBody(key));
        expect(j.leaseState()).toBeUndefined();
        await j.close();
        expect(j.leaseState()).toBeUndefined();
      });
      return;
    }

    let clock = 1_000_000;
    const now = () => clock;
    const lease = (holder: string, ttlMs = 10_000): LeaseRequest => ({ holder, ttlMs, now });

    it("reports the lease written under, and refuses a second holder while it is live", async () => {
      const id = `lease-${randomUUID()}`;
      const a = await leased(id, lease("node-a"), true);
      try {
        await a.append("genesis", genesisBody(key));
        const s = a.leaseState();
        expect(s).toMatchObject({ holder: "node-a", expiresAtMs: clock + 10_000, lost: false });
        expect(s!.token).toBeGreaterThanOrEqual(1);
        clock += 9_999;
        expect(await codeOfAsync(leased(id, lease("node-b"), false))).toBe("journal.lease_held");
        expect((await a.append("event", eventBody(1))).seq).toBe(1);
        expect(a.leaseState()?.lost).toBe(false);
      } finally {
        await a.close();
      }
    });

    it("after expiry a takeover gets a greater token; the former holder's write is lease_lost and its port says lost", async () => {
      const id = `lease-${randomUUID()}`;
      const a = await leased(id, lease("node-a"), true);
      await a.append("genesis", genesisBody(key));
      const first = a.leaseState()!.token;
      clock += 10_001;
      const b = await leased(id, lease("node-b"), false);
      try {
        expect(b.leaseState()).toMatchObject({ holder: "node-b", token: first + 1, lost: false });
        // A paused holder does not know yet: fencing, not its clock, keeps it out.
        expect(a.leaseState()?.lost).toBe(false);
        expect(await codeOfAsync(a.append("event", eventBody(1)))).toBe("journal.lease_lost");
        expect(a.leaseState()).toMatchObject({ holder: "node-a", token: first, lost: true });
        expect(await codeOfAsync(a.append("event", eventBody(1)))).toBe("journal.lease_lost");
        expect((await b.append("event", eventBody(1))).seq).toBe(1);
        await a.close();
        expect(a.leaseState()?.lost, "still answered after close").toBe(true);
      } finally {
        await b.close();
      }
    });

    it("a clean close gives the lease up at once: the next holder takes it before it would expire", async () => {
      const id = `lease-${randomUUID()}`;
      const a = await leased(id, lease("node-a", 60_000), true);
      await a.append("genesis", genesisBody(key));
      const first = a.leaseState()!.token;
      await a.close();
      expect(a.leaseState()).toMatchObject({ token: first, lost: false });
      const b = await leased(id, lease("node-b", 60_000), false);
      try {
        expect(b.leaseState()).toMatchObject({ holder: "node-b", token: first + 1, lost: false });
        expect(b.countSync()).toBe(1);
      } finally {
        await b.close();
      }
    });
  });
}
