/**
 * @module The rules of governance as pure functions over journal records, shared by the
 * live kernel (propose, approve, apply) and by `wk verify`, so the journal can only hold
 * what the kernel itself would have allowed: a proposal id binds its base, patch and
 * proposer; a proposer's signature covers the whole proposal; approvers are the ones the
 * policy in force names, never a key that proposed the same patch; an apply needs the
 * policy's threshold of valid approvals of the proposal's latest shadow report — approvals that
 * accepted its failures when that report has failing steps — and no approver's denial of it.
 */
import { encodeStored } from "../../air/cbor/encode.js";
import { hashValue, type HashText } from "../../air/hash.js";
import type { AirCatalog } from "../../air/loader.js";
import type { DefPolicy } from "../../air/schemas/defs.js";
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import { verify } from "../crypto/sign.js";
import type { ApprovalBody, ApplyBody, ProposalBody } from "../journal/index.js";

/**
 * Why a governance record is not one the kernel would have written (or may write now): a stable
 * code the kernel throws as is, the reason, and the seq of the record it concerns when that is
 * not the record at hand (the denial that vetoes an apply). Callers pick the code from here
 * instead of re-running the checks; `wk verify` maps it to its fault names (journal-rules.ts).
 */
export interface RuleFault<C extends RuleCode = RuleCode> {
  code: C;
  message: string;
  seq?: number;
}

/** The codes a governance rule returns. */
export type RuleCode =
  | "governance.unknown_proposal"
  | "governance.bad_proposal_id"
  | "governance.bare_key_proposer"
  | "governance.unsigned_proposal"
  | "governance.bad_signature"
  | "governance.bad_body"
  | "governance.wrong_patch"
  | "governance.unknown_report"
  | "governance.not_an_approver"
  | "governance.self_approval"
  | "governance.already_applied"
  | "governance.denied"
  | "governance.stale_base"
  | "governance.no_shadow"
  | "governance.failed_shadow"
  | "governance.not_approved"
  | "governance.bad_apply"
  | "governance.bad_report";

/** Why the kernel refuses to apply a proposal now: each is a `KernelErrorCode` it throws as is. */
export type ApplyRefusalCode =
  | "governance.unknown_proposal"
  | "governance.already_applied"
  | "governance.denied"
  | "governance.stale_base"
  | "governance.no_shadow"
  | "governance.failed_shadow"
  | "governance.not_approved";

const rule = <C extends RuleCode>(code: C, message: string, seq?: number): RuleFault<C> => ({
  code,
  message,
  ...(seq === undefined ? {} : { seq }),
});

/** The message of a fault, or null (the string-returning form of the rules). */
const messageOf = (f: RuleFault | null): string | null => (f === null ? null : f.message);

/** Who proposed, as the proposal entry records it. */
export type Proposer = ProposalBody["proposer"];

/** The governance settings of the policy in force (the manifest's default policy). */
export interface GovernancePolicy {
  policy: string | null;
  approvers: string[];
  threshold: number;
  allowUnsigned: boolean;
  /** What a shadow run must not show (`shadow_invariants`). */
  invariants: ShadowInvariant[];
  /** What a shadow run given no options runs: the policy's `shadow_window` or `shadow_since`, else the whole history. */
  shadowDefault: { window: number } | { since: number };
}

/** An invariant a policy holds shadow runs to. */
export type ShadowInvariant = NonNullable<DefPolicy["shadow_invariants"]>[number];

/** The governance part of the catalog's default policy. */
export function governancePolicyOf(catalog: AirCatalog): GovernancePolicy {
  const name = catalog.manifest.defaults?.policy;
  const p = name ? catalog.policies.get(name)?.def : undefined;
  return {
    policy: name ?? null,
    approvers: (p?.approvers ?? []).map((a) => a.public_key),
    threshold: p?.threshold ?? 1,
    allowUnsigned: p?.allow_unsigned_proposals === true,
    invariants: p?.shadow_invariants ?? [],
    shadowDefault: p?.shadow_window !== undefined ? { window: p.shadow_window } : { since: p?.shadow_since ?? 0 },
  };
}

