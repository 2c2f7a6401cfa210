/**
 * @module Governance (DESIGN §8): a world's definitions change only through
 * propose → shadow-run → approve → apply. A proposal is a compiled, fully validated patch
 * against the current manifest (a changed state schema names its migration); a shadow run
 * (shadow.ts) reports what the proposal would change, and is journaled here; approvers named
 * by the policy sign {proposal, patch, shadow report}, or deny the proposal with a reason (a
 * veto: it is then never approved or applied); apply checks the approvals and that the base is
 * still current, migrates state, then swaps the manifest — and replay does both at the same seq.
 */
import { AirError } from "../../air/errors.js";
import { PatchDocumentSchema, type Migration } from "../../air/schemas/patch.js";
import { buildCatalog, type AirCatalog } from "../../air/loader.js";
import { bytesToHash, hashValue, type HashText } from "../../air/hash.js";
import { compilePatch } from "../../air/patch.js";
import { patchGovernanceWarnings, type AirWarning } from "../../air/warnings.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { encodeStored } from "../../air/cbor/encode.js";
import { jsonToCbor, parseJsonLossless } from "../../air/json.js";
import { zodIssues } from "../../air/defs.js";
import { isCborObject, type CborObject, type CborValue } from "../../air/cbor/value.js";
import type { EffectAdapter, EffectOutcome } from "../adapters/adapter.js";
import type { KeyPair } from "../crypto/keys.js";
import type { Signer } from "../crypto/signer.js";
import { signingMessage } from "../crypto/signing-message.js";
import { KernelError } from "../core/errors.js";
import type { ApprovalBody, ProposalBody } from "../journal/index.js";
import {
  checkApply,
  checkApproval,
  approvalPayload,
  countingApprovers,
  denialFault,
  denialPayload,
  governancePolicyOf,
  checkProposal,
  proposalIdOf,
  proposalPayload,
  type ProposalState,
  type Proposer,
} from "./governance-rules.js";
import { JournalRules } from "./journal-rules.js";
import { bundleOf, catalogFromBundle } from "../../air/bundle.js";
import type { GovernedWorld } from "./world-port.js";
import type { Behaviour } from "../transition/flags.js";
import { upgradePatch, upgradeRequestOf } from "./governance-upgrade.js";
import {
  checkMigrations,
  checkSchemasInPlace,
  migratedCells,
  migrationsInPatch,
  runMigrations,
  runsBody,
  type MigrationRun,
} from "./migration.js";

import { shadowRun, failureLines, type ShadowOptions, type ShadowReport } from "./shadow.js";
export { decisionChanges, differingFields, failureLines } from "./shadow.js";
export type { ShadowEvent, ShadowOptions, ShadowReport } from "./shadow.js";

/**
 * A proposal's records, read the way `wk verify` reads them: the journal rules primed from
 * the indexed governance entries, so the kernel decides on exactly the state verify checks.
 */
function recordsOf(world: GovernedWorld, proposalId: string): { state: ProposalState; selfKeys: ReadonlySet<string> } {
  const rules = new JournalRules(world.store, false);
  rules.seed([...world.store.ruleEntriesSync()]);
  const r = rules.governanceOf(proposalId);
  if (!r)
    throw new KernelError("governance.unknown_proposal", `no proposal ${proposalId}`, { proposal_id: proposalId });
  return r;
}

/** One proposal as the console and `GET /v1/worlds/:id/proposals` show it. */
export interface ProposalSummary {
  proposal_id: string;
  base_manifest_hash: string;
  patch_ref: string;
  status: "filed" | "shadowed" | "approved" | "applied" | "denied";
  /** Public keys (hex) of the policy's approvers that approved the latest shadow report. */
  approvers: string[];
  /** How many approvals the policy needs. */
  threshold: number;
  latest_report_hash: string | null;
  /** The latest shadow report (null before one, or when its blob was erased). */
  report: ShadowReport | null;
  failures: number;
  /** The approver's denial, when one denied the proposal (status `denied`). */
  denied: { seq: number; approver: string; reason: string } | null;
}

