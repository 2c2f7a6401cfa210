/**
 * @module Failures block (issue 15): a shadow report with failing steps cannot be approved or
 * applied unless the approvers accept the failures — `acceptFailures` / `--accept-failures`,
 * journaled in the approval and covered by its signature. Every refusal is typed
 * (`governance.no_shadow`, `governance.failed_shadow`) and leaves a journal that verifies; the
 * CLI's `wk shadow` fails (exit 1) on a failing report, `wk approve` shows the report before it
 * signs. The report sets `ctx.manifest_hash` aside when comparing entries and says what they
 * differ in.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored, type CborObject } from "../../air/index.js";
import { generateKeyPair, saveKeyPair } from "../../kernel/crypto/keys.js";
import { KernelError } from "../../kernel/core/errors.js";
import { apply, approve, propose, shadow, type World } from "../../kernel/world/index.js";
import { decisionChanges, differingFields } from "../../kernel/world/governance.js";
import {
  acceptingApprovers,
  applyFault,
  approvalPayload,
  checkApply,
  newProposalState,
  noteApproval,
  reportCountFault,
} from "../../kernel/world/governance-rules.js";
import { ok, wk } from "./cli-harness.js";
import {
  expectVerifies,
  fuelPatch,
  policyNaming,
  proposedFuelPatchViaCli,
  worldWith,
} from "./fixtures/governed-counter.js";

async function rejectsWith(p: Promise<unknown>, code: string): Promise<KernelError> {
  const e = await p.then(
    () => null,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(KernelError);
  expect((e as KernelError).code).toBe(code);
  return e as KernelError;
}

const records = (w: World, kind: string) =>
  [...w.store.ruleEntriesSync()]
    .filter((e) => e.kind === kind)
    .map((e) => ({ seq: e.seq, body: decodeStored(e.body) as CborObject }));

describe("failing shadow reports block approval and apply", () => {
  it("approve before any shadow is governance.no_shadow; the journal verifies", async () => {
    const a = generateKeyPair();
    const { w, dir, src } = await worldWith([a]);
    const { proposalId } = await propose(w, fuelPatch(w.catalog.manifestHash, src.mod, 1), {
      proposer: generateKeyPair(),
    });
    await rejectsWith(approve(w, proposalId, a), "governance.no_shadow");
    await rejectsWith(approve(w, proposalId, a, { acceptFailures: true }), "governance.no_shadow");
    await rejectsWith(apply(w, proposalId), "governance.no_shadow");
    expect(records(w, "approval")).toHaveLength(0);
    await expectVerifies(w, dir);
  });

  it("a failing report names module, key, event and code; approve is governance.failed_shadow; accepting the failures approves and applies", async () => {
    const a = generateKeyPair();
    const { w, dir, src } = await worldWith([a]);
    const events = new Set<number>();
    for await (const e of w.store.iterate(0)) if (e.kind === "event") events.add(e.seq);
    expect(events.size).toBe(4);
    const { proposalId, newManifestHash } = await propose(w, fuelPatch(w.catalog.manifestHash, src.mod, 1), {
      proposer: generateKeyPair(),
    });
    const { report, reportHash } = await shadow(w, proposalId);
    expect(report.report_version).toBe(2);
    expect(report.failures).toHaveLength(4);
    for (const f of report.failures) {
      expect(f).toMatchObject({
        module: "demo/Counter@1",
        key: expect.stringMatching(/^[ab]$/),
        code: expect.any(String),
      });
      expect(events.has(f.event_seq), `event_seq ${f.event_seq} names a recorded event`).toBe(true);
    }
    expect(records(w, "shadow_report").at(-1)!.body).toMatchObject({ report_hash: reportHash, failures: 4 });

    const refused = await rejectsWith(approve(w, proposalId, a), "governance.failed_shadow");
    expect(refused.message).toContain("demo/Counter@1");
    expect(refused.message).toContain("--accept-failures");
    expect((await rejectsWith(apply(w, proposalId), "governance.failed_shadow")).message).toMatch(
      /4 failing step\(s\) and 0 of its approvals accepted them/,
    );
    expect(records(w, "approval")).toHaveLength(0);

    await approve(w, proposalId, a, { acceptFailures: true });
    const approval = records(w, "approval")[0]!.body;
    expect(approval).toMatchObject({ accept_failures: true, shadow_report_hash: reportHash });
    const { manifestHash } = await apply(w, proposalId);
    expect(manifestHash).toBe(newManifestHash);
    await expectVerifies(w, dir);
  }, 60_000);

  it("apply over a failing report is governance.failed_shadow while fewer than the threshold accepted the failures", async () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    const { w, dir, src } = await worldWith([a, b], 2);
    const { proposalId } = await propose(w, fuelPatch(w.catalog.manifestHash, src.mod, 1), {
      proposer: generateKeyPair(),
    });
    const { reportHash } = await shadow(w, proposalId);
    await approve(w, proposalId, a, { acceptFailures: true });
    // b's signature of the report but not of its failures, as an approver's client that knows nothing of failures writes it.
    const patchRef = records(w, "proposal")[0]!.body.patch_ref as string;
    await w.appendRecord("approval", {
      proposal_id: proposalId,
      approver: b.publicKeyHex,
      patch_ref: patchRef,
      shadow_report_hash: reportHash,
      signature: b.sign("approval", approvalPayload(w.id, proposalId, patchRef, reportHash)),
    });
    const e = await rejectsWith(apply(w, proposalId), "governance.failed_shadow");
    expect(e.message).toMatch(/4 failing step\(s\) and 1 of its approvals accepted them; the policy needs 2/);
    expect(records(w, "apply")).toHaveLength(0);
    await expectVerifies(w, dir);
  }, 60_000);

  it("a report without failures needs no acceptance: a limits patch that changes nothing differs in no entry", async () => {
    const a = generateKeyPair();
    const { w, dir, src } = await worldWith([a]);
    const { proposalId } = await propose(w, fuelPatch(w.catalog.manifestHash, src.mod, 50_000_000), {
      proposer: generateKeyPair(),
    });
    const { report } = await shadow(w, proposalId);
    expect(report).toMatchObject({ failures: [], cells: [], differing_entries: 0, differing_fields: {}, fuel_only: 0 });
    expect(records(w, "shadow_report").at(-1)!.body.failures).toBe(0);
    await approve(w, proposalId, a);
    expect(records(w, "approval")[0]!.body.accept_failures).toBeUndefined();
    await apply(w, proposalId);
    await expectVerifies(w, dir);
  }, 60_000);
});

describe("the failure rules, as wk verify applies them", () => {
  const h = (c: string) => `sha256:${c.repeat(64)}`;
  const body = {
    proposal_id: h("a"),
    patch_ref: h("b"),
    base_manifest_hash: h("c"),
    new_manifest_hash: h("d"),
    bundle_ref: h("e"),
    proposer: null,
    description: null,
  };
  const key = generateKeyPair();
  const policy = policyNaming(key);
  const approval = (accept: boolean) => ({
    proposal_id: h("a"),
    approver: key.publicKeyHex,
    patch_ref: h("b"),
    shadow_report_hash: h("f"),
    ...(accept ? { accept_failures: true as const } : {}),
    signature: new Uint8Array(64),
  });
  const stateWith = (failures: number | null, accept: boolean) => {
    const s = newProposalState(body);
    s.reports.add(h("f"));
    s.latestReport = h("f");
    s.latestFailures = failures;
    noteApproval(s, approval(accept));
    return s;
  };

  it("applyFault: a failing report needs accepting approvals; a report with no recorded count (an older journal) does not", () => {
    expect(applyFault(stateWith(2, false), h("c"), policy)).toMatch(
      /2 failing step\(s\) and 0 of its approvals accepted them/,
    );
    expect(applyFault(stateWith(2, true), h("c"), policy)).toBeNull();
    expect(acceptingApprovers(stateWith(2, true), policy)).toEqual([key.publicKeyHex]);
    expect(applyFault(stateWith(0, false), h("c"), policy)).toBeNull();
    expect(applyFault(stateWith(null, false), h("c"), policy)).toBeNull();
  });

  it("checkApply: the fault carries the code the kernel refuses with (and a denial's seq), so callers need not re-run the checks", () => {
    expect(checkApply(stateWith(2, false), h("c"), policy)?.code).toBe("governance.failed_shadow");
    expect(checkApply(stateWith(2, false), h("9"), policy)?.code).toBe("governance.stale_base");
    expect(checkApply(undefined, h("c"), policy)?.code).toBe("governance.unknown_proposal");
    const noReport = newProposalState(body);
    expect(checkApply(noReport, h("c"), policy)?.code).toBe("governance.no_shadow");
    const denied = stateWith(null, false);
    denied.denied = { seq: 7, approver: key.publicKeyHex, reason: "no" };
    expect(checkApply(denied, h("c"), policy)).toEqual({
      code: "governance.denied",
      message: applyFault(denied, h("c"), policy),
      seq: 7,
    });
    const applied = stateWith(null, false);
    applied.applied = true;
    expect(checkApply(applied, h("c"), policy)?.code).toBe("governance.already_applied");
    expect(checkApply(stateWith(2, true), h("c"), policy)).toBeNull();
  });

  it("reportCountFault: the entry's count must match the report, and a version-2 report must carry it", () => {
    expect(reportCountFault({ report_version: 2, failures: [{}, {}] }, 2)).toBeNull();
    expect(reportCountFault({ report_version: 2, failures: [{}, {}] }, 0)).toMatch(
      /says 0 step\(s\) fail, the report lists 2/,
    );
    expect(reportCountFault({ report_version: 2, failures: [] }, undefined)).toMatch(
      /does not record how many steps fail/,
    );
    expect(reportCountFault({ failures: [{}] }, undefined)).toBeNull(); // a report journaled before the count
  });

  it("decision changes list only the codes whose counts differ, with both counts", () => {
    expect(decisionChanges({ "policy.allow": 2, x: 1 }, { "policy.allow": 1, x: 1, "gate.denied": 1 })).toEqual({
      "gate.denied": { before: 0, after: 1 },
      "policy.allow": { before: 2, after: 1 },
    });
    expect(decisionChanges({ a: 1 }, { a: 1 })).toEqual({});
  });

  it("report entries are compared with ctx.manifest_hash set aside, field by field", () => {
    const ev = (m: string, value = 1) => ({
      kind: "event",
      body: { schema: "s", value, key: null, ctx: { now_ns: 0, manifest_hash: m }, origin: { kind: "module" } },
    });
    expect(differingFields(ev(h("1")), ev(h("2")))).toEqual([]);
    expect(differingFields(ev(h("1"), 1), ev(h("2"), 2))).toEqual(["event.value"]);
    const step = (fuel: number, state: string) => ({
      kind: "step",
      body: { module: "m", ok: true, fuel, state_hash: state },
    });
    expect(differingFields(step(1, h("3")), step(2, h("3")))).toEqual(["step.fuel"]);
    expect(differingFields(step(1, h("3")), step(2, h("4")))).toEqual(["step.fuel", "step.state_hash"]);
    expect(differingFields(step(1, h("3")), ev(h("1")))).toEqual(["kind"]);
  });

  it("accept_failures is covered by the approver's signature, and absent leaves the old payload byte for byte", () => {
    const old = approvalPayload("w", h("a"), h("b"), h("f"));
    expect(approvalPayload("w", h("a"), h("b"), h("f"), false)).toEqual(old);
    expect(approvalPayload("w", h("a"), h("b"), h("f"), true)).not.toEqual(old);
  });
});

describe("failures block, from the command line", () => {
  it("wk shadow exits 1 naming the failing steps; wk approve shows the report and refuses without --accept-failures; apply then verifies", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-govfail-cli-"));
    const a = generateKeyPair();
    saveKeyPair(join(base, "a.key"), a);
    const { dir, id } = await proposedFuelPatchViaCli(base, [a], 1);

    const noShadow = wk("approve", id, "--key", join(base, "a.key"), "--world", dir);
    expect(noShadow.status).toBe(1);
    expect(noShadow.stderr).toContain("error: governance.no_shadow:");

    const text = wk("shadow", id, "--window", "50", "--world", dir); // the window run compares entries field by field
    expect(text.status, text.stderr).toBe(1);
    expect(text.stdout).toContain("4 failed step(s)");
    expect(text.stdout).toMatch(/^ {2}the entries differ in .*step\.ok ×4/m);
    expect(text.stderr).toMatch(
      /^error: governance\.failed_shadow: 4 step\(s\) fail under the proposed manifest: demo\/Counter@1 [ab] \(event seq \d+\): \S+/m,
    );
    const json = wk("shadow", id, "--window", "50", "--world", dir, "--json");
    expect(json.status).toBe(1);
    const report = JSON.parse(json.stdout) as { failures: unknown[]; report_hash: string; ok?: boolean };
    expect(report.failures).toHaveLength(4);
    expect(report.ok).toBeUndefined(); // the report, not an error record

    const refused = wk("approve", id, "--key", join(base, "a.key"), "--world", dir);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain(`latest shadow report ${report.report_hash}:`);
    expect(refused.stdout).toMatch(
      /4 event\(s\) replayed, 2 cell\(s\) end differently, \d+ entr\(ies\) differ, 4 failed step\(s\), fuel \d+ → \d+/,
    );
    expect(refused.stderr).toContain("error: governance.failed_shadow:");
    const notYet = wk("apply", id, "--world", dir, "--json");
    expect(notYet.status).toBe(1);
    expect(JSON.parse(notYet.stdout)).toMatchObject({ ok: false, code: "governance.failed_shadow" });

    const approved = ok<{ accept_failures: boolean; report: { failures: number } }>(
      "approve",
      id,
      "--key",
      join(base, "a.key"),
      "--world",
      dir,
      "--accept-failures",
      "--json",
    );
    expect(approved).toMatchObject({ accept_failures: true, report: { failures: 4, report_hash: report.report_hash } });
    ok("apply", id, "--world", dir, "--json");
    expect(ok("verify", "--world", dir, "--json")).toMatchObject({ ok: true });
  }, 120_000);
});