/** The proposer's identity as the proposal id binds it (the signature is not part of it). */
function proposerIdentity(p: Proposer): CborValue {
  if (p === null) return null;
  if (typeof p === "string") return p;
  return p.kind === "key"
    ? { kind: "key", public_key: p.public_key }
    : { kind: "module", module: p.module, intent_id: p.intent_id };
}

/** A proposal's id: its base, its patch and who proposed it. */
export function proposalIdOf(base: string, patchRef: string, proposer: Proposer): HashText {
  return hashValue({ base, patch: patchRef, proposer: proposerIdentity(proposer) });
}

/** The bytes a proposer signs: the world and everything the proposal commits to. */
export function proposalPayload(
  worldId: string,
  p: Pick<ProposalBody, "base_manifest_hash" | "patch_ref" | "new_manifest_hash" | "bundle_ref">,
): Uint8Array {
  return encodeStored({
    world_id: worldId,
    base_manifest_hash: p.base_manifest_hash,
    patch_ref: p.patch_ref,
    new_manifest_hash: p.new_manifest_hash,
    bundle_ref: p.bundle_ref,
  });
}

/**
 * The bytes an approver signs: world, proposal, patch and shadow report (all carried in the
 * approval entry), and `accept_failures` only when the approver accepts a failing report — so
 * every approval signed before that field existed still verifies byte for byte.
 */
export function approvalPayload(
  worldId: string,
  proposalId: string,
  patchRef: string,
  reportHash: string,
  acceptFailures = false,
): Uint8Array {
  return encodeStored({
    world_id: worldId,
    proposal_id: proposalId,
    patch_ref: patchRef,
    shadow_report_hash: reportHash,
    ...(acceptFailures ? { accept_failures: true } : {}),
  });
}

/** A denial, as the `approval` entry records it: `decision: "deny"`, its reason, and no shadow report. */
export type DenialBody = ApprovalBody & { decision: "deny"; reason: string };

/** True when an `approval` entry is a denial. */
export function isDenial(a: ApprovalBody): a is DenialBody {
  return a.decision === "deny";
}

/**
 * The bytes an approver signs to deny a proposal: world, proposal and patch, `decision: "deny"`
 * and the reason. No shadow report: a denial refuses the proposal whatever its reports say. It
 * is signed under the `approval` purpose (a new purpose would change the RFC 8032 vectors and the
 * console's signing flow for nothing): the `decision` key, which no approval payload holds, keeps
 * the two payloads' canonical bytes apart, so an approval's signature never verifies as a
 * denial's, nor the reverse.
 */
export function denialPayload(worldId: string, proposalId: string, patchRef: string, reason: string): Uint8Array {
  return encodeStored({
    world_id: worldId,
    proposal_id: proposalId,
    patch_ref: patchRef,
    decision: "deny",
    reason,
  });
}

/**
 * Why an `approval` entry is neither an approval nor a denial (`governance.bad_body`); null when it
 * is one. An approval names the report it approves and carries no reason; a denial carries a
 * reason and names no report nor accepted failures.
 */
export function checkApprovalShape(a: ApprovalBody): RuleFault | null {
  const bad = (message: string) => rule("governance.bad_body", message);
  if (isDenial(a)) {
    if (a.reason === undefined) return bad(`a denial of proposal ${a.proposal_id} must say why (reason)`);
    if (a.shadow_report_hash !== undefined)
      return bad(
        `a denial of proposal ${a.proposal_id} names no shadow report (it denies the proposal, not one report)`,
      );
    if (a.accept_failures !== undefined) return bad(`a denial of proposal ${a.proposal_id} accepts no failures`);
    return null;
  }
  if (a.reason !== undefined)
    return bad(`an approval of proposal ${a.proposal_id} carries no reason (only a denial does)`);
  if (a.shadow_report_hash === undefined)
    return bad(`an approval of proposal ${a.proposal_id} must name the shadow report it approves`);
  return null;
}

/** `checkApprovalShape`'s message. */
export function approvalShapeFault(a: ApprovalBody): string | null {
  return messageOf(checkApprovalShape(a));
}

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));