/** Every proposal of the world with its status and latest shadow report, in filing order. */
export function listProposals(world: GovernedWorld): ProposalSummary[] {
  const rules = new JournalRules(world.store, false);
  rules.seed([...world.store.ruleEntriesSync()]);
  const policy = governancePolicyOf(world.catalog);
  return rules.proposalIds().map((id) => {
    const { state } = rules.governanceOf(id)!;
    const latest = latestOf(world, state);
    const approvers = countingApprovers(state, policy);
    const status = state.applied
      ? "applied"
      : state.denied !== null
        ? "denied"
        : latest === null
          ? "filed"
          : approvers.length >= Math.max(1, policy.threshold)
            ? "approved"
            : "shadowed";
    return {
      proposal_id: id,
      base_manifest_hash: state.body.base_manifest_hash,
      patch_ref: state.body.patch_ref,
      status,
      approvers,
      threshold: policy.threshold,
      latest_report_hash: latest?.reportHash ?? null,
      report: latest?.report ?? null,
      failures: latest?.failures ?? 0,
      denied: state.denied === null ? null : { ...state.denied },
    };
  });
}

/** Who proposes: a person's key (signed), a module's effect, or nobody. */
export type ProposeAs = { key: KeyPair } | { module: string; intentId: string };

/**
 * A world recorded before policy-cel-v1 evaluates no condition: its gate denies at any rule that
 * carries one (that keeps its replay exact). Such a patch is refused up front instead of being
 * approved and then denying everything the rule sees. A refusal, not a journal rule: nothing is
 * appended, so replay is untouched. Null when the patched AIR is fine for this world.
 */
export function conditionsUnsupported(behaviour: Behaviour, next: AirCatalog): KernelError | null {
  if (behaviour.policyCel) return null;
  for (const p of next.policies.values()) {
    const i = p.def.rules.findIndex((r) => r.when.condition !== undefined);
    if (i >= 0)
      return new KernelError(
        "governance.condition_unsupported",
        `rule ${i} of ${p.def.name} has a condition, and this world's kernel flags do not include policy-cel-v1: its gate would deny every intent the rule sees`,
      );
  }
  return null;
}

/**
 * A world recorded before mcp-v1 has no gate check for `mcp.call`: its gate would allow a call
 * to any server and tool a grant of `sys/mcp@1` is bound to (the adapter would still refuse an
 * unlisted one, after the fact). Such a grant is refused up front instead, like a condition
 * without policy-cel-v1. A refusal, not a journal rule: nothing is appended.
 */
export function mcpUnsupported(behaviour: Behaviour, next: AirCatalog): KernelError | null {
  if (behaviour.mcp) return null;
  for (const g of next.grants.values())
    if (g.grant.cap === "sys/mcp@1")
      return new KernelError(
        "governance.mcp_unsupported",
        `grant ${g.grant.name} is of sys/mcp@1, and this world's kernel flags do not include mcp-v1: its gate would not check the servers and tools it lists`,
      );
  return null;
}

/** Compiles and validates a patch document against the current manifest and journals the proposal. */
async function proposeNow(world: GovernedWorld, doc: unknown, opts: ProposeOptions = {}): Promise<Proposed> {
  const parsed = PatchDocumentSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw new AirError("air.schema_violation", `patch: ${issues[0]!.message}`, issues[0]!.path, issues);
  }
  const patch = parsed.data;
  const current = world.catalog;
  if (patch.base_manifest_hash !== current.manifestHash) {
    throw new KernelError(
      "governance.stale_base",
      `patch is based on ${patch.base_manifest_hash}, the world is at ${current.manifestHash} (stale)`,
      { base: patch.base_manifest_hash },
    );
  }
  const compiled = compilePatch(current.sources, patch);
  if (!compiled.ok)
    throw new AirError(
      compiled.issues[0]!.code,
      `patch: ${compiled.issues[0]!.message}`,
      compiled.issues[0]!.path,
      compiled.issues,
    );
  checkSchemasInPlace(current, compiled.defs, patch);
  const built = buildCatalog([{ file: "<patch>", value: compiled.defs }]);
  if (!built.ok)
    throw new AirError(
      built.issues[0]!.code,
      `patched AIR: ${built.issues[0]!.message}`,
      built.issues[0]!.path,
      built.issues,
    );
  const next = built.catalog;
  const unsupported = conditionsUnsupported(world.state.behaviour, next) ?? mcpUnsupported(world.state.behaviour, next);
  if (unsupported) throw unsupported;
  checkMigrations(current, next, patch.migrations ?? []);
  for (const w of opts.wasm ?? []) world.store.putBlobSync(w);
  for (const [name, m] of next.modules) {
    if (!world.store.hasBlobSync(m.def.wasm_hash as HashText))
      throw new KernelError(
        "kernel.missing_blob",
        `no binary for ${name} (${m.def.wasm_hash}) in the CAS: pass it with the proposal`,
        { module: name },
      );
  }
  const patchRef = world.store.putBlobSync(encodeStored(jsonToCbor(doc)));
  const bundleRef = world.store.putBlobSync(bundleOf(next));
  const refs = {
    base_manifest_hash: current.manifestHash,
    patch_ref: patchRef,
    new_manifest_hash: next.manifestHash,
    bundle_ref: bundleRef,
  };
  const as: ProposeAs | undefined = opts.proposer ? { key: opts.proposer } : opts.as;
  const proposer: Proposer =
    as === undefined
      ? null
      : "key" in as
        ? {
            kind: "key",
            public_key: as.key.publicKeyHex,
            signature: as.key.sign("proposal", proposalPayload(world.id, refs)),
          }
        : { kind: "module", module: as.module, intent_id: as.intentId };
  const body: ProposalBody = {
    proposal_id: proposalIdOf(current.manifestHash, patchRef, proposer),
    ...refs,
    proposer,
    description: opts.description ?? patch.description ?? null,
  };
  const why = checkProposal(world.id, body, governancePolicyOf(current), 2);
  if (why !== null)
    throw new KernelError(
      "governance.unsigned_proposal",
      `${why.message}: propose with --key (or set allow_unsigned_proposals in the policy)`,
    );
  const proposalId = body.proposal_id;
  const seq = await world.appendRecord("proposal", body);
  return { proposalId, seq, newManifestHash: next.manifestHash, warnings: patchGovernanceWarnings(next) };
}

