/**
 * @module worlds/self-upgrade, issue 15 item 6: an agent module asked to change its behaviour
 * writes its own new AssemblyScript source, compiles it (`compile.module`) and proposes the binary
 * for itself (`governance.upgrade`, proposer `{kind: "module"}`); the shadow run shows the
 * difference, one approval is not enough, no proposer can approve, two of three approvers apply
 * it, the new behaviour is live, and the world verifies, replays from genesis and passes `wk audit`.
 * Real WASM, real compiler, the built-in adapters.
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored, hashToBytes, type CborObject } from "../../air/index.js";
import { hashBytes, type HashText } from "../../air/hash.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { apply, approve, createWorld, propose, replayWorld, shadow, verifyWorld } from "../../kernel/world/index.js";
import { governanceAdapter } from "../../kernel/world/governance.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { AGENT, agentState, selfUpgradeSource } from "../../tools/cli/demo/self-upgrade-tour.js";
import { ROOT, wk } from "./cli-harness.js";

const SOURCE = join(ROOT, "modules/assemblyscript/selfupgrader/selfupgrader.ts");

/** The error code a rejected promise carries. */
async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
}

describe("worlds/self-upgrade: an agent upgrades itself through governance", () => {
  it("compiles, proposes, is shadowed, needs two of three approvals, and the new greeting is live", async () => {
    const [ops, audit, security] = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
    const dir = join(mkdtempSync(join(tmpdir(), "wk-self-upgrade-")), "w");
    const w = await createWorld(dir, selfUpgradeSource([ops, audit, security].map((k) => k.publicKeyHex)), {
      adapters: defaultAdapters(),
    });
    await w.send("demo/Work@1", { key: "agent", name: "ada" });
    expect(agentState(w)).toMatchObject({ last: "Hello, ada!", greeted: 1, phase: "idle" });

    // A greeting the generated source could not hold is refused by the agent itself.
    await w.send("demo/UpgradeRequest@1", { key: "agent", greeting: 'say "hi"' });
    expect(agentState(w)).toMatchObject({ phase: "idle", errors: [expect.stringContaining("refused")] });

    const base = w.catalog.manifestHash;
    const oldWasm = w.catalog.modules.get(AGENT)!.def.wasm_hash;
    await w.send("demo/UpgradeRequest@1", { key: "agent", greeting: "Howdy" });
    const asked = agentState(w);
    expect(asked).toMatchObject({ phase: "proposed", wanted: "Howdy", last: "Hello, ada!" });

    // Its new source is its own with one constant changed, and the binary came from compiling it.
    const source = new TextDecoder().decode(w.store.getBlobSync(asked.source_ref as never));
    const own = readFileSync(SOURCE, "utf8");
    expect(source).not.toBe(own);
    expect(source.replace('const GREETING = "Howdy";', 'const GREETING = "Hello";')).toBe(own);
    const wasm = w.store.getBlobSync(asked.wasm_ref as never);
    expect(hashBytes(wasm)).toBe(asked.wasm_ref);
    expect(asked.wasm_ref).not.toBe(oldWasm);

    // The proposal is journaled with the module as proposer, replacing exactly the agent's binary.
    const proposals = [];
    for await (const e of w.store.iterate(0))
      if (e.kind === "proposal") proposals.push(decodeStored(e.body) as CborObject);
    expect(proposals).toHaveLength(1);
    const id = asked.proposal_id as string;
    expect(proposals[0]).toMatchObject({
      proposal_id: id,
      base_manifest_hash: base,
      proposer: { kind: "module", module: AGENT },
      description: "demo/Agent@1: greet with Howdy instead of Hello",
    });
    const patch = decodeStored(w.store.getBlobSync(proposals[0]!.patch_ref as never)) as CborObject;
    expect(patch).toMatchObject({
      base_manifest_hash: base,
      patches: [{ replace_def: { kind: "defmodule", name: AGENT, new_node: { wasm_hash: asked.wasm_ref } } }],
    });
    expect(w.catalog.manifestHash).toBe(base); // nothing changed yet

    // The shadow run replays the recorded work under the new binary: the agent's cell ends differently.
    const { report } = await shadow(w, id);
    expect(report.failures).toEqual([]);
    expect(report.cells).toEqual([expect.objectContaining({ module: AGENT, key: "agent" })]);
    expect(report.cells[0]!.before).not.toBe(report.cells[0]!.after);
    // Re-run since genesis under the new binary, the recorded "greet with Howdy" request is refused as no change:
    // the three effects it caused (blob.put, compile.module, governance.upgrade) are never emitted.
    expect(report.counterfactual).toMatchObject({ since: 0 });
    expect(report.decision_changes).toEqual({ "policy.allow": { before: 3, after: 0 } });

    await approve(w, id, ops);
    expect(await codeOf(apply(w, id))).toBe("governance.not_approved");
    expect(await codeOf(approve(w, id, ops))).toBe("kernel.bad_approval"); // the same report, the same key
    // No proposer approves: not the world's own key, nor an approver who proposed the same patch.
    expect(await codeOf(approve(w, id, w.worldKey))).toBe("kernel.bad_approval");
    await propose(w, patch, { proposer: security });
    expect(await codeOf(approve(w, id, security))).toBe("kernel.bad_approval");

    await approve(w, id, audit);
    const { manifestHash } = await apply(w, id);
    expect(manifestHash).not.toBe(base);
    expect(w.catalog.modules.get(AGENT)!.def.wasm_hash).toBe(asked.wasm_ref);

    await w.send("demo/Work@1", { key: "agent", name: "grace" });
    expect(agentState(w)).toMatchObject({ last: "Howdy, grace!", greeted: 2 });
    // The upgraded agent is still an upgrader: the same request is now refused as no change.
    await w.send("demo/UpgradeRequest@1", { key: "agent", greeting: "Howdy" });
    expect((agentState(w).errors as string[]).at(-1)).toContain("already greets with Howdy");

    const root = w.stateRefs().state_root;
    await w.checkpoint();
    await w.close();
    expect(await verifyWorld(worldPaths(dir).journal)).toMatchObject({ ok: true });
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });

    const archive = join(dir, "..", "world.audit");
    const exported = wk("export", "--audit", archive, "--world", dir);
    expect(exported.status, exported.stderr).toBe(0);
    const audited = wk("audit", archive, "--json");
    expect(audited.status, audited.stderr + audited.stdout).toBe(0);
    expect(JSON.parse(audited.stdout)).toMatchObject({ ok: true });
  }, 120_000);

  it("answers a stale base, an unknown module and an unchanged binary with an error receipt", async () => {
    const keys = [generateKeyPair(), generateKeyPair(), generateKeyPair()];
    const dir = join(mkdtempSync(join(tmpdir(), "wk-self-upgrade-refused-")), "w");
    const w = await createWorld(dir, selfUpgradeSource(keys.map((k) => k.publicKeyHex)), {});
    const current = w.catalog.modules.get(AGENT)!.def.wasm_hash as HashText;
    const adapter = governanceAdapter(w);
    expect(adapter.kinds).toContain("governance.upgrade");
    const ask = async (params: Record<string, unknown>) => {
      const out = await adapter.perform({
        intentId: "sha256:" + "ab".repeat(32),
        idempotencyKey: "k",
        kind: "governance.upgrade",
        params: {
          module: AGENT,
          wasm_ref: hashToBytes(hashBytes(new Uint8Array([0, 97, 115, 109]))),
          base_manifest_hash: w.catalog.manifestHash,
          description: null,
          ...params,
        } as CborObject,
        grant: { name: "gov", capType: "governance", params: {} },
        blobs: { put: (b) => w.store.putBlobSync(b), get: (h) => w.store.getBlobSync(h) },
        signal: new AbortController().signal,
        nowNs: () => 0n,
      });
      return { status: out.status, code: (out.payload as CborObject).code };
    };
    expect(await ask({ base_manifest_hash: "sha256:" + "0".repeat(64) })).toEqual({
      status: "error",
      code: "governance.stale_base",
    });
    expect(await ask({ module: "demo/Nobody@1" })).toEqual({ status: "error", code: "kernel.unknown_module" });
    expect(await ask({ wasm_ref: hashToBytes(current) })).toEqual({ status: "error", code: "governance.no_change" });
    // A binary the CAS does not hold cannot be proposed either.
    expect(await ask({})).toEqual({ status: "error", code: "kernel.missing_blob" });
    await w.close();
  }, 60_000);
});
