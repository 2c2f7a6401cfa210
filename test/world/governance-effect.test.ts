/**
 * @module Agents propose through the capability-gated `governance.propose` effect: a module
 * holding a `governance` grant proposes a patch it stored in the CAS; the proposal is
 * journaled like `wk propose`'s and still needs a shadow run, an approval and apply. A
 * module without the grant is denied at the gate.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildCatalogOrThrow,
  decodeStored,
  encodeCanonical,
  hashBytes,
  hashToBytes,
  type CborObject,
} from "../../air/index.js";
import { buildModule } from "../../kernel/adapters/compile/build.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { apply, approve, createWorld, replayWorld, shadow } from "../../kernel/world/index.js";
import { defaultAdapters, defaultGateHooks } from "../../kernel/world/wiring.js";

const EMITTER = `
import { Cbor, Ctx, Effect, Event, StepResult, runStep } from "../sdk/index";

// Emits the effect its request carries; records each receipt's status and payload.
function emitter(state: Cbor | null, event: Event, ctx: Ctx): StepResult {
  const seen = state === null ? Cbor.array() : state.get("receipts")!;
  if (event.schema == "sys/EffectReceiptEnvelope@1") {
    seen.push(Cbor.map().set("status", event.value.get("status")!).set("payload", event.value.get("payload")!));
    return new StepResult(Cbor.map().set("receipts", seen));
  }
  const e = new Effect(event.value.get("kind")!.asText(), Cbor.decode(event.value.get("params")!.asBytes()), event.value.get("slot")!.asText());
  return new StepResult(Cbor.map().set("receipts", seen)).effect(e);
}

export function step(): i32 {
  return runStep(emitter);
}
`;

describe("governance.propose as an effect", () => {
  it("a granted module proposes; the proposal still needs shadow, approval and apply", async () => {
    const built = await buildModule({ language: "assemblyscript", source: new TextEncoder().encode(EMITTER) });
    if (!built.ok) throw new Error(built.diagnostics.join("\n"));
    const h = hashBytes(built.wasm);
    const approver = generateKeyPair();
    const catalog = buildCatalogOrThrow([
      {
        file: "agent.air.json",
        value: [
          {
            $kind: "defschema",
            name: "t/Emit@1",
            type: { record: { key: { text: {} }, kind: { text: {} }, slot: { text: {} }, params: { bytes: {} } } },
          },
          {
            $kind: "defschema",
            name: "t/S@1",
            type: { record: { receipts: { list: { record: { status: { text: {} }, payload: { bytes: {} } } } } } },
          },
          {
            $kind: "defmodule",
            name: "t/Agent@1",
            module_kind: "workflow",
            wasm_hash: h,
            abi: {
              workflow: {
                state: "t/S@1",
                event: "t/Emit@1",
                effects_emitted: ["governance.propose"],
                cap_slots: { gov: "governance", other: "governance" },
              },
            },
          },
          {
            $kind: "defpolicy",
            name: "t/p@1",
            rules: [{ when: { effect_kind: "governance.propose", cap_name: "gov" }, decision: "allow" }],
            approvers: [{ id: "ops", public_key: approver.publicKeyHex }],
          },
          {
            $kind: "manifest",
            air_version: "1",
            schemas: [{ name: "t/Emit@1" }, { name: "t/S@1" }],
            modules: [{ name: "t/Agent@1" }],
            effects: [{ name: "sys/governance.propose@1" }],
            caps: [{ name: "sys/governance@1" }],
            policies: [{ name: "t/p@1" }],
            defaults: { policy: "t/p@1", cap_grants: [{ name: "gov", cap: "sys/governance@1", params: {} }] },
            module_bindings: { "t/Agent@1": { slots: { gov: "gov" } } },
            routing: { subscriptions: [{ event: "t/Emit@1", module: "t/Agent@1", key_field: "key" }] },
          },
        ],
      },
    ]);
    const dir = join(mkdtempSync(join(tmpdir(), "wk-gov-effect-")), "w");
    const w = await createWorld(
      dir,
      { catalog, wasm: new Map([[h, built.wasm]]) },
      { adapters: defaultAdapters(), hooks: defaultGateHooks() },
    );

    // The agent stored its patch earlier (as blob.put would have); it names the current manifest.
    const patch = {
      base_manifest_hash: w.catalog.manifestHash,
      patches: [
        { add_def: { kind: "defschema", node: { $kind: "defschema", name: "t/Extra@1", type: { text: {} } } } },
      ],
    };
    const patchRef = w.store.putBlobSync(new TextEncoder().encode(JSON.stringify(patch)));
    const params = (slot: string) => ({
      key: "agent",
      kind: "governance.propose",
      slot,
      params: Buffer.from(encodeCanonical({ patch_ref: hashToBytes(patchRef), description: "add t/Extra@1" })).toString(
        "base64",
      ),
    });

    await w.send("t/Emit@1", params("other")); // bound to no grant: denied at the gate
    await w.send("t/Emit@1", params("gov"));
    const receipts = (w.cellState("t/Agent@1", "agent") as { receipts: { status: string; payload: Uint8Array }[] })
      .receipts;
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
    expect(await replayWorld(dir, { hooks: defaultGateHooks() })).toMatchObject({ ok: true, state_root: root });
  }, 60_000);
});
