/**
 * @module Recorded reasoning (ann-v1): a step journals its module's annotation — inline when
 * small, as a CAS blob when larger, by its size alone past the limit — and replay compares it
 * like every other output: a forged annotation diverges, an erased annotation blob still
 * replays, a missing one fails verify. The module is the KYC risk scorer
 * (modules/assemblyscript/kyc-risk), which records why it scored an application as it did.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored, type CborObject, type HashText } from "../../air/index.js";
import { ANN_INLINE_MAX, ANN_MAX } from "../../kernel/transition/flags.js";
import { World, createWorld, replayWorld, sourceFromAirDir, verifyWorld } from "../../kernel/world/index.js";
import { appendForged, copyWorld, dropFrom, ownMachinePerTest, rawBlob, rows, scratch } from "./attack-helpers.js";
import { tamper } from "../journal/attacker.js";

const KYC_RISK = new URL("../fixtures/worlds/kyc-risk", import.meta.url).pathname;
const APPLICATION = "kyc/Application@1";

const application = (applicant: string, amount: number, country: string, pep: boolean, note: string) => ({
  schema: APPLICATION,
  json: { applicant, amount, country, pep, note },
});

/** A closed world with three scored applications: a small, a large and an oversized annotation. */
async function scoredWorld(): Promise<string> {
  const dir = join(scratch("wk-ann-"), "w");
  const w = await createWorld(dir, sourceFromAirDir(KYC_RISK));
  await w.sendMany([
    application("ada", 1500, "DE", false, "salary"),
    application("bo", 20000, "IR", true, "x".repeat(2 * ANN_INLINE_MAX)),
    application("cy", 50, "FR", false, "y".repeat(ANN_MAX + 1)),
  ]);
  await w.close();
  return dir;
}

const steps = (dir: string) => rows(dir).filter((r) => r.kind === "step");

describe("recorded reasoning (ann-v1)", () => {
  ownMachinePerTest();

  it("journals the annotation inline, in the CAS or by its size, and replays and verifies", async () => {
    const dir = await scoredWorld();
    const [small, large, huge] = steps(dir).map((r) => r.body as CborObject);
    expect(small!.ann).toEqual({
      trigger: APPLICATION,
      factors: [{ factor: "amount over 1000", points: 20 }],
      score: 20,
      band: "low",
      note: "salary",
    });
    expect(small!.ann_ref).toBeUndefined();

    expect(large!.ann).toBeUndefined();
    const blob = rawBlob(dir, large!.ann_ref as string);
    expect(blob).toBeDefined();
    expect(decodeStored(blob!)).toMatchObject({
      score: 100,
      band: "high",
      factors: [
        { factor: "amount over 10000", points: 40 },
        { factor: "high-risk country IR", points: 35 },
        { factor: "politically exposed person", points: 25 },
      ],
    });

    expect(huge!.ann).toBeUndefined();
    expect(huge!.ann_ref).toBeUndefined();
    expect(Number(huge!.ann_dropped)).toBeGreaterThan(ANN_MAX);

    expect(await verifyWorld(join(dir, "journal.db"))).toMatchObject({ ok: true });
    expect(await replayWorld(dir)).toMatchObject({ ok: true });
  });

  it("a forged annotation is a divergence at its step; a missing annotation blob fails verify", async () => {
    const dir = await scoredWorld();
    const all = rows(dir);
    const first = all.findIndex((r) => r.kind === "step");
    const forged = copyWorld(dir);
    dropFrom(forged, first);
    const step = all[first]!.body as CborObject;
    appendForged(forged, [
      { kind: "step", body: { ...step, ann: { ...(step.ann as CborObject), band: "high", note: "approved by me" } } },
    ]);
    const r = await replayWorld(forged);
    expect(r.ok).toBe(false);
    expect(r.verify_fault).toBeUndefined();
    expect(r.divergence?.seq).toBe(first);

    const ref = steps(dir)[1]!.body as CborObject;
    const missing = copyWorld(dir);
    tamper(join(missing, "journal.db"), (db) =>
      db.prepare("DELETE FROM blobs WHERE hash = ?").run(Buffer.from((ref.ann_ref as string).slice(7), "hex")),
    );
    expect(await verifyWorld(join(missing, "journal.db"))).toMatchObject({ ok: false, fault: "missing_blob" });
  });

  it("an erased annotation blob leaves the chain, verify and replay intact", async () => {
    const dir = await scoredWorld();
    const ref = (steps(dir)[1]!.body as CborObject).ann_ref as HashText;
    const w = await World.open(dir);
    await w.erase(ref, "applicant asked for erasure");
    await w.close();
    expect(rawBlob(dir, ref)).toBeUndefined();
    expect(await verifyWorld(join(dir, "journal.db"))).toMatchObject({ ok: true });
    expect(await replayWorld(dir)).toMatchObject({ ok: true });
  });
});