/** Replays recent ingress events under the old and the new manifest from the current state, and journals the report. */
async function shadowNow(world: GovernedWorld, proposalId: string, opts: ShadowOptions = {}): Promise<Shadowed> {
  const { state } = recordsOf(world, proposalId);
  if (state.applied) throw new KernelError("governance.already_applied", `proposal ${proposalId} is already applied`);
  refuseDenied(state);
  const next = catalogFromBundle(
    world.store.getBlobSync(state.body.bundle_ref as HashText),
    state.body.new_manifest_hash,
  );
  if (opts.events !== undefined && (opts.since !== undefined || opts.window !== undefined))
    throw new KernelError(
      "governance.conflicting_options",
      "shadow runs either given events, the recorded window or a counterfactual since a seq: give one",
    );
  const migrations = migrationsOf(world, state.body.patch_ref);
  const policy = governancePolicyOf(world.catalog);
  // Given nothing, run what the policy in force says (default: the whole history, counterfactually).
  if (opts.events === undefined && opts.since === undefined && opts.window === undefined)
    opts = { ...opts, ...policy.shadowDefault };
  const report = await shadowRun(world, proposalId, next, migrations, policy, opts);
  const reportRef = world.store.putBlobSync(encodeStored(jsonToCbor(report)));
  const reportHash = hashValue(jsonToCbor(report));
  const seq = await world.appendRecord("shadow_report", {
    proposal_id: proposalId,
    report_ref: reportRef,
    report_hash: reportHash,
    failures: report.failures.length,
  });
  return { report, reportHash, seq, warnings: patchGovernanceWarnings(next) };
}

/** The state migrations a proposal's patch names (read from its patch document in the CAS). */
function migrationsOf(world: GovernedWorld, patchRef: string): Migration[] {
  const named = migrationsInPatch(decodeStored(world.store.getBlobSync(patchRef as HashText)));
  if (named === null)
    throw new KernelError("governance.bad_migration", `the patch ${patchRef} names malformed migrations`, {
      path: "$.migrations",
    });
  return named;
}

export { approvalPayload, denialPayload };

/** A proposal's latest shadow report as journaled (null when it has none; `report` null when its blob was erased). */
export function latestShadowReport(
  world: GovernedWorld,
  proposalId: string,
): { reportHash: HashText; report: ShadowReport | null; failures: number } | null {
  const { state } = recordsOf(world, proposalId);
  return latestOf(world, state);
}

function latestOf(
  world: GovernedWorld,
  state: ProposalState,
): { reportHash: HashText; report: ShadowReport | null; failures: number } | null {
  if (state.latestReport === null) return null;
  const ref = state.latestReportRef as HashText | null;
  // A report journaled before reports carried key and event seq of a failure lacks them: read what is there.
  const report =
    ref !== null && world.store.hasBlobSync(ref)
      ? (toJson(decodeStored(world.store.getBlobSync(ref))) as ShadowReport)
      : null;
  return {
    reportHash: state.latestReport as HashText,
    report,
    failures: state.latestFailures ?? report?.failures.length ?? 0,
  };
}

