/**
 * @module Governance end to end on a real world: a patch that swaps the counter module for
 * one that counts events twice is proposed, shadow-run against the world's recent history
 * (the report names the cells that would end differently), approved by a policy approver
 * (not by its proposer), applied — and replay and cold start cross the apply to the same
 * state root. Stale, unapproved, malformed and state-schema-changing patches are refused.
 */
import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wabtInit from "wabt";
import { describe, expect, it } from "vitest";
import { hashBytes, hashDef, type AnyDef } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { World, apply, approve, createWorld, propose, replayWorld, shadow } from "../../kernel/world/index.js";
import { governed, policyNaming } from "./fixtures/governed-counter.js";

const ROOT = new URL("../../", import.meta.url).pathname;
const wabt = await wabtInit();

function doubleCounter(): Uint8Array {
  const src = readFileSync(join(ROOT, "modules/wat/counter.wat"), "utf8");
  const mutated = src.replace(
    "(i64.add (global.get $events) (i64.const 1))",
    "(i64.add (global.get $events) (i64.const 2))",
  );
  expect(mutated).not.toBe(src);
  return new Uint8Array(wabt.parseWat("double.wat", mutated).toBinary({}).buffer);
}

const world = (approvers: string[]) => governed(approvers);

describe("governance: propose → shadow → approve → apply", () => {
  it("swaps a module only after shadow and approval; replay and cold start cross the apply", async () => {
    const approver = generateKeyPair();
    const proposer = generateKeyPair();
    const src = world([approver.publicKeyHex, proposer.publicKeyHex]);
    const dir = join(mkdtempSync(join(tmpdir(), "wk-gov-")), "w");
    const opts = {};
    const w = await createWorld(dir, src, opts);
    await w.sendMany(
      Array.from({ length: 10 }, (_, i) => ({
        schema: "demo/CounterEvent@1",
        json: { key: i % 2 ? "a" : "b", by: 3 },
      })),
    );
    const base = w.catalog.manifestHash;

    const dbl = doubleCounter();
    const doc = {
      base_manifest_hash: base,
      patches: [
        {
          replace_def: {
            kind: "defmodule",
            name: "demo/Counter@1",
            new_node: { ...src.mod, wasm_hash: hashBytes(dbl) },
            pre_hash: hashDef(src.mod as AnyDef),
          },
        },
      ],
    };
    const { proposalId, newManifestHash } = await propose(w, doc, { proposer, wasm: [dbl] });
    expect(newManifestHash).not.toBe(base);
    expect(w.catalog.manifestHash).toBe(base); // nothing changes on proposal
    await expect(approve(w, proposalId, approver)).rejects.toMatchObject({ code: "governance.no_shadow" });

    const { report } = await shadow(w, proposalId, { window: 50 });
    expect(report.events).toBe(10);
    expect(report.failures).toEqual([]);
    expect(report.cells.map((c) => c.key).sort()).toEqual(["a", "b"]);
    expect(report.differing_entries).toBeGreaterThan(0);

    await expect(apply(w, proposalId)).rejects.toMatchObject({ code: "governance.not_approved" });
    await expect(approve(w, proposalId, proposer)).rejects.toMatchObject({
      code: "kernel.bad_approval",
      message: expect.stringContaining("own proposal"),
    });
    await expect(approve(w, proposalId, generateKeyPair())).rejects.toMatchObject({ code: "kernel.bad_approval" });
    await approve(w, proposalId, approver);
    await apply(w, proposalId);
    expect(w.catalog.manifestHash).toBe(newManifestHash);
    await expect(apply(w, proposalId)).rejects.toMatchObject({ code: "governance.already_applied" });

    await w.send("demo/CounterEvent@1", { key: "a", by: 1 });
    expect(w.cellState("demo/Counter@1", "a")).toEqual({ count: 16, events: 7 }); // 5 events counted once, this one twice
    await expect(propose(w, doc, { proposer })).rejects.toMatchObject({
      code: "governance.stale_base",
      message: expect.stringContaining("stale"),
    });
    const root = w.stateRefs().state_root;
    await w.close({ snapshot: false });

    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
    const cold = await World.open(dir, opts);
    expect(cold.stateRefs()).toEqual({ state_root: root, manifest_hash: newManifestHash });
    await cold.send("demo/CounterEvent@1", { key: "b", by: 1 });
    const root2 = cold.stateRefs().state_root;
    await cold.close(); // snapshot under the new manifest
    const again = await World.open(dir, opts);
    expect(again.stateRefs()).toEqual({ state_root: root2, manifest_hash: newManifestHash });
    await again.close({ snapshot: false });
    expect(await replayWorld(dir, { fromSnapshot: true })).toMatchObject({
      ok: true,
      state_root: root2,
    });
  }, 120_000);

  it("refuses malformed patches, unknown refs and state schema changes, naming the place", async () => {
    const src = world([generateKeyPair().publicKeyHex]);
    const dir = join(mkdtempSync(join(tmpdir(), "wk-gov-")), "w");
    const w = await createWorld(dir, src);
    const base = w.catalog.manifestHash;
    await expect(propose(w, { base_manifest_hash: base, patches: [] })).rejects.toMatchObject({
      code: "air.schema_violation",
      path: "$.patches",
    });
    await expect(
      propose(w, {
        base_manifest_hash: base,
        patches: [
          { add_def: { kind: "defschema", node: { $kind: "defschema", name: "sys/Mine@1", type: { text: {} } } } },
        ],
      }),
    ).rejects.toMatchObject({ code: "air.patch_conflict" });
    await expect(
      propose(w, {
        base_manifest_hash: base,
        patches: [
          {
            replace_def: {
              kind: "defmodule",
              name: "demo/Counter@1",
              new_node: { ...src.mod, abi: { workflow: { state: "demo/Ghost@1", event: "demo/CounterEvent@1" } } },
              pre_hash: hashDef(src.mod as AnyDef),
            },
          },
        ],
      }),
    ).rejects.toMatchObject({ code: "air.unknown_ref" });
    await expect(
      propose(w, {
        base_manifest_hash: base,
        patches: [
          {
            add_def: {
              kind: "defschema",
              node: { $kind: "defschema", name: "demo/CounterState@2", type: { record: { count: { nat: {} } } } },
            },
          },
          {
            replace_def: {
              kind: "defmodule",
              name: "demo/Counter@1",
              new_node: {
                ...src.mod,
                abi: { workflow: { state: "demo/CounterState@2", event: "demo/CounterEvent@1" } },
              },
              pre_hash: hashDef(src.mod as AnyDef),
            },
          },
        ],
      }),
    ).rejects.toMatchObject({ code: "governance.migration_required", message: expect.stringContaining("migration") });
    await expect(
      propose(w, {
        base_manifest_hash: base,
        patches: [
          {
            replace_def: {
              kind: "defmodule",
              name: "demo/Counter@1",
              new_node: src.mod,
              pre_hash: `sha256:${"0".repeat(64)}`,
            },
          },
        ],
      }),
    ).rejects.toMatchObject({ code: "air.patch_conflict", path: "$.patches[0].replace_def.pre_hash" });
    await w.close();
  });
});