/** Why a proposal entry is not one the kernel would have written; null when it is. */
export function checkProposal(
  worldId: string,
  p: ProposalBody,
  policy: GovernancePolicy,
  formatVersion: number,
): RuleFault | null {
  if (p.proposal_id !== proposalIdOf(p.base_manifest_hash, p.patch_ref, p.proposer))
    return rule(
      "governance.bad_proposal_id",
      `proposal id ${p.proposal_id} does not bind its base, patch and proposer`,
    );
  const who = p.proposer;
  if (typeof who === "string")
    return formatVersion === 1
      ? null
      : rule("governance.bare_key_proposer", "an unsigned bare-key proposer is format 1 only");
  if (who === null)
    return policy.allowUnsigned
      ? null
      : rule(
          "governance.unsigned_proposal",
          `nobody signed proposal ${p.proposal_id} and policy ${policy.policy ?? "(none)"} does not allow unsigned proposals`,
        );
  if (who.kind === "key" && !verify(fromHex(who.public_key), "proposal", proposalPayload(worldId, p), who.signature))
    return rule("governance.bad_signature", `the proposer's signature on ${p.proposal_id} does not verify`);
  return null;
}

/** The keys that may not approve a proposal: every key that signed a proposal of the same base and patch. */
export function proposerKeys(p: Proposer): string[] {
  if (typeof p === "string") return [p];
  return p !== null && p.kind === "key" ? [p.public_key] : [];
}

/** Why an approval is not valid for this proposal under this policy; null when it is. */
export function checkApproval(
  worldId: string,
  a: ApprovalBody,
  proposal: ProposalBody,
  reports: ReadonlySet<string>,
  policy: GovernancePolicy,
  selfKeys: ReadonlySet<string>,
): RuleFault | null {
  const shape = checkApprovalShape(a);
  if (shape !== null || isDenial(a) || a.shadow_report_hash === undefined)
    return shape ?? rule("governance.bad_body", `the entry denies proposal ${a.proposal_id}: it is no approval`);
  if (a.patch_ref !== proposal.patch_ref)
    return rule(
      "governance.wrong_patch",
      `approval names patch ${a.patch_ref}, the proposal's is ${proposal.patch_ref}`,
    );
  if (!reports.has(a.shadow_report_hash))
    return rule(
      "governance.unknown_report",
      `approval covers shadow report ${a.shadow_report_hash}, which this proposal never had`,
    );
  if (!policy.approvers.includes(a.approver))
    return rule(
      "governance.not_an_approver",
      `key ${a.approver.slice(0, 16)}… is not an approver named by policy ${policy.policy ?? "(none)"}`,
    );
  if (selfKeys.has(a.approver))
    return rule(
      "governance.self_approval",
      `key ${a.approver.slice(0, 16)}… proposed this patch and cannot approve it`,
    );
  if (
    !verify(
      fromHex(a.approver),
      "approval",
      approvalPayload(worldId, a.proposal_id, a.patch_ref, a.shadow_report_hash, a.accept_failures === true),
      a.signature,
    )
  )
    return rule("governance.bad_signature", "governance approval signature does not verify");
  return null;
}

/** Why a denial is not one the kernel would have journaled, as the `wk verify` fault it is. */
export interface DenialFault {
  fault: "bad_body" | "bad_signature" | "unauthorized_denial" | "duplicate_denial";
  message: string;
}

/**
 * Why a denial is not valid for this proposal under this policy; null when it is. Only an
 * approver the policy in force names may deny, as only one may approve; unlike an approval, an
 * approver that proposed the patch may deny it — withdrawing one's own proposal gives nobody
 * power they lacked. A proposal is denied once, and never after it was applied.
 */
export function denialFault(
  worldId: string,
  d: ApprovalBody,
  s: ProposalState,
  policy: GovernancePolicy,
): DenialFault | null {
  const shape = approvalShapeFault(d);
  if (shape !== null || !isDenial(d))
    return { fault: "bad_body", message: shape ?? `the entry approves proposal ${d.proposal_id}: it is no denial` };
  const id = d.proposal_id;
  if (d.patch_ref !== s.body.patch_ref)
    return {
      fault: "unauthorized_denial",
      message: `denial names patch ${d.patch_ref}, the proposal's is ${s.body.patch_ref}`,
    };
  if (s.applied) return { fault: "unauthorized_denial", message: `proposal ${id} is already applied` };
  if (s.denied !== null)
    return { fault: "duplicate_denial", message: `proposal ${id} was already denied at seq ${s.denied.seq}` };
  if (!policy.approvers.includes(d.approver))
    return {
      fault: "unauthorized_denial",
      message: `key ${d.approver.slice(0, 16)}… is not an approver named by policy ${policy.policy ?? "(none)"}, so it cannot deny`,
    };
  if (!verify(fromHex(d.approver), "approval", denialPayload(worldId, id, d.patch_ref, d.reason), d.signature))
    return { fault: "bad_signature", message: "governance denial signature does not verify" };
  return null;
}

