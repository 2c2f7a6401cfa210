/**
 * @module Denying a governance proposal: an approver named by the policy signs a denial with a
 * reason (an `approval` entry with `decision: "deny"`), after which the proposal is never
 * shadowed, approved, applied or denied again (`governance.denied`, naming the denial's seq).
 * Real worlds and signatures: the presigned (console) path, forged and replayed denials named by
 * verify, and `wk deny` end to end. The world verifies and replays afterwards.
 */
import type { ApprovalBody } from "../../kernel/journal/index.js";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ed25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { decodeStored, type CborObject } from "../../air/index.js";
import { generateKeyPair, saveKeyPair, type KeyPair } from "../../kernel/crypto/keys.js";
import { presignedSigner } from "../../kernel/crypto/signer.js";
import { KernelError } from "../../kernel/core/errors.js";
import {
  apply,
  approve,
  denialMessage,
  denyProposal,
  propose,
  replayWorld,
  shadow,
  verifyWorld,
  type World,
} from "../../kernel/world/index.js";
import { approvalMessage, listProposals } from "../../kernel/world/governance.js";
import { approvalPayload, denialPayload } from "../../kernel/world/governance-rules.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { wk } from "./cli-harness.js";
import { expectVerifies, fuelPatch, proposedFuelPatchViaCli, worldWith } from "./fixtures/governed-counter.js";

const records = (w: World, kind: string) =>
  [...w.store.ruleEntriesSync()]
    .filter((e) => e.kind === kind)
    .map((e) => ({ seq: e.seq, body: decodeStored(e.body) as CborObject }));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<KernelError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect((e as { code?: string } | null)?.code, String(e)).toBe(code);
  return e as KernelError;
}

function throwsWith(f: () => unknown, code: string): KernelError {
  try {
    f();
  } catch (e) {
    expect((e as { code?: string }).code, String(e)).toBe(code);
    return e as KernelError;
  }
  return expect.fail(`expected ${code}`);
}

/** A world whose policy names `approvers` (threshold 1) with a fuel patch proposed by a fresh key; shadowed unless `shadowed` is false. */
async function proposed(approvers: KeyPair[], opts: { shadowed?: boolean; proposer?: KeyPair } = {}) {
  const { w, dir, src } = await worldWith(approvers);
  const { proposalId } = await propose(w, fuelPatch(w.catalog.manifestHash, src.mod, 50_000_000), {
    proposer: opts.proposer ?? generateKeyPair(),
  });
  const reportHash = opts.shadowed === false ? null : (await shadow(w, proposalId)).reportHash;
  const patchRef = records(w, "proposal")[0]!.body.patch_ref as string;
  return { w, dir, proposalId, reportHash, patchRef };
}

async function verifyOf(w: World, dir: string) {
  await w.close({ snapshot: false });
  return verifyWorld(worldPaths(dir).journal);
}