describe("governance from the command line", () => {
  it("wk propose → shadow → approve → apply, then replay", async () => {
    const { spawnSync } = await import("node:child_process");
    const { writeFileSync } = await import("node:fs");
    const { saveKeyPair } = await import("../../kernel/crypto/keys.js");
    const CLI = join(ROOT, "tools/cli/main.ts");
    const wk = (...args: string[]) =>
      spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { encoding: "utf8" });
    const base = mkdtempSync(join(tmpdir(), "wk-gov-cli-"));
    const approver = generateKeyPair();
    saveKeyPair(join(base, "approver.key"), approver);
    const proposer = generateKeyPair();
    saveKeyPair(join(base, "proposer.key"), proposer);
    const src = world([approver.publicKeyHex]);
    const dir = join(base, "w");
    const w = await createWorld(dir, src);
    await w.send("demo/CounterEvent@1", { key: "a", by: 2 });
    const manifest = w.catalog.manifestHash;
    await w.close();
    const dbl = doubleCounter();
    writeFileSync(join(base, "double.wasm"), dbl);
    writeFileSync(
      join(base, "patch.json"),
      JSON.stringify({
        base_manifest_hash: manifest,
        patches: [
          {
            replace_def: {
              kind: "defmodule",
              name: "demo/Counter@1",
              new_node: { ...src.mod, wasm_hash: hashBytes(dbl) },
              pre_hash: hashDef(src.mod as AnyDef),
            },
          },
        ],
      }),
    );
    // Unsigned proposals are refused unless the policy allows them.
    const unsigned = wk(
      "propose",
      join(base, "patch.json"),
      "--world",
      dir,
      "--wasm",
      join(base, "double.wasm"),
      "--json",
    );
    expect(unsigned.status).toBe(1);
    expect(JSON.parse(unsigned.stdout)).toMatchObject({ ok: false, code: "governance.unsigned_proposal" });
    const p = wk(
      "propose",
      join(base, "patch.json"),
      "--world",
      dir,
      "--wasm",
      join(base, "double.wasm"),
      "--key",
      join(base, "proposer.key"),
      "--json",
    );
    expect(p.status, p.stderr).toBe(0);
    const id = (JSON.parse(p.stdout) as { proposal_id: string }).proposal_id;
    const s = wk("shadow", id, "--world", dir, "--json");
    expect(s.status, s.stderr).toBe(0);
    expect((JSON.parse(s.stdout) as { cells: unknown[] }).cells).toHaveLength(1);
    expect(wk("apply", id, "--world", dir).status).toBe(1);
    expect(wk("approve", id, "--key", join(base, "approver.key"), "--world", dir).status).toBe(0);
    const a = wk("apply", id, "--world", dir, "--json");
    expect(a.status, a.stderr).toBe(0);
    const r = wk("replay", "--world", dir, "--json");
    expect(r.status, r.stdout).toBe(0);
    expect(wk("verify", "--world", dir).status).toBe(0);
  }, 120_000);
});