/** What an apply is checked against: the proposal and its records so far. */
export interface ProposalState {
  body: ProposalBody;
  latestReport: string | null;
  /** The latest report's blob (for reading it; the hash above is what approvals bind). */
  latestReportRef: string | null;
  /**
   * How many steps fail in the latest report, as its `shadow_report` entry records it; null when
   * there is no report or the entry predates the count (such a report never blocks an apply).
   */
  latestFailures: number | null;
  reports: Set<string>;
  /** Valid approvals so far: approver key → the report hashes it approved. */
  approvals: Map<string, Set<string>>;
  /** Of those, the ones signed with `accept_failures`: approver key → report hashes. */
  acceptedFailures: Map<string, Set<string>>;
  applied: boolean;
  /** The approver's denial, when one denied the proposal: it then can no longer be approved or applied. */
  denied: { seq: number; approver: string; reason: string } | null;
}

/** A fresh proposal's state: no report, no approval. */
export function newProposalState(body: ProposalBody): ProposalState {
  return {
    body,
    latestReport: null,
    latestReportRef: null,
    latestFailures: null,
    reports: new Set(),
    approvals: new Map(),
    acceptedFailures: new Map(),
    applied: false,
    denied: null,
  };
}

/** Notes a valid approval in the proposal's state. */
export function noteApproval(s: ProposalState, a: ApprovalBody): void {
  const report = a.shadow_report_hash;
  if (report === undefined) return; // malformed (verify names it bad_body): it approves nothing
  const add = (m: Map<string, Set<string>>) => m.set(a.approver, (m.get(a.approver) ?? new Set<string>()).add(report));
  add(s.approvals);
  if (a.accept_failures === true) add(s.acceptedFailures);
}

/** Notes a valid denial (journaled at `seq`) in the proposal's state. */
export function noteDenial(s: ProposalState, d: DenialBody, seq: number): void {
  s.denied = { seq, approver: d.approver, reason: d.reason };
}

/** The approvers whose valid approvals of the latest report count toward the threshold. */
export function countingApprovers(s: ProposalState, policy: GovernancePolicy): string[] {
  if (s.latestReport === null) return [];
  return [...s.approvals]
    .filter(([k, rs]) => policy.approvers.includes(k) && rs.has(s.latestReport!))
    .map(([k]) => k)
    .sort();
}

/**
 * Why a shadow report blob and the failure count its entry records disagree
 * (`governance.bad_report`); null when they agree. The count must match the report's
 * `failures`; a report of this kernel's shape (`report_version` 2 or later) must carry it, so
 * stripping the count from its entry does not make a failed report look like one journaled
 * before failures blocked an apply.
 */
export function checkReportCount(report: CborValue, failures: number | undefined): RuleFault | null {
  const r = isCborObject(report) ? report : null;
  const listed = Array.isArray(r?.failures) ? r.failures.length : null;
  if (failures === undefined) {
    const v = r?.report_version;
    return (typeof v === "number" || typeof v === "bigint") && Number(v) >= 2
      ? rule(
          "governance.bad_report",
          "the entry does not record how many steps fail (failures), which a report of this shape needs",
        )
      : null;
  }
  if (listed !== failures)
    return rule(
      "governance.bad_report",
      `the entry says ${failures} step(s) fail, the report lists ${listed ?? "no failures field"}`,
    );
  return null;
}

/** `checkReportCount`'s message. */
export function reportCountFault(report: CborValue, failures: number | undefined): string | null {
  return messageOf(checkReportCount(report, failures));
}

/** The counting approvers (as `countingApprovers`) that accepted the latest report's failures. */
export function acceptingApprovers(s: ProposalState, policy: GovernancePolicy): string[] {
  return countingApprovers(s, policy).filter((k) => s.acceptedFailures.get(k)?.has(s.latestReport!) === true);
}