describe("denying a proposal", () => {
  it("a denial vetoes an approved proposal: apply, approve, shadow and a second denial are governance.denied; it verifies and replays", async () => {
    const [a, b] = [generateKeyPair(), generateKeyPair()];
    const { w, dir, proposalId } = await proposed([a, b]);
    await approve(w, proposalId, a);
    expect(listProposals(w)[0]).toMatchObject({ status: "approved", denied: null });
    const seq = await denyProposal(w, proposalId, b, "fuel this high hides runaway loops");
    const body = records(w, "approval").find((r) => r.seq === seq)!.body;
    expect(body).toMatchObject({
      decision: "deny",
      reason: "fuel this high hides runaway loops",
      approver: b.publicKeyHex,
    });
    expect(body).not.toHaveProperty("shadow_report_hash");
    const count = w.store.countSync();

    const e = await rejectsWith(apply(w, proposalId), "governance.denied");
    expect(e.seq).toBe(seq);
    expect(e.details).toMatchObject({ proposal_id: proposalId });
    expect(e.message).toContain(`seq ${seq}`);
    expect((await rejectsWith(approve(w, proposalId, a), "governance.denied")).seq).toBe(seq);
    await rejectsWith(shadow(w, proposalId), "governance.denied");
    await rejectsWith(denyProposal(w, proposalId, a, "me too"), "governance.denied");
    throwsWith(() => approvalMessage(w, proposalId), "governance.denied");
    throwsWith(() => denialMessage(w, proposalId, "again"), "governance.denied");
    expect(w.store.countSync()).toBe(count);

    expect(listProposals(w)).toEqual([
      expect.objectContaining({
        proposal_id: proposalId,
        status: "denied",
        denied: { seq, approver: b.publicKeyHex, reason: "fuel this high hides runaway loops" },
      }),
    ]);
    const root = w.stateRefs().state_root;
    await expectVerifies(w, dir);
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
  }, 60_000);

  it("a proposal with no shadow report yet can be denied; an approval still carries no decision or reason", async () => {
    const a = generateKeyPair();
    const { w, dir, proposalId } = await proposed([a], { shadowed: false });
    expect(listProposals(w)[0]).toMatchObject({ status: "filed", denied: null });
    const seq = await denyProposal(w, proposalId, a, "not now");
    expect(listProposals(w)[0]).toMatchObject({ status: "denied", denied: { seq, reason: "not now" } });

    const other = await proposed([a]);
    await approve(other.w, other.proposalId, a);
    expect(Object.keys(records(other.w, "approval")[0]!.body).sort()).toEqual([
      "approver",
      "patch_ref",
      "proposal_id",
      "shadow_report_hash",
      "signature",
    ]);
    await expectVerifies(other.w, other.dir);
    await expectVerifies(w, dir);
  }, 60_000);

  it("refusals: a stranger's key, a blank or overlong reason, an applied proposal; nothing is journaled", async () => {
    const a = generateKeyPair();
    const { w, dir, proposalId } = await proposed([a]);
    const count = w.store.countSync();
    const e = await rejectsWith(denyProposal(w, proposalId, generateKeyPair(), "no"), "kernel.bad_approval");
    expect(e.message).toContain("not an approver");
    await rejectsWith(denyProposal(w, proposalId, a, "  "), "governance.bad_reason");
    await rejectsWith(denyProposal(w, proposalId, a, "x".repeat(2001)), "governance.bad_reason");
    await rejectsWith(denyProposal(w, `sha256:${"0".repeat(64)}`, a, "no"), "governance.unknown_proposal");
    expect(w.store.countSync()).toBe(count);
    await approve(w, proposalId, a);
    await apply(w, proposalId);
    await rejectsWith(denyProposal(w, proposalId, a, "too late"), "governance.already_applied");
    throwsWith(() => denialMessage(w, proposalId, "too late"), "governance.already_applied");
    await expectVerifies(w, dir);
  }, 60_000);

  it("an approver may deny its own proposal (a withdrawal), though it may not approve it", async () => {
    const a = generateKeyPair();
    const { w, dir, proposalId } = await proposed([a], { proposer: a });
    await rejectsWith(approve(w, proposalId, a), "kernel.bad_approval");
    await denyProposal(w, proposalId, a, "withdrawn by its proposer");
    await expectVerifies(w, dir);
  }, 60_000);

  it("a signature made elsewhere over denialMessage's bytes is journaled; one over another reason is crypto.bad_signature", async () => {
    const a = generateKeyPair();
    const { w, dir, proposalId } = await proposed([a]);
    const reason = "denied from the console";
    const sigHex = Buffer.from(ed25519.sign(denialMessage(w, proposalId, reason), a.secretKeyBytes())).toString("hex");
    const count = w.store.countSync();
    await rejectsWith(
      denyProposal(w, proposalId, presignedSigner(a.publicKeyHex, sigHex), "another reason"),
      "crypto.bad_signature",
    );
    // An approval's signature is no denial's: the console cannot be tricked into one for the other.
    const approvalSig = Buffer.from(ed25519.sign(approvalMessage(w, proposalId), a.secretKeyBytes())).toString("hex");
    await rejectsWith(
      denyProposal(w, proposalId, presignedSigner(a.publicKeyHex, approvalSig), reason),
      "crypto.bad_signature",
    );
    expect(w.store.countSync()).toBe(count);
    const seq = await denyProposal(w, proposalId, presignedSigner(a.publicKeyHex, sigHex), reason);
    expect(listProposals(w)[0]!.denied).toEqual({ seq, approver: a.publicKeyHex, reason });
    await expectVerifies(w, dir);
  }, 60_000);
});