/** A decoded report as plain JSON values (small integers as numbers). */
function toJson(v: CborValue): unknown {
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(toJson);
  if (isCborObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
  return v;
}

/** How an approval is given: `acceptFailures` approves a report with failing steps knowingly (journaled and signed). */
export interface ApproveOptions {
  acceptFailures?: boolean;
}

/**
 * Signs an approval of a shadow-run proposal; the approver must be named by the policy and may
 * not have proposed the patch. A latest report with failing steps is refused
 * (`governance.failed_shadow`) unless the approver accepts the failures.
 */
async function approveNow(
  world: GovernedWorld,
  proposalId: string,
  approver: Signer,
  opts: ApproveOptions = {},
): Promise<number> {
  const { state, selfKeys } = recordsOf(world, proposalId);
  if (state.applied) throw new KernelError("governance.already_applied", `proposal ${proposalId} is already applied`);
  refuseDenied(state);
  const latest = latestOrRefuse(world, state);
  const report = latest.reportHash;
  const accept = opts.acceptFailures === true;
  const policy = governancePolicyOf(world.catalog);
  if (policy.approvers.length === 0)
    throw new KernelError(
      "kernel.bad_approval",
      "the world's policy names no approvers, so no proposal can be approved",
    );
  if (latest.failures > 0 && !accept) {
    const named = latest.report
      ? `: ${failureLines(latest.report.failures.slice(0, 5)).join("; ")}${latest.report.failures.length > 5 ? "; …" : ""}`
      : "";
    throw new KernelError(
      "governance.failed_shadow",
      `the latest shadow report of ${proposalId} has ${latest.failures} failing step(s)${named}; approve with --accept-failures to accept them, or fix the patch`,
      { proposal_id: proposalId, failures: latest.failures },
    );
  }
  if (state.approvals.get(approver.publicKeyHex)?.has(report) === true) {
    throw new KernelError("kernel.bad_approval", "this approver already approved this shadow report");
  }
  const body: ApprovalBody = {
    proposal_id: proposalId,
    approver: approver.publicKeyHex,
    patch_ref: state.body.patch_ref,
    shadow_report_hash: report,
    ...(accept ? { accept_failures: true as const } : {}),
    signature: approver.sign("approval", approvalPayload(world.id, proposalId, state.body.patch_ref, report, accept)),
  };
  const why = checkApproval(world.id, body, state.body, state.reports, policy, selfKeys);
  if (why !== null)
    throw new KernelError(
      "kernel.bad_approval",
      why.code === "governance.self_approval"
        ? `a proposer cannot approve its own proposal: ${why.message}`
        : why.message,
    );
  return world.appendRecord("approval", body);
}

/** The proposal's latest shadow report; `governance.no_shadow` before it has one. */
function latestOrRefuse(world: GovernedWorld, state: ProposalState): NonNullable<ReturnType<typeof latestOf>> {
  const latest = latestOf(world, state);
  if (latest) return latest;
  const id = state.body.proposal_id;
  throw new KernelError("governance.no_shadow", `proposal ${id} has no shadow report yet: run wk shadow first`, {
    proposal_id: id,
  });
}

/** `governance.denied`, naming the denial's seq, when an approver denied the proposal. */
function refuseDenied(state: ProposalState): void {
  const d = state.denied;
  if (d === null) return;
  throw new KernelError(
    "governance.denied",
    `proposal ${state.body.proposal_id} was denied at seq ${d.seq} by key ${d.approver.slice(0, 16)}…: ${d.reason}`,
    { proposal_id: state.body.proposal_id, seq: d.seq, approver: d.approver },
  );
}

/** The longest reason a denial may give (the entry schema's bound). */
const MAX_REASON = 2000;

/**
 * What refuses a denial before anything is signed: a blank or overlong reason, an applied or
 * already denied proposal, a policy naming no approvers. Whether the key is an approver is
 * checked with the signature (denialFault), as verify checks it.
 */
function refuseDenial(state: ProposalState, reason: string, world: GovernedWorld): void {
  const id = state.body.proposal_id;
  // The schema admits any non-empty text; a reason of blanks says nothing, so the kernel asks for one.
  if (typeof reason !== "string" || reason.trim() === "" || reason.length > MAX_REASON)
    throw new KernelError(
      "governance.bad_reason",
      `a denial of ${id} must say why: a reason of 1 to ${MAX_REASON} characters, not blank`,
      { proposal_id: id, path: "$.reason" },
    );
  if (state.applied) throw new KernelError("governance.already_applied", `proposal ${id} is already applied`);
  refuseDenied(state);
  if (governancePolicyOf(world.catalog).approvers.length === 0)
    throw new KernelError("kernel.bad_approval", "the world's policy names no approvers, so no proposal can be denied");
}

/** Signs a denial of a proposal and journals it as an `approval` entry with `decision: "deny"`. */
async function denyNow(world: GovernedWorld, proposalId: string, denier: Signer, reason: string): Promise<number> {
  const { state } = recordsOf(world, proposalId);
  refuseDenial(state, reason, world);
  const body: ApprovalBody = {
    proposal_id: proposalId,
    approver: denier.publicKeyHex,
    patch_ref: state.body.patch_ref,
    decision: "deny",
    reason,
    signature: denier.sign("approval", denialPayload(world.id, proposalId, state.body.patch_ref, reason)),
  };
  // The rule verify applies, so the journal never holds a denial verify would refuse.
  const why = denialFault(world.id, body, state, governancePolicyOf(world.catalog));
  if (why !== null) throw new KernelError("kernel.bad_approval", why.message, { proposal_id: proposalId });
  return world.appendRecord("approval", body);
}

/** Applies an approved proposal: enough valid approvals of its latest shadow report, and a base that is still current. */
async function applyNow(world: GovernedWorld, proposalId: string): Promise<Applied> {
  const { state } = recordsOf(world, proposalId);
  const policy = governancePolicyOf(world.catalog);
  // The rule names its own code: the kernel refuses with exactly what verify would find.
  const f = checkApply(state, world.catalog.manifestHash, policy);
  if (f !== null)
    throw new KernelError(f.code, f.message, {
      proposal_id: proposalId,
      ...(f.seq === undefined ? {} : { seq: f.seq }),
    });
  const next = catalogFromBundle(
    world.store.getBlobSync(state.body.bundle_ref as HashText),
    state.body.new_manifest_hash,
  );
  // Every migrated state is computed before anything is written: one failing cell refuses the apply whole.
  const migrations = migrationsOf(world, state.body.patch_ref);
  const migrated =
    migrations.length > 0
      ? await runMigrations(world.state.cells, world.modules, world.catalog, next, migrations, proposalId)
      : undefined;
  if (migrated && migrated.failures.length > 0) {
    const f = migrated.failures;
    throw new KernelError(
      "governance.migration_failed",
      `the state migration fails on ${f.length} cell(s), so nothing was applied: ${f
        .slice(0, 3)
        .map((x) => `${x.module} ${x.key ?? "-"}: ${x.code}: ${x.message}`)
        .join("; ")}${f.length > 3 ? "; …" : ""}`,
      { proposal_id: proposalId, failures: f.length },
    );
  }
  // The root the migrated cells will have, recorded in the apply; the transition sets them once it is durable.
  const root = migrated ? migratedCells(world.state.cells, migrated).stateRoot() : undefined;
  const body = {
    proposal_id: proposalId,
    new_manifest_hash: next.manifestHash,
    bundle_ref: state.body.bundle_ref,
    approvals: countingApprovers(state, policy),
    ...(migrated && root ? { migrations: runsBody(migrated.runs), state_root: root } : {}),
  };
  const seq = await world.applyRecord(body, next, migrated);
  return { seq, manifestHash: next.manifestHash, ...(migrated ? { migrations: migrated.runs } : {}) };
}

/** A journaled apply: its seq, the manifest now in force, and the state migrations it ran (absent when none). */
export interface Applied {
  seq: number;
  manifestHash: HashText;
  migrations?: MigrationRun[];
}

/**
 * A journaled proposal. `warnings`: what is wrong with the world the patch would make though the
 * patch is valid — it leaves no one able to approve a further proposal (air/warnings.ts).
 */
export interface Proposed {
  proposalId: string;
  seq: number;
  newManifestHash: HashText;
  warnings: AirWarning[];
}

/** A journaled shadow report, with the warnings about the proposal's manifest (as `Proposed`'s). */
export interface Shadowed {
  report: ShadowReport;
  reportHash: HashText;
  seq: number;
  warnings: AirWarning[];
}

/** How a proposal is filed: signed by a key (`proposer`), or on behalf of a module's effect (`as`). */
export interface ProposeOptions {
  proposer?: KeyPair;
  as?: ProposeAs;
  wasm?: Uint8Array[];
  description?: string;
}

/** Compiles and validates a patch against the current manifest and journals the proposal. */
export function propose(world: GovernedWorld, doc: unknown, opts: ProposeOptions = {}): Promise<Proposed> {
  return world.exclusive(() => proposeNow(world, doc, opts));
}

/** Shadow-runs a proposal (as `opts` or the policy says; default: its whole history, counterfactually) and journals the report. */
export function shadow(world: GovernedWorld, proposalId: string, opts: ShadowOptions = {}): Promise<Shadowed> {
  return world.exclusive(() => shadowNow(world, proposalId, opts));
}

/**
 * The exact bytes an approver signs to approve a proposal's latest shadow report (for a
 * signature made elsewhere, e.g. in the console): `governance.no_shadow` before any report.
 */
export function approvalMessage(world: GovernedWorld, proposalId: string, opts: ApproveOptions = {}): Uint8Array {
  const { state } = recordsOf(world, proposalId);
  refuseDenied(state);
  const latest = latestOrRefuse(world, state);
  const payload = approvalPayload(
    world.id,
    proposalId,
    state.body.patch_ref,
    latest.reportHash,
    opts.acceptFailures === true,
  );
  return signingMessage("approval", payload);
}

/** Signs and journals an approval of a proposal's latest shadow report (one with failing steps only with `acceptFailures`). */
export function approve(
  world: GovernedWorld,
  proposalId: string,
  approver: Signer,
  opts: ApproveOptions = {},
): Promise<number> {
  return world.exclusive(() => approveNow(world, proposalId, approver, opts));
}

/**
 * The exact bytes an approver signs to deny a proposal (for signing elsewhere, e.g. in the
 * console): refused as `denyProposal` would refuse (a blank reason, an applied or denied proposal).
 */
export function denialMessage(world: GovernedWorld, proposalId: string, reason: string): Uint8Array {
  const { state } = recordsOf(world, proposalId);
  refuseDenial(state, reason, world);
  return signingMessage("approval", denialPayload(world.id, proposalId, state.body.patch_ref, reason));
}

/** Signs (or checks a presigned signature) and journals a denial of a proposal. Resolves to the entry's seq. */
export function denyProposal(
  world: GovernedWorld,
  proposalId: string,
  denier: Signer,
  reason: string,
): Promise<number> {
  return world.exclusive(() => denyNow(world, proposalId, denier, reason));
}

/** Applies an approved, still-current proposal: the manifest swaps at this seq. */
export function apply(world: GovernedWorld, proposalId: string): Promise<Applied> {
  return world.exclusive(() => applyNow(world, proposalId));
}

/**
 * The kernel-internal adapter behind `governance.propose` and `governance.upgrade`: an agent (a
 * module holding a `governance` grant) proposes a patch it stored in the CAS, or asks for its
 * binary swap and the kernel writes the patch (governance-upgrade.ts); either way the proposal
 * goes through the same compile/validate path as `wk propose` and still needs shadow, approval
 * and apply.
 */
export function governanceAdapter(world: GovernedWorld): EffectAdapter {
  return {
    id: "kernel.governance",
    version: "1",
    kinds: ["governance.propose", "governance.upgrade"],
    async perform(req) {
      const started = req.nowNs();
      const p = req.params as CborObject;
      const done = (status: "ok" | "error", payload: CborObject): EffectOutcome => ({
        status,
        payload,
        cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
        startedNs: started,
        finishedNs: req.nowNs(),
      });
      try {
        const intent = world.state.pending.get(req.intentId);
        const as = { module: intent?.module ?? "unknown", intentId: req.intentId };
        if (req.kind === "governance.upgrade") {
          const doc = upgradePatch(world.catalog, upgradeRequestOf(p));
          const r = await propose(world, doc, { as });
          return done("ok", { proposal_id: r.proposalId, new_manifest_hash: r.newManifestHash });
        }
        const ref = p.patch_ref instanceof Uint8Array ? bytesToHash(p.patch_ref) : (p.patch_ref as HashText);
        const doc = parseJsonLossless(req.blobs.get(ref), ref);
        const description = typeof p.description === "string" ? { description: p.description } : {};
        const r = await propose(world, doc, { ...description, as });
        return done("ok", { proposal_id: r.proposalId });
      } catch (e) {
        const err = e as { code?: string; message: string };
        return done("error", { code: err.code ?? "governance.failed", message: err.message });
      }
    },
  };
}
