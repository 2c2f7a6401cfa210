/**
 * @module Refusals of issue 15's acceptance: a patch that removes a module routing still
 * subscribes (refused at propose, naming the path), an approval replayed into the journal (verify
 * names it; a second live approval of the same report is refused), apply twice, and forged
 * approvals (a key the policy does not name, a flipped signature byte: verify names the fault).
 * Every refusal is a typed error; the journal verifies afterwards, or verify names the forged entry.
 */
import type { ApprovalBody } from "../../kernel/journal/index.js";
import { describe, expect, it } from "vitest";
import { AirError, decodeStored, hashDef, type AnyDef, type CborObject } from "../../air/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { KernelError } from "../../kernel/core/errors.js";
import { apply, approve, propose, shadow, verifyWorld, type World } from "../../kernel/world/index.js";
import { approvalPayload } from "../../kernel/world/governance-rules.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { wk } from "./cli-harness.js";
import { expectVerifies, fuelPatch, worldWith } from "./fixtures/governed-counter.js";

const records = (w: World, kind: string) =>
  [...w.store.ruleEntriesSync()]
    .filter((e) => e.kind === kind)
    .map((e) => ({ seq: e.seq, body: decodeStored(e.body) as CborObject }));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<KernelError | AirError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e instanceof KernelError || e instanceof AirError, String(e)).toBe(true);
  expect((e as KernelError).code).toBe(code);
  return e as KernelError;
}

/** A world with a proposal shadowed (no failures) and approved once by `a`. */
async function approvedOnce() {
  const a = generateKeyPair();
  const { w, dir, src } = await worldWith([a]);
  const { proposalId } = await propose(w, fuelPatch(w.catalog.manifestHash, src.mod, 50_000_000), {
    proposer: generateKeyPair(),
  });
  const { reportHash } = await shadow(w, proposalId);
  const seq = await approve(w, proposalId, a);
  return { a, w, dir, src, proposalId, reportHash, seq };
}

async function verifyOf(w: World, dir: string) {
  await w.close({ snapshot: false });
  return verifyWorld(worldPaths(dir).journal);
}

describe("governance refusals (issue 15)", () => {
  it("a patch removing a module that routing still subscribes is refused at propose, naming the path; nothing is journaled", async () => {
    const { w, dir, src } = await worldWith([generateKeyPair()]);
    const count = w.store.countSync();
    const e = await rejectsWith(
      propose(
        w,
        {
          base_manifest_hash: w.catalog.manifestHash,
          patches: [
            { remove_def: { kind: "defmodule", name: "demo/Counter@1", pre_hash: hashDef(src.mod as AnyDef) } },
          ],
        },
        { proposer: generateKeyPair() },
      ),
      "air.unknown_ref",
    );
    expect(e.message).toContain("demo/Counter@1");
    expect((e as AirError).path).toMatch(/\.routing\.subscriptions\[0\]\.module$/);
    expect(w.store.countSync()).toBe(count);
    await expectVerifies(w, dir);
  });

  it("a second live approval of the same report is refused; a replayed approval entry is named by verify", async () => {
    const { a, w, dir, proposalId, seq } = await approvedOnce();
    const e = await rejectsWith(approve(w, proposalId, a), "kernel.bad_approval");
    expect(e.message).toContain("already approved");
    expect(records(w, "approval")).toHaveLength(1);
    // The same signed entry appended again, as a replay by someone with write access to the journal would.
    const first = records(w, "approval").find((r) => r.seq === seq)!.body;
    const replayed = await w.appendRecord("approval", first as ApprovalBody);
    const v = await verifyOf(w, dir);
    expect(v, JSON.stringify(v)).toMatchObject({ ok: false, fault: "duplicate_approval", first_bad_seq: replayed });
    const cli = wk("verify", "--world", dir);
    expect(cli.status).toBe(1);
    expect(cli.stdout + cli.stderr).toContain("duplicate_approval");
  }, 60_000);

  it("apply twice is governance.already_applied, and so are shadow and approve after it; the journal verifies", async () => {
    const { w, dir, proposalId, a } = await approvedOnce();
    await apply(w, proposalId);
    const count = w.store.countSync();
    await rejectsWith(apply(w, proposalId), "governance.already_applied");
    await rejectsWith(shadow(w, proposalId), "governance.already_applied");
    await rejectsWith(approve(w, proposalId, a), "governance.already_applied");
    expect(w.store.countSync()).toBe(count);
    expect(records(w, "apply")).toHaveLength(1);
    await expectVerifies(w, dir);
  }, 60_000);

  it("a forged approval by a key the policy does not name: refused live, unauthorized_approval in verify", async () => {
    const { w, dir, proposalId, reportHash } = await approvedOnce();
    const stranger = generateKeyPair();
    await rejectsWith(approve(w, proposalId, stranger), "kernel.bad_approval");
    const patchRef = records(w, "proposal")[0]!.body.patch_ref as string;
    const seq = await w.appendRecord("approval", {
      proposal_id: proposalId,
      approver: stranger.publicKeyHex,
      patch_ref: patchRef,
      shadow_report_hash: reportHash,
      signature: stranger.sign("approval", approvalPayload(w.id, proposalId, patchRef, reportHash)),
    });
    const v = await verifyOf(w, dir);
    expect(v, JSON.stringify(v)).toMatchObject({ ok: false, fault: "unauthorized_approval", first_bad_seq: seq });
  }, 60_000);

  it("an approval with a flipped signature byte by a named approver: bad_signature in verify", async () => {
    const b = generateKeyPair();
    const { w, dir, src } = await worldWith([b]);
    const { proposalId } = await propose(w, fuelPatch(w.catalog.manifestHash, src.mod, 50_000_000), {
      proposer: generateKeyPair(),
    });
    const { reportHash } = await shadow(w, proposalId);
    const patchRef = records(w, "proposal")[0]!.body.patch_ref as string;
    const signature = b.sign("approval", approvalPayload(w.id, proposalId, patchRef, reportHash));
    signature[7] = signature[7]! ^ 0x01;
    const seq = await w.appendRecord("approval", {
      proposal_id: proposalId,
      approver: b.publicKeyHex,
      patch_ref: patchRef,
      shadow_report_hash: reportHash,
      signature,
    });
    const v = await verifyOf(w, dir);
    expect(v, JSON.stringify(v)).toMatchObject({ ok: false, fault: "bad_signature", first_bad_seq: seq });
    expect(String((v as { message?: string }).message)).toContain("signature");
    const cli = wk("verify", "--world", dir, "--json");
    expect(cli.status).toBe(1);
    expect(cli.stdout).toContain("bad_signature");
  }, 60_000);
});