describe("wk verify holds denials to the rules", () => {
  it("an approval's signature replayed as a denial is bad_signature", async () => {
    const a = generateKeyPair();
    const { w, dir, proposalId } = await proposed([a]);
    const approved = await approve(w, proposalId, a);
    const { shadow_report_hash: _report, ...rest } = records(w, "approval").find((r) => r.seq === approved)!.body;
    const seq = await w.appendRecord("approval", { ...rest, decision: "deny", reason: "forged" } as ApprovalBody);
    const v = await verifyOf(w, dir);
    expect(v, JSON.stringify(v)).toMatchObject({ ok: false, fault: "bad_signature", first_bad_seq: seq });
    expect(String((v as { message?: string }).message)).toContain("denial signature");
  }, 60_000);

  it("a denial's signature replayed as an approval is bad_signature", async () => {
    const a = generateKeyPair();
    const { w, dir, proposalId, reportHash } = await proposed([a]);
    const patchRef = records(w, "proposal")[0]!.body.patch_ref as string;
    const seq = await w.appendRecord("approval", {
      proposal_id: proposalId,
      approver: a.publicKeyHex,
      patch_ref: patchRef,
      shadow_report_hash: reportHash!,
      signature: a.sign("approval", denialPayload(w.id, proposalId, patchRef, "no")),
    });
    const v = await verifyOf(w, dir);
    expect(v, JSON.stringify(v)).toMatchObject({ ok: false, fault: "bad_signature", first_bad_seq: seq });
  }, 60_000);

  it("a denial by a key the policy does not name is unauthorized_denial", async () => {
    const { w, dir, proposalId, patchRef } = await proposed([generateKeyPair()]);
    const stranger = generateKeyPair();
    const seq = await w.appendRecord("approval", {
      proposal_id: proposalId,
      approver: stranger.publicKeyHex,
      patch_ref: patchRef,
      decision: "deny",
      reason: "mine",
      signature: stranger.sign("approval", denialPayload(w.id, proposalId, patchRef, "mine")),
    });
    const v = await verifyOf(w, dir);
    expect(v, JSON.stringify(v)).toMatchObject({ ok: false, fault: "unauthorized_denial", first_bad_seq: seq });
  }, 60_000);

  it("a replayed denial is duplicate_denial", async () => {
    const a = generateKeyPair();
    const { w, dir, proposalId } = await proposed([a]);
    const first = await denyProposal(w, proposalId, a, "no");
    const seq = await w.appendRecord(
      "approval",
      records(w, "approval").find((r) => r.seq === first)!.body as ApprovalBody,
    );
    const v = await verifyOf(w, dir);
    expect(v, JSON.stringify(v)).toMatchObject({ ok: false, fault: "duplicate_denial", first_bad_seq: seq });
  }, 60_000);

  it("a signed approval written after the denial is unauthorized_approval; an apply after it is unauthorized_apply", async () => {
    const a = generateKeyPair();
    const { w, dir, proposalId, reportHash, patchRef } = await proposed([a]);
    await denyProposal(w, proposalId, a, "no");
    const seq = await w.appendRecord("approval", {
      proposal_id: proposalId,
      approver: a.publicKeyHex,
      patch_ref: patchRef,
      shadow_report_hash: reportHash!,
      signature: a.sign("approval", approvalPayload(w.id, proposalId, patchRef, reportHash!)),
    });
    const v = await verifyOf(w, dir);
    expect(v, JSON.stringify(v)).toMatchObject({ ok: false, fault: "unauthorized_approval", first_bad_seq: seq });
    expect(String((v as { message?: string }).message)).toContain("denied");

    // Approved first, then denied: an apply written around the denial.
    const b = await proposed([a]);
    await approve(b.w, b.proposalId, a);
    await denyProposal(b.w, b.proposalId, a, "changed my mind");
    const proposal = records(b.w, "proposal")[0]!.body;
    const applySeq = await b.w.appendRecord("apply", {
      proposal_id: b.proposalId,
      new_manifest_hash: proposal.new_manifest_hash as string,
      bundle_ref: proposal.bundle_ref as string,
      approvals: [a.publicKeyHex],
    });
    const v2 = await verifyOf(b.w, b.dir);
    expect(v2, JSON.stringify(v2)).toMatchObject({ ok: false, fault: "unauthorized_apply", first_bad_seq: applySeq });
  }, 60_000);

  it("malformed entries are bad_body: a denial without a reason, an approval with one", async () => {
    const a = generateKeyPair();
    const { w, dir, proposalId, reportHash, patchRef } = await proposed([a]);
    const seq = await w.appendRecord("approval", {
      proposal_id: proposalId,
      approver: a.publicKeyHex,
      patch_ref: patchRef,
      shadow_report_hash: reportHash!,
      reason: "an approval with a reason",
      signature: a.sign("approval", approvalPayload(w.id, proposalId, patchRef, reportHash!)),
    });
    const v = await verifyOf(w, dir);
    expect(v, JSON.stringify(v)).toMatchObject({ ok: false, fault: "bad_body", first_bad_seq: seq });

    const b = await proposed([a]);
    const seq2 = await b.w.appendRecord("approval", {
      proposal_id: b.proposalId,
      approver: a.publicKeyHex,
      patch_ref: b.patchRef,
      decision: "deny",
      signature: a.sign("approval", denialPayload(b.w.id, b.proposalId, b.patchRef, "")),
    });
    const v2 = await verifyOf(b.w, b.dir);
    expect(v2, JSON.stringify(v2)).toMatchObject({ ok: false, fault: "bad_body", first_bad_seq: seq2 });
  }, 60_000);
});

