/**
 * @module `introspect.manifest` end to end: a module with a `query` grant asks for the
 * manifest in force and the journal height; the kernel answers with a signed receipt after the
 * intent's batch is durable; replay reads the receipt and verify checks its signature. Without
 * the grant the gate denies it.
 */
import { describe, expect, it } from "vitest";
import { bytesToHash, decodeStored, type CborObject } from "../../air/index.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { replayWorld, verifyWorld } from "../../kernel/world/index.js";
import { emitEvent, emitterWorld, receiptsOf } from "./fixtures/emitter.js";

describe("introspect.manifest", () => {
  it("answers the manifest in force and the journal height in a signed receipt that replay reads", async () => {
    const { w, dir } = await emitterWorld({
      kind: "introspect.manifest",
      effect: "sys/introspect.manifest@1",
      cap: "sys/query@1",
      capType: "query",
    });
    await w.send("t/Emit@1", emitEvent("introspect.manifest", "other", { consistency: "head" })); // no grant
    await w.send("t/Emit@1", emitEvent("introspect.manifest", "ok", { consistency: "head" }));
    const receipts = receiptsOf(w);
    expect(receipts.map((r) => r.status)).toEqual(["denied", "ok"]);
    const answer = decodeStored(Uint8Array.from([0xd9, 0xd9, 0xf7, ...receipts[1]!.payload])) as CborObject;
    expect(bytesToHash(answer.manifest_hash as Uint8Array)).toBe(w.catalog.manifestHash);
    // Performed after the batch with its intent was durable: the height counts that batch.
    const intentSeq = [...w.store.iterateSync()].filter((e) => e.kind === "effect_intent").at(-1)!.seq;
    expect(Number(answer.journal_height)).toBeGreaterThan(intentSeq);
    const root = w.stateRefs().state_root;
    await w.close();
    expect(await verifyWorld(worldPaths(dir).journal)).toMatchObject({ ok: true });
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
  }, 60_000);
});
