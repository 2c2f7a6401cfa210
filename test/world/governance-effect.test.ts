/**
 * @module Agents propose through the capability-gated `governance.propose` effect: a module
 * holding a `governance` grant proposes a patch it stored in the CAS; the proposal is
 * journaled like `wk propose`'s and still needs a shadow run, an approval and apply. A
 * module without the grant is denied at the gate.
 */
import { describe, expect, it } from "vitest";
import { decodeStored, hashToBytes, type CborObject } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { apply, approve, replayWorld, shadow } from "../../kernel/world/index.js";
import { emitEvent, emitterWorld, receiptsOf } from "./fixtures/emitter.js";

describe("governance.propose as an effect", () => {
  it("a granted module proposes; the proposal still needs shadow, approval and apply", async () => {
    const approver = generateKeyPair();
    const { w, dir } = await emitterWorld({
      kind: "governance.propose",
      effect: "sys/governance.propose@1",
      cap: "sys/governance@1",
      capType: "governance",
      approvers: [{ id: "ops", public_key: approver.publicKeyHex }],
    });

    // The agent stored its patch earlier (as blob.put would have); it names the current manifest.
    const patch = {
      base_manifest_hash: w.catalog.manifestHash,
      patches: [
        { add_def: { kind: "defschema", node: { $kind: "defschema", name: "t/Extra@1", type: { text: {} } } } },
      ],
    };
    const patchRef = w.store.putBlobSync(new TextEncoder().encode(JSON.stringify(patch)));
    const params = (slot: string) =>
      emitEvent("governance.propose", slot, { patch_ref: hashToBytes(patchRef), description: "add t/Extra@1" });
    await w.send("t/Emit@1", params("other")); // bound to no grant: denied at the gate
    await w.send("t/Emit@1", params("ok"));
    const receipts = receiptsOf(w);
    expect(receipts.map((r) => r.status)).toEqual(["denied", "ok"]);
    const proposalId = (decodeStored(Uint8Array.from([0xd9, 0xd9, 0xf7, ...receipts[1]!.payload])) as CborObject)
      .proposal_id as string;
    expect(proposalId).toMatch(/^sha256:/);

    await shadow(w, proposalId);
    await approve(w, proposalId, approver);
    const before = w.catalog.manifestHash;
    await apply(w, proposalId);
    expect(w.catalog.manifestHash).not.toBe(before);
    expect(w.catalog.schemas.has("t/Extra@1")).toBe(true);
    const root = w.stateRefs().state_root;
    await w.close();
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
  }, 60_000);
});