describe("wk deny", () => {
  it("denies through the CLI; wk apply is then governance.denied and wk verify passes", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-deny-"));
    const a = generateKeyPair();
    saveKeyPair(join(base, "a.key"), a);
    const { dir, id } = await proposedFuelPatchViaCli(base, [a], 50_000_000);
    const key = join(base, "a.key");

    const blank = wk("deny", id, "--key", key, "--reason", " ", "--world", dir, "--json");
    expect(blank.status, blank.stdout + blank.stderr).toBe(2);
    const denied = wk("deny", id, "--key", key, "--reason", "not this release", "--world", dir, "--json");
    expect(denied.status, denied.stdout + denied.stderr).toBe(0);
    const out = JSON.parse(denied.stdout) as { proposal_id: string; seq: number };
    expect(out).toEqual({ proposal_id: id, seq: expect.any(Number) });

    const again = wk("deny", id, "--key", key, "--reason", "twice", "--world", dir);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("error: governance.denied:");
    const applied = wk("apply", id, "--world", dir, "--json");
    expect(applied.status).toBe(1);
    expect(JSON.parse(applied.stdout)).toMatchObject({ ok: false, code: "governance.denied" });
    expect(JSON.parse(applied.stdout).message).toContain(`seq ${out.seq}`);
    const human = wk("deny", id, "--key", key, "--reason", "x", "--world", dir);
    expect(human.stderr).toContain(`denied at seq ${out.seq}`);
    const verified = wk("verify", "--world", dir);
    expect(verified.status, verified.stdout + verified.stderr).toBe(0);
  }, 60_000);
});
