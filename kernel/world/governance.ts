/**
 * @module Governance (DESIGN §8): a world's definitions change only through
 * propose → shadow-run → approve → apply. A proposal is a compiled, fully validated patch
 * against the current manifest; a shadow run replays recent inputs under the old and the
 * new manifest from the same state and reports what differs (no adapter is called);
 * approvers named by the policy sign {proposal, patch, shadow report}; apply checks the
 * approvals and that the base is still current, then swaps the manifest — and replay swaps
 * it at the same seq.
 */
import { AirError } from "../../air/errors.js";
import { PatchDocumentSchema } from "../../air/schemas/patch.js";
import { buildCatalog, type AirCatalog } from "../../air/loader.js";
import { bytesToHash, hashValue, type HashText } from "../../air/hash.js";
import { compilePatch } from "../../air/patch.js";
import { patchGovernanceWarnings, type AirWarning } from "../../air/warnings.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { encodeStored } from "../../air/cbor/encode.js";
import { jsonToCbor, parseJsonLossless } from "../../air/json.js";
import { zodIssues } from "../../air/defs.js";
import type { CborObject } from "../../air/cbor/value.js";
import type { EffectAdapter, EffectOutcome } from "../adapters/adapter.js";
import type { KeyPair } from "../crypto/keys.js";
import { KernelError } from "../core/errors.js";
import type { ApprovalBody, ProposalBody } from "../journal/index.js";
import { applyFault, approvalFault, approvalPayload, countingApprovers, governancePolicyOf, proposalFault, proposalIdOf, proposalPayload, type ProposalState, type Proposer } from "./governance-rules.js";
import { JournalRules } from "./journal-rules.js";
import { BudgetLedger } from "../core/budget.js";
import { Batch } from "./batch.js";
import { bundleOf, catalogFromBundle } from "../../air/bundle.js";
import { Processor, unsignedDenySigner, type EventBody, type KernelState } from "./processor.js";
import type { World } from "./world.js";

/** What a shadow run found. */
export interface ShadowReport {
  proposal_id: string;
  base_manifest_hash: string;
  new_manifest_hash: string;
  events: number;
  /** Cells whose resulting state differs (hashes under the old and the new manifest; null = absent). */
  cells: { module: string; key: string | null; before: string | null; after: string | null }[];
  /** Entries produced under the new manifest that differ from those under the old one. */
  differing_entries: number;
  /** Gate decisions under the new manifest, counted by code. */
  decisions: Record<string, number>;
  /** Steps that failed under the new manifest. */
  failures: { module: string; code: string; message: string }[];
  fuel: { before: number; after: number };
}

/**
 * A proposal's records, read the way `wk verify` reads them: the journal rules primed from
 * the indexed governance entries, so the kernel decides on exactly the state verify checks.
 */
function recordsOf(world: World, proposalId: string): { state: ProposalState; selfKeys: ReadonlySet<string> } {
  const rules = new JournalRules(world.store, false);
  rules.seed([...world.store.ruleEntriesSync()]);
  const r = rules.governanceOf(proposalId);
  if (!r) throw new KernelError("governance.unknown_proposal", `no proposal ${proposalId}`, { proposal_id: proposalId });
  return r;
}

/** Who proposes: a person's key (signed), a module's effect, or nobody. */
export type ProposeAs = { key: KeyPair } | { module: string; intentId: string };