describe("governance approvals are checked by the journal rules", () => {
  it("a real approval passes the shared rule; a changed report or a stranger's key fails it", async () => {
    const { checkApproval, approvalPayload } = await import("../../kernel/world/governance-rules.js");
    const key = generateKeyPair();
    const h = (c: string) => `sha256:${c.repeat(64)}`;
    const proposal = {
      proposal_id: h("a"),
      patch_ref: h("b"),
      base_manifest_hash: h("c"),
      new_manifest_hash: h("d"),
      bundle_ref: h("e"),
      proposer: null,
      description: null,
    };
    const body = {
      proposal_id: h("a"),
      approver: key.publicKeyHex,
      patch_ref: h("b"),
      shadow_report_hash: h("f"),
      signature: key.sign("approval", approvalPayload("w-1", h("a"), h("b"), h("f"))),
    };
    const policy = policyNaming(key);
    expect(checkApproval("w-1", body, proposal, new Set([h("f")]), policy, new Set())).toBeNull();
    expect(
      checkApproval(
        "w-1",
        { ...body, shadow_report_hash: h("0") },
        proposal,
        new Set([h("f"), h("0")]),
        policy,
        new Set(),
      ),
    ).toMatchObject({ code: "governance.bad_signature", message: expect.stringMatching(/signature/) });
    expect(
      checkApproval(
        "w-1",
        body,
        proposal,
        new Set([h("f")]),
        { ...policy, approvers: [generateKeyPair().publicKeyHex] },
        new Set(),
      ),
    ).toMatchObject({ code: "governance.not_an_approver", message: expect.stringMatching(/not an approver/) });
    expect(checkApproval("w-1", body, proposal, new Set([h("f")]), policy, new Set([key.publicKeyHex]))).toMatchObject({
      code: "governance.self_approval",
      message: expect.stringMatching(/proposed this patch/),
    });
  });
});