/** True when the latest report has failing steps that block an apply unless the approvers accepted them. */
export function latestReportFails(s: ProposalState): boolean {
  return s.latestFailures !== null && s.latestFailures > 0;
}

/**
 * Why the latest report's failing steps block an apply (`governance.failed_shadow`: fewer than the
 * threshold of counting approvals accepted them); null when they do not.
 */
export function checkFailedShadow(
  s: ProposalState,
  policy: GovernancePolicy,
): RuleFault<"governance.failed_shadow"> | null {
  if (!latestReportFails(s)) return null;
  const accepting = acceptingApprovers(s, policy).length;
  if (accepting >= policy.threshold) return null;
  return rule(
    "governance.failed_shadow",
    `the latest shadow report of proposal ${s.body.proposal_id} has ${s.latestFailures} failing step(s) and ${accepting} of its approvals accepted them; the policy needs ${policy.threshold}`,
  );
}

/** `checkFailedShadow`'s message. */
export function failedShadowFault(s: ProposalState, policy: GovernancePolicy): string | null {
  return messageOf(checkFailedShadow(s, policy));
}

/**
 * Why applying this proposal now is not authorized; null when it is. A latest shadow report with
 * failing steps needs the threshold of its counting approvals to have accepted the failures. The
 * code is the one the kernel refuses the apply with; a denial's fault carries the denial's seq.
 */
export function checkApply(
  s: ProposalState | undefined,
  currentManifest: string,
  policy: GovernancePolicy,
): RuleFault<ApplyRefusalCode> | null {
  if (s === undefined) return rule("governance.unknown_proposal", "no such proposal");
  const id = s.body.proposal_id;
  if (s.applied) return rule("governance.already_applied", `proposal ${id} is already applied`);
  // A denial is a veto: however many approvals it has, a denied proposal is never applied.
  if (s.denied !== null)
    return rule(
      "governance.denied",
      `proposal ${id} was denied at seq ${s.denied.seq} by key ${s.denied.approver.slice(0, 16)}…: ${s.denied.reason}`,
      s.denied.seq,
    );
  if (s.body.base_manifest_hash !== currentManifest)
    return rule(
      "governance.stale_base",
      `proposal ${id} is stale: it was based on ${s.body.base_manifest_hash}, the world is at ${currentManifest}`,
    );
  if (s.latestReport === null) return rule("governance.no_shadow", `proposal ${id} has no shadow report`);
  const valid = countingApprovers(s, policy);
  if (policy.approvers.length === 0)
    return rule(
      "governance.not_approved",
      `policy ${policy.policy ?? "(none)"} names no approvers, so no proposal can be applied`,
    );
  const fault = checkFailedShadow(s, policy);
  if (fault !== null) return fault;
  if (valid.length < policy.threshold)
    return rule(
      "governance.not_approved",
      `proposal ${id} has ${valid.length} valid approval(s) of its latest shadow report; the policy needs ${policy.threshold}`,
    );
  return null;
}

/** Why a journaled apply of an authorized proposal is not the one the kernel would have written (`governance.bad_apply`); null when it is. */
export function checkApplyBody(
  s: ProposalState,
  policy: GovernancePolicy,
  apply: ApplyBody,
): RuleFault<"governance.bad_apply"> | null {
  if (apply.new_manifest_hash !== s.body.new_manifest_hash || apply.bundle_ref !== s.body.bundle_ref)
    return rule("governance.bad_apply", "the apply names another manifest than its proposal");
  const valid = countingApprovers(s, policy);
  if (apply.approvals.length < policy.threshold || apply.approvals.some((k) => !valid.includes(k)))
    return rule(
      "governance.bad_apply",
      "the apply lists approvals that are not valid approvals of the latest shadow report",
    );
  return null;
}

/** `checkApply`'s message, then (given the journaled `apply`) `checkApplyBody`'s. */
export function applyFault(
  s: ProposalState | undefined,
  currentManifest: string,
  policy: GovernancePolicy,
  apply?: ApplyBody,
): string | null {
  const refusal = checkApply(s, currentManifest, policy);
  if (refusal !== null || s === undefined || apply === undefined) return messageOf(refusal);
  return messageOf(checkApplyBody(s, policy, apply));
}