/** Compiles and validates a patch document against the current manifest and journals the proposal. */
async function proposeNow(world: World, doc: unknown, opts: ProposeOptions = {}): Promise<Proposed> {
  const parsed = PatchDocumentSchema.safeParse(doc);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error);
    throw new AirError("air.schema_violation", `patch: ${issues[0]!.message}`, issues[0]!.path, issues);
  }
  const patch = parsed.data;
  const current = world.catalog;
  if (patch.base_manifest_hash !== current.manifestHash) {
    throw new KernelError("governance.stale_base", `patch is based on ${patch.base_manifest_hash}, the world is at ${current.manifestHash} (stale)`, { base: patch.base_manifest_hash });
  }
  const compiled = compilePatch(current.sources, patch);
  if (!compiled.ok) throw new AirError(compiled.issues[0]!.code, `patch: ${compiled.issues[0]!.message}`, compiled.issues[0]!.path, compiled.issues);
  const built = buildCatalog([{ file: "<patch>", value: compiled.defs }]);
  if (!built.ok) throw new AirError(built.issues[0]!.code, `patched AIR: ${built.issues[0]!.message}`, built.issues[0]!.path, built.issues);
  const next = built.catalog;
  checkStateSchemas(current, next);
  for (const w of opts.wasm ?? []) world.store.putBlobSync(w);
  for (const [name, m] of next.modules) {
    if (!world.store.hasBlobSync(m.def.wasm_hash as HashText)) throw new KernelError("kernel.missing_blob", `no binary for ${name} (${m.def.wasm_hash}) in the CAS: pass it with the proposal`, { module: name });
  }
  const patchRef = world.store.putBlobSync(encodeStored(jsonToCbor(doc)));
  const bundleRef = world.store.putBlobSync(bundleOf(next));
  const refs = { base_manifest_hash: current.manifestHash, patch_ref: patchRef, new_manifest_hash: next.manifestHash, bundle_ref: bundleRef };
  const as: ProposeAs | undefined = opts.proposer ? { key: opts.proposer } : opts.as;
  const proposer: Proposer =
    as === undefined ? null
    : "key" in as ? { kind: "key", public_key: as.key.publicKeyHex, signature: as.key.sign("proposal", proposalPayload(world.id, refs)) }
    : { kind: "module", module: as.module, intent_id: as.intentId };
  const body: ProposalBody = { proposal_id: proposalIdOf(current.manifestHash, patchRef, proposer), ...refs, proposer, description: opts.description ?? patch.description ?? null };
  const why = proposalFault(world.id, body, governancePolicyOf(current), 2);
  if (why !== null) throw new KernelError("governance.unsigned_proposal", `${why}: propose with --key (or set allow_unsigned_proposals in the policy)`);
  const proposalId = body.proposal_id;
  const seq = world.appendRecord("proposal", body as unknown as CborObject);
  return { proposalId, seq, newManifestHash: next.manifestHash, warnings: patchGovernanceWarnings(next) };
}

/** A workflow's state schema may not change under its cells: v1 has no migrations. */
function checkStateSchemas(current: AirCatalog, next: AirCatalog): void {
  for (const [name, m] of current.modules) {
    const n = next.modules.get(name);
    const before = m.def.abi.workflow?.state;
    const after = n?.def.abi.workflow?.state;
    if (!n || !before || !after) continue;
    const hb = current.schemas.get(before)!.schemaHash;
    const ha = next.schemas.get(after)!.schemaHash;
    if (hb !== ha) throw new KernelError("governance.migration_required", `${name}: its state schema changes (${before} → ${after}); a state migration is required and v1 has none`, { module: name });
  }
}

/** Replays recent ingress events under the old and the new manifest from the current state, and journals the report. */
async function shadowNow(world: World, proposalId: string, opts: { window?: number } = {}): Promise<Shadowed> {
  const { state } = recordsOf(world, proposalId);
  if (state.applied) throw new KernelError("governance.already_applied", `proposal ${proposalId} is already applied`);
  const next = catalogFromBundle(world.store.getBlobSync(state.body.bundle_ref as HashText), state.body.new_manifest_hash);
  const events = await recentIngress(world, opts.window ?? 50);
  const run = async (catalog: AirCatalog) => {
    const state: KernelState = {
      ...world.state, catalog, cells: world.state.cells.clone(), ledger: BudgetLedger.fromCbor(world.state.ledger.toCbor()), pending: new Map(world.state.pending),
    };
    const processor = new Processor(state, world.modules, world.hooks, unsignedDenySigner(state.worldId, world.worldKey.publicKey));
    const batch = new Batch(world.store.countSync());
    for (const e of events) {
      const seq = batch.push("event", e as unknown as CborObject);
      await processor.processEvent(seq, e, batch);
    }
    return { state, batch, stats: processor.stats };
  };
  const before = await run(world.catalog);
  const after = await run(next);
  const report = diff(proposalId, world.catalog, next, events.length, before, after);
  const reportRef = world.store.putBlobSync(encodeStored(jsonToCbor(report)));
  const reportHash = hashValue(jsonToCbor(report));
  const seq = world.appendRecord("shadow_report", { proposal_id: proposalId, report_ref: reportRef, report_hash: reportHash });
  return { report, reportHash, seq, warnings: patchGovernanceWarnings(next) };
}

async function recentIngress(world: World, n: number): Promise<EventBody[]> {
  const out: EventBody[] = [];
  for await (const e of world.store.iterate(0)) {
    if (e.kind !== "event") continue;
    const b = decodeStored(e.body) as unknown as EventBody;
    if ((b.origin as CborObject).kind === "ingress") {
      out.push(b);
      if (out.length > n) out.shift();
    }
  }
  return out;
}

function diff(proposalId: string, base: AirCatalog, next: AirCatalog, events: number, before: { state: KernelState; batch: Batch; stats: { fuel: number } }, after: { state: KernelState; batch: Batch; stats: { fuel: number } }): ShadowReport {
  const cells = new Map<string, ShadowReport["cells"][number]>();
  for (const c of before.state.cells.list()) cells.set(`${c.module}|${String(c.key)}`, { module: c.module, key: typeof c.key === "string" ? c.key : null, before: c.hash, after: null });
  for (const c of after.state.cells.list()) {
    const k = `${c.module}|${String(c.key)}`;
    const row = cells.get(k) ?? { module: c.module, key: typeof c.key === "string" ? c.key : null, before: null, after: null };
    row.after = c.hash;
    cells.set(k, row);
  }
  let differing = Math.abs(before.batch.entries.length - after.batch.entries.length);
  const n = Math.min(before.batch.entries.length, after.batch.entries.length);
  for (let i = 0; i < n; i++) if (Buffer.compare(before.batch.bytesAt(i), after.batch.bytesAt(i)) !== 0) differing++;
  const decisions: Record<string, number> = {};
  const failures: ShadowReport["failures"] = [];
  for (const e of after.batch.entries) {
    const b = e.body as CborObject;
    if (e.kind === "policy_decision") decisions[b.code as string] = (decisions[b.code as string] ?? 0) + 1;
    if (e.kind === "step" && b.ok === false) failures.push({ module: b.module as string, ...(b.error as { code: string; message: string }) });
  }
  return {
    proposal_id: proposalId, base_manifest_hash: base.manifestHash, new_manifest_hash: next.manifestHash, events,
    cells: [...cells.values()].filter((c) => c.before !== c.after), differing_entries: differing, decisions, failures,
    fuel: { before: before.stats.fuel, after: after.stats.fuel },
  };
}

export { approvalPayload };

/** Signs an approval of a shadow-run proposal; the approver must be named by the policy and may not have proposed the patch. */
async function approveNow(world: World, proposalId: string, approver: KeyPair): Promise<number> {
  const { state, selfKeys } = recordsOf(world, proposalId);
  if (state.applied) throw new KernelError("governance.already_applied", `proposal ${proposalId} is already applied`);
  const report = state.latestReport;
  if (!report) throw new KernelError("governance.no_shadow", `proposal ${proposalId} has no shadow report yet: run wk shadow first`);
  const policy = governancePolicyOf(world.catalog);
  if (policy.approvers.length === 0) throw new KernelError("kernel.bad_approval", "the world's policy names no approvers, so no proposal can be approved");
  if (state.approvals.get(approver.publicKeyHex)?.has(report) === true) {
    throw new KernelError("kernel.bad_approval", "this approver already approved this shadow report");
  }
  const body: ApprovalBody = {
    proposal_id: proposalId, approver: approver.publicKeyHex, patch_ref: state.body.patch_ref, shadow_report_hash: report,
    signature: approver.sign("approval", approvalPayload(world.id, proposalId, state.body.patch_ref, report)),
  };
  const why = approvalFault(world.id, body, state.body, state.reports, policy, selfKeys);
  if (why !== null) throw new KernelError("kernel.bad_approval", why.includes("proposed this patch") ? `a proposer cannot approve its own proposal: ${why}` : why);
  return world.appendRecord("approval", body as unknown as CborObject);
}

/** Applies an approved proposal: enough valid approvals of its latest shadow report, and a base that is still current. */
async function applyNow(world: World, proposalId: string): Promise<{ seq: number; manifestHash: HashText }> {
  const { state } = recordsOf(world, proposalId);
  const policy = governancePolicyOf(world.catalog);
  const why = applyFault(state, world.catalog.manifestHash, policy);
  if (why !== null) {
    const code =
      state.applied ? "governance.already_applied"
      : state.body.base_manifest_hash !== world.catalog.manifestHash ? "governance.stale_base"
      : state.latestReport === null ? "governance.no_shadow"
      : "governance.not_approved";
    throw new KernelError(code, why, { proposal_id: proposalId });
  }
  const next = catalogFromBundle(world.store.getBlobSync(state.body.bundle_ref as HashText), state.body.new_manifest_hash);
  const seq = world.appendRecord("apply", { proposal_id: proposalId, new_manifest_hash: next.manifestHash, bundle_ref: state.body.bundle_ref, approvals: countingApprovers(state, policy) });
  world.state.catalog = next;
  world.state.airRef = state.body.bundle_ref as HashText;
  return { seq, manifestHash: next.manifestHash };
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
export function propose(world: World, doc: unknown, opts: ProposeOptions = {}): Promise<Proposed> {
  return world.exclusive(() => proposeNow(world, doc, opts));
}

/** Shadow-runs a proposal over recent ingress events and journals the report. */
export function shadow(world: World, proposalId: string, opts: { window?: number } = {}): Promise<Shadowed> {
  return world.exclusive(() => shadowNow(world, proposalId, opts));
}

/** Signs and journals an approval of a proposal's latest shadow report. */
export function approve(world: World, proposalId: string, approver: KeyPair): Promise<number> {
  return world.exclusive(() => approveNow(world, proposalId, approver));
}

/** Applies an approved, still-current proposal: the manifest swaps at this seq. */
export function apply(world: World, proposalId: string): Promise<{ seq: number; manifestHash: HashText }> {
  return world.exclusive(() => applyNow(world, proposalId));
}

/**
 * The kernel-internal adapter behind `governance.propose`: an agent (a module holding a
 * `governance` grant) proposes a patch it stored in the CAS; the proposal goes through the
 * same compile/validate path as `wk propose` and still needs shadow, approval and apply.
 */
export function governanceAdapter(world: World): EffectAdapter {
  return {
    id: "kernel.governance",
    version: "1",
    kinds: ["governance.propose"],
    async perform(req) {
      const started = req.nowNs();
      const p = req.params as CborObject;
      const done = (status: "ok" | "error", payload: CborObject): EffectOutcome => ({ status, payload, cost: { tokens_in: 0, tokens_out: 0, cents: 0 }, startedNs: started, finishedNs: req.nowNs() });
      try {
        const ref = p.patch_ref instanceof Uint8Array ? bytesToHash(p.patch_ref) : (p.patch_ref as HashText);
        const doc = parseJsonLossless(req.blobs.get(ref), ref);
        const description = typeof p.description === "string" ? { description: p.description } : {};
        const intent = world.state.pending.get(req.intentId);
        const r = await propose(world, doc, { ...description, as: { module: intent?.module ?? "unknown", intentId: req.intentId } });
        return done("ok", { proposal_id: r.proposalId });
      } catch (e) {
        const err = e as { code?: string; message: string };
        return done("error", { code: err.code ?? "governance.failed", message: err.message });
      }
    },
  };
}
