/**
 * @module Governance (DESIGN §8): a world's definitions change only through
 * propose → shadow-run → approve → apply. A proposal is a compiled, fully validated patch
 * against the current manifest; a shadow run replays recent inputs under the old and the
 * new manifest from the same state and reports what differs (no adapter is called);
 * approvers named by the policy sign {proposal, patch, shadow report}; apply checks the
 * approvals and that the base is still current, then swaps the manifest — and replay swaps
 * it at the same seq.
 */
import { createHash } from "node:crypto";
import { AirError } from "../../air/errors.js";
import { canonicalizeJson } from "../../air/values/canonicalize.js";
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
import { KernelError } from "../core/errors.js";
import type { ApprovalBody, ProposalBody } from "../journal/index.js";
import {
  applyFault,
  approvalFault,
  approvalPayload,
  countingApprovers,
  failedShadowFault,
  governancePolicyOf,
  proposalFault,
  proposalIdOf,
  proposalPayload,
  type GovernancePolicy,
  type ProposalState,
  type Proposer,
} from "./governance-rules.js";
import { JournalRules } from "./journal-rules.js";
import { BudgetLedger } from "../core/budget.js";
import { Batch } from "./batch.js";
import { bundleOf, catalogFromBundle } from "../../air/bundle.js";
import {
  Processor,
  eventHash,
  ingressEventHash,
  unsignedDenySigner,
  type EventBody,
  type KernelState,
} from "./processor.js";
import type { World } from "./world.js";
import { counterfactualRun, type CounterfactualReport } from "./counterfactual.js";
import { upgradePatch, upgradeRequestOf } from "./governance-upgrade.js";
import {
  checkMigrations,
  checkSchemasInPlace,
  commitMigrations,
  migrationsInPatch,
  runMigrations,
  runsBody,
  type MigrationFailure,
  type MigrationRun,
} from "./migration.js";

/** What a shadow run found. */
export interface ShadowReport {
  /** 2: failures name key and event, entries are compared without `ctx.manifest_hash`, differing fields are listed. */
  report_version: 2;
  proposal_id: string;
  base_manifest_hash: string;
  new_manifest_hash: string;
  events: number;
  /** Cells whose resulting state differs (hashes under the old and the new manifest; null = absent). */
  cells: { module: string; key: string | null; before: string | null; after: string | null }[];
  /**
   * Entries produced under the new manifest that differ from those under the old one, compared
   * with `ctx.manifest_hash` set aside (it always names the manifest the entry ran under).
   */
  differing_entries: number;
  /** Of the differing entries, how many differ in each top-level body field (`step.fuel`, …); `(only in one run)` counts the surplus of the longer run. */
  differing_fields: Record<string, number>;
  /** Of the differing entries, how many differ in nothing but `fuel`. */
  fuel_only: number;
  /** Gate decisions under the new manifest, counted by code. */
  decisions: Record<string, number>;
  /**
   * The gate and policy decisions that change, by code: how many the world takes without the
   * proposal (`before`: the old manifest's run, or for a counterfactual run what the journal
   * recorded since then) and with it (`after`); only codes whose counts differ.
   */
  decision_changes: Record<string, { before: number; after: number }>;
  /** Intents the proposal issues that the world without it does not (for a counterfactual run: `counterfactual.new_intents`). */
  new_intents: number;
  /**
   * Steps that failed under the new manifest; `event_seq`: the journal seq of the recorded ingress event whose replay
   * ran the step (for given events: the seq the event would have had, and `line` its line in the file).
   */
  failures: {
    module: string;
    key: string | null;
    event_seq: number;
    line?: number;
    /** Set for a cell the patch's state migration failed on (the migration module's name); `event_seq` is then the seq the apply would have. */
    migration?: string;
    /** Set for an invariant of the policy (`shadow_invariants`) the run broke; `module` is then the policy's name. */
    invariant?: string;
    code: string;
    message: string;
  }[];
  fuel: { before: number; after: number };
  /** The state migrations the apply would run, with the cells each rewrote, its fuel and its failing cells; absent when the patch names none. */
  migrations?: (MigrationRun & { failures: number })[];
  /** Set for a run of given events (`events`, `wk shadow --events FILE`) instead of the recorded window. */
  source?: "events";
  /** With `source: "events"`: the sha256 of the events file (of the events as given, through the library). */
  events_sha256?: string;
  /**
   * Set for a counterfactual run (`since`): the world re-run under the proposal from that seq and
   * compared with the world now (cells, intents, decisions; `differing_entries` is then 0). `fuel.before`
   * is what the recorded steps since then used.
   */
  counterfactual?: {
    since: number;
    moved_from?: number;
    inputs_reused: number;
    new_intents: CounterfactualReport["new_intents"];
    dropped_intents: string[];
    superseded_applies: number[];
    cell_states: { module: string; key: string | null; before: unknown; after: unknown }[];
  };
}

/**
 * A proposal's records, read the way `wk verify` reads them: the journal rules primed from
 * the indexed governance entries, so the kernel decides on exactly the state verify checks.
 */
function recordsOf(world: World, proposalId: string): { state: ProposalState; selfKeys: ReadonlySet<string> } {
  const rules = new JournalRules(world.store, false);
  rules.seed([...world.store.ruleEntriesSync()]);
  const r = rules.governanceOf(proposalId);
  if (!r)
    throw new KernelError("governance.unknown_proposal", `no proposal ${proposalId}`, { proposal_id: proposalId });
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
  const why = proposalFault(world.id, body, governancePolicyOf(current), 2);
  if (why !== null)
    throw new KernelError(
      "governance.unsigned_proposal",
      `${why}: propose with --key (or set allow_unsigned_proposals in the policy)`,
    );
  const proposalId = body.proposal_id;
  const seq = world.appendRecord("proposal", body as unknown as CborObject);
  return { proposalId, seq, newManifestHash: next.manifestHash, warnings: patchGovernanceWarnings(next) };
}

/** Replays recent ingress events under the old and the new manifest from the current state, and journals the report. */
async function shadowNow(world: World, proposalId: string, opts: ShadowOptions = {}): Promise<Shadowed> {
  const { state } = recordsOf(world, proposalId);
  if (state.applied) throw new KernelError("governance.already_applied", `proposal ${proposalId} is already applied`);
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
  const run =
    opts.events !== undefined
      ? await eventsReport(world, proposalId, next, migrations, opts.events, opts.eventsSha256)
      : opts.since === undefined
        ? await windowReport(world, proposalId, next, migrations, opts.window!)
        : await counterfactualReport(world, proposalId, next, migrations, opts.since);
  const report = withInvariants(run, policy, world.store.countSync());
  const reportRef = world.store.putBlobSync(encodeStored(jsonToCbor(report)));
  const reportHash = hashValue(jsonToCbor(report));
  const seq = world.appendRecord("shadow_report", {
    proposal_id: proposalId,
    report_ref: reportRef,
    report_hash: reportHash,
    failures: report.failures.length,
  });
  return { report, reportHash, seq, warnings: patchGovernanceWarnings(next) };
}

/**
 * How to shadow-run: the last `window` ingress events on today's state, re-run the world since seq
 * `since`, or run the given `events` on today's state (one of the three). Given none, the default
 * policy's `shadow_window` or `shadow_since`, else the world re-run since genesis.
 */
export interface ShadowOptions {
  window?: number;
  since?: number;
  /** Events to run instead of the recorded window, validated against their schemas under the proposed manifest. */
  events?: readonly ShadowEvent[];
  /** The sha256 of the file the events came from (`wk shadow --events`); default: the hash of the events as given. */
  eventsSha256?: string;
}

/** An event of a given-events shadow run, as a line of `wk send --file` holds it; `line` (1-based) names it in errors and failures. */
export interface ShadowEvent {
  schema: string;
  value: unknown;
  line?: number;
}

/** A given event's canonical value under `catalog`; an unknown schema or a bad value names the line and the JSON path in it. */
function shadowEventValue(catalog: AirCatalog, e: ShadowEvent, line: number): CborValue {
  const s = catalog.schemas.get(e.schema);
  if (!s)
    throw new KernelError(
      "kernel.unknown_schema",
      `line ${line} at $.schema: schema ${e.schema} is not in the proposed manifest`,
      { path: "$.schema", line, schema: e.schema },
    );
  try {
    return canonicalizeJson(s.expanded, e.value);
  } catch (err) {
    const inner = (err as { path?: unknown }).path;
    const path = typeof inner === "string" && inner.startsWith("$") ? `$.value${inner.slice(1)}` : "$.value";
    throw new KernelError(
      "kernel.bad_event",
      `line ${line} at ${path}: event does not match ${e.schema} under the proposed manifest: ${String((err as Error).message).replace(/ \(at [^)]*\)$/, "")}`,
      { path, line, schema: e.schema },
      { cause: err },
    );
  }
}

/** The given-events report: `events` run on today's state under both manifests, as the windowed run does. */
async function eventsReport(
  world: World,
  proposalId: string,
  next: AirCatalog,
  migrations: readonly Migration[],
  events: readonly ShadowEvent[],
  sha256: string | undefined,
): Promise<ShadowReport> {
  const lines = events.map((e, i) => e.line ?? i + 1);
  const values = events.map((e, i) => shadowEventValue(next, e, lines[i]!)); // all checked before anything runs
  const digest =
    sha256 ?? hashValue(values.map((value, i) => ({ schema: events[i]!.schema, value }) as CborObject) as CborValue);
  const base = world.store.countSync();
  const nowNs = world.nowNs(); // the world's clock (injectable), as ingress would stamp it
  const inputs = values.map((value, i) => {
    const schema = events[i]!.schema;
    const seq = base + i;
    const body: EventBody = {
      schema,
      value,
      key: null,
      ctx: {
        now_ns: nowNs,
        logical_now: world.state.logicalNow + i + 1,
        journal_height: seq,
        // Deterministic: both runs see the same bytes, and so does a rerun of the same file.
        entropy: createHash("sha256").update(`${digest}|${lines[i]!}`).digest(),
        event_hash: world.state.behaviour.identityV2
          ? ingressEventHash(schema, value, seq)
          : eventHash(schema, value, null),
        manifest_hash: world.catalog.manifestHash,
      } as unknown as CborObject,
      origin: { kind: "ingress" },
    };
    return { seq, line: lines[i]!, body };
  });
  const report = await runReport(world, proposalId, next, migrations, inputs);
  return { ...report, source: "events", events_sha256: digest };
}

/** The counterfactual report: the world re-run under `next` since `since`, against the world now. */
async function counterfactualReport(
  world: World,
  proposalId: string,
  next: AirCatalog,
  migrations: readonly Migration[],
  since: number,
): Promise<ShadowReport> {
  const cf = await counterfactualRun(world, next, since, { migrations, proposalId });
  if (cf.migrated === undefined) return cfReport(world, proposalId, next, cf);
  // The apply will migrate today's cells, not those at `since` (none at genesis): run that too, and
  // report its runs, with the failures of both (a cell failing alike in both is listed once).
  const today = await runMigrations(world.state.cells, world.modules, world.catalog, next, migrations, proposalId);
  const seen = new Set(today.failures.map((f) => `${f.module}|${f.key}|${f.code}`));
  const failures = [
    ...today.failures,
    ...cf.migrated.failures.filter((f) => !seen.has(`${f.module}|${f.key}|${f.code}`)),
  ];
  return withMigrations(cfReport(world, proposalId, next, cf), { runs: today.runs, failures }, world.store.countSync());
}

/** The shadow report of a counterfactual run (without its migrations). */
function cfReport(world: World, proposalId: string, next: AirCatalog, cf: CounterfactualReport): ShadowReport {
  return {
    report_version: 2,
    proposal_id: proposalId,
    base_manifest_hash: world.catalog.manifestHash,
    new_manifest_hash: next.manifestHash,
    events: cf.events,
    cells: cf.cells.map(({ module, key, before, after }) => ({ module, key, before, after })),
    differing_entries: 0,
    differing_fields: {},
    fuel_only: 0,
    decisions: cf.decisions,
    decision_changes: decisionChanges(cf.recorded_decisions, cf.decisions),
    new_intents: cf.new_intents.length,
    failures: cf.failures.map(({ module, key, cause_seq, code, message }) => ({
      module,
      key,
      event_seq: cause_seq,
      code,
      message,
    })),
    fuel: { before: cf.recorded_fuel, after: cf.fuel },
    counterfactual: {
      since: cf.since,
      ...(cf.moved_from === undefined ? {} : { moved_from: cf.moved_from }),
      inputs_reused: cf.inputs_reused,
      new_intents: cf.new_intents,
      dropped_intents: cf.dropped_intents,
      superseded_applies: cf.superseded_applies,
      cell_states: cf.cells.map((c) => ({
        module: c.module,
        key: c.key,
        before: c.before_state,
        after: c.after_state,
      })),
    },
  };
}

/** The windowed report: the last `window` ingress events replayed on today's state under both manifests. */
async function windowReport(
  world: World,
  proposalId: string,
  next: AirCatalog,
  migrations: readonly Migration[],
  window: number,
): Promise<ShadowReport> {
  return runReport(world, proposalId, next, migrations, await recentIngress(world, window));
}

/** Runs ingress events on today's state under the old and the new manifest and compares the runs; `line` marks a given event. */
async function runReport(
  world: World,
  proposalId: string,
  next: AirCatalog,
  migrations: readonly Migration[],
  recorded: readonly { seq: number; line?: number; body: EventBody }[],
): Promise<ShadowReport> {
  const events = recorded.map((r) => r.body);
  const head = world.store.countSync();
  const run = async (catalog: AirCatalog) => {
    const state: KernelState = {
      ...world.state,
      catalog,
      cells: world.state.cells.clone(),
      ledger: BudgetLedger.fromCbor(world.state.ledger.toCbor()),
      pending: new Map(world.state.pending),
    };
    const processor = new Processor(
      state,
      world.modules,
      world.hooks,
      unsignedDenySigner(state.worldId, world.worldKey.publicKey),
    );
    // Under the proposal, the apply migrates today's cells first; the events then run on the migrated states.
    const migrated =
      catalog === next && migrations.length > 0
        ? await runMigrations(state.cells, world.modules, world.catalog, next, migrations, proposalId)
        : undefined;
    if (migrated) commitMigrations(state.cells, migrated);
    const batch = new Batch(head);
    const origin: { seq: number; line?: number }[] = []; // batch index → the ingress event it came from
    for (const r of recorded) {
      const seq = batch.push("event", r.body as unknown as CborObject);
      await processor.processEvent(seq, r.body, batch);
      while (origin.length < batch.entries.length)
        origin.push(r.line === undefined ? { seq: r.seq } : { seq: r.seq, line: r.line });
    }
    return { state, batch, origin, stats: processor.stats, migrated };
  };
  const before = await run(world.catalog);
  const after = await run(next);
  return withMigrations(diff(proposalId, world.catalog, next, events.length, before, after), after.migrated, head);
}

/** The report with the migrations the apply would run: their runs, and each failing cell as a failure (at the head seq). */
function withMigrations(
  report: ShadowReport,
  m: { runs: MigrationRun[]; failures: MigrationFailure[] } | undefined,
  atSeq: number,
): ShadowReport {
  if (m === undefined) return report;
  const failures = m.failures.map((f) => ({
    module: f.module,
    key: f.key,
    event_seq: atSeq,
    migration: f.migration,
    code: f.code,
    message: f.message,
  }));
  return {
    ...report,
    migrations: m.runs.map((r) => ({ ...r, failures: m.failures.filter((f) => f.module === r.module).length })),
    failures: [...failures, ...report.failures],
    fuel: { ...report.fuel, after: report.fuel.after + m.runs.reduce((n, r) => n + r.fuel, 0) },
  };
}

async function recentIngress(world: World, n: number): Promise<{ seq: number; body: EventBody }[]> {
  const out: { seq: number; body: EventBody }[] = [];
  for await (const e of world.store.iterate(0)) {
    if (e.kind !== "event") continue;
    const b = decodeStored(e.body) as unknown as EventBody;
    if ((b.origin as CborObject).kind === "ingress") {
      out.push({ seq: e.seq, body: b });
      if (out.length > n) out.shift();
    }
  }
  return out;
}

/** An entry body as the report compares it: `ctx.manifest_hash` set aside (it names the manifest each run is under). */
function comparable(body: CborValue): CborValue {
  if (!isCborObject(body) || !isCborObject(body.ctx) || !("manifest_hash" in body.ctx)) return body;
  const { manifest_hash: _, ...ctx } = body.ctx;
  return { ...body, ctx };
}

/** The top-level body fields in which two entries differ (`kind.field`), or `kind` when their kinds differ; empty when they agree (exported for tests). */
export function differingFields(a: { kind: string; body: CborValue }, b: { kind: string; body: CborValue }): string[] {
  const ba = comparable(a.body);
  const bb = comparable(b.body);
  if (a.kind !== b.kind) return ["kind"];
  const same = (x: CborValue | undefined, y: CborValue | undefined) =>
    x !== undefined && y !== undefined ? Buffer.compare(encodeStored(x), encodeStored(y)) === 0 : x === y;
  if (!isCborObject(ba) || !isCborObject(bb)) return same(ba, bb) ? [] : [a.kind];
  const fields = [...new Set([...Object.keys(ba), ...Object.keys(bb)])].sort();
  return fields.filter((f) => !same(ba[f], bb[f])).map((f) => `${a.kind}.${f}`);
}

type Run = { state: KernelState; batch: Batch; origin: { seq: number; line?: number }[]; stats: { fuel: number } };

/** How many intents `after` issues that `before` does not (by intent id). */
function newIntents(
  before: readonly { kind: string; body: CborValue }[],
  after: readonly { kind: string; body: CborValue }[],
): number {
  const ids = (l: typeof before) =>
    l.filter((e) => e.kind === "effect_intent").map((e) => (e.body as CborObject).intent_id as string);
  const had = new Set(ids(before));
  return ids(after).filter((id) => !had.has(id)).length;
}

/**
 * The report with a failure for every invariant of the policy in force it breaks (`shadow_invariants`),
 * so a broken invariant blocks approval and apply exactly as a failing step does.
 */
function withInvariants(report: ShadowReport, policy: GovernancePolicy, atSeq: number): ShadowReport {
  const broken: { invariant: string; message: string }[] = [];
  for (const inv of policy.invariants) {
    if (inv === "cells_unchanged" && report.cells.length > 0)
      broken.push({ invariant: inv, message: `${report.cells.length} cell(s) end differently` });
    if (inv === "no_new_intents" && report.new_intents > 0)
      broken.push({ invariant: inv, message: `the proposal issues ${report.new_intents} new intent(s)` });
    const changes = Object.entries(report.decision_changes);
    if (inv === "no_decision_changes" && changes.length > 0)
      broken.push({
        invariant: inv,
        message: `gate decisions change: ${changes.map(([c, n]) => `${c} ${n.before} → ${n.after}`).join(", ")}`,
      });
  }
  if (broken.length === 0) return report;
  const who = policy.policy ?? "(policy)";
  return {
    ...report,
    failures: [
      ...report.failures,
      ...broken.map((b) => ({
        module: who,
        key: null,
        event_seq: atSeq,
        invariant: b.invariant,
        code: "governance.invariant_broken",
        message: `${b.invariant}: ${b.message}`,
      })),
    ],
  };
}

/** Gate decisions among `entries`, counted by code. */
function decisionCounts(entries: readonly { kind: string; body: CborValue }[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of entries)
    if (e.kind === "policy_decision") {
      const code = (e.body as CborObject).code as string;
      out[code] = (out[code] ?? 0) + 1;
    }
  return out;
}

/** The codes whose counts differ between two runs, with both counts. */
export function decisionChanges(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, { before: number; after: number }> {
  const out: Record<string, { before: number; after: number }> = {};
  for (const code of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort())
    if ((before[code] ?? 0) !== (after[code] ?? 0)) out[code] = { before: before[code] ?? 0, after: after[code] ?? 0 };
  return out;
}

/** The state migrations a proposal's patch names (read from its patch document in the CAS). */
function migrationsOf(world: World, patchRef: string): Migration[] {
  const named = migrationsInPatch(decodeStored(world.store.getBlobSync(patchRef as HashText)));
  if (named === null)
    throw new KernelError("governance.bad_migration", `the patch ${patchRef} names malformed migrations`, {
      path: "$.migrations",
    });
  return named;
}

function diff(
  proposalId: string,
  base: AirCatalog,
  next: AirCatalog,
  events: number,
  before: Run,
  after: Run,
): ShadowReport {
  const cells = new Map<string, ShadowReport["cells"][number]>();
  for (const c of before.state.cells.list())
    cells.set(`${c.module}|${String(c.key)}`, {
      module: c.module,
      key: typeof c.key === "string" ? c.key : null,
      before: c.hash,
      after: null,
    });
  for (const c of after.state.cells.list()) {
    const k = `${c.module}|${String(c.key)}`;
    const row = cells.get(k) ?? {
      module: c.module,
      key: typeof c.key === "string" ? c.key : null,
      before: null,
      after: null,
    };
    row.after = c.hash;
    cells.set(k, row);
  }
  const surplus = Math.abs(before.batch.entries.length - after.batch.entries.length);
  let differing = surplus;
  let fuelOnly = 0;
  const fields: Record<string, number> = surplus > 0 ? { "(only in one run)": surplus } : {};
  const n = Math.min(before.batch.entries.length, after.batch.entries.length);
  for (let i = 0; i < n; i++) {
    if (Buffer.compare(before.batch.bytesAt(i), after.batch.bytesAt(i)) === 0) continue;
    const d = differingFields(before.batch.entries[i]!, after.batch.entries[i]!);
    if (d.length === 0) continue; // only ctx.manifest_hash differs
    differing++;
    if (d.length === 1 && d[0]!.endsWith(".fuel")) fuelOnly++;
    for (const f of d) fields[f] = (fields[f] ?? 0) + 1;
  }
  const decisions = decisionCounts(after.batch.entries);
  const failures: ShadowReport["failures"] = [];
  after.batch.entries.forEach((e, i) => {
    const b = e.body as CborObject;
    if (e.kind === "step" && b.ok === false) {
      const err = b.error as { code: string; message: string };
      const from = after.origin[i]!;
      failures.push({
        module: b.module as string,
        key: typeof b.key === "string" ? b.key : null,
        event_seq: from.seq,
        ...(from.line === undefined ? {} : { line: from.line }),
        code: err.code,
        message: err.message,
      });
    }
  });
  return {
    report_version: 2,
    proposal_id: proposalId,
    base_manifest_hash: base.manifestHash,
    new_manifest_hash: next.manifestHash,
    events,
    cells: [...cells.values()].filter((c) => c.before !== c.after),
    differing_entries: differing,
    differing_fields: fields,
    fuel_only: fuelOnly,
    decisions,
    decision_changes: decisionChanges(decisionCounts(before.batch.entries), decisions),
    new_intents: newIntents(before.batch.entries, after.batch.entries),
    failures,
    fuel: { before: before.stats.fuel, after: after.stats.fuel },
  };
}

export { approvalPayload };

/** One line per failing step of a report: module, key, the recorded event replayed, error code. */
export function failureLines(
  failures: readonly {
    module: string;
    key?: string | null;
    event_seq?: number;
    line?: number;
    migration?: string;
    invariant?: string;
    code: string;
  }[],
): string[] {
  const where = (f: (typeof failures)[number]) =>
    f.invariant !== undefined
      ? ` (invariant ${f.invariant})`
      : f.migration !== undefined
        ? ` (migration ${f.migration})`
        : f.line !== undefined
          ? ` (line ${f.line})`
          : f.event_seq === undefined
            ? ""
            : ` (event seq ${f.event_seq})`;
  return failures.map((f) => `${f.module} ${f.key ?? "-"}${where(f)}: ${f.code}`);
}

/** A proposal's latest shadow report as journaled (null when it has none; `report` null when its blob was erased). */
export function latestShadowReport(
  world: World,
  proposalId: string,
): { reportHash: HashText; report: ShadowReport | null; failures: number } | null {
  const { state } = recordsOf(world, proposalId);
  return latestOf(world, state);
}

function latestOf(
  world: World,
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
  world: World,
  proposalId: string,
  approver: KeyPair,
  opts: ApproveOptions = {},
): Promise<number> {
  const { state, selfKeys } = recordsOf(world, proposalId);
  if (state.applied) throw new KernelError("governance.already_applied", `proposal ${proposalId} is already applied`);
  const latest = latestOf(world, state);
  if (!latest)
    throw new KernelError(
      "governance.no_shadow",
      `proposal ${proposalId} has no shadow report yet: run wk shadow first`,
      { proposal_id: proposalId },
    );
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
  const why = approvalFault(world.id, body, state.body, state.reports, policy, selfKeys);
  if (why !== null)
    throw new KernelError(
      "kernel.bad_approval",
      why.includes("proposed this patch") ? `a proposer cannot approve its own proposal: ${why}` : why,
    );
  return world.appendRecord("approval", body as unknown as CborObject);
}

/** Applies an approved proposal: enough valid approvals of its latest shadow report, and a base that is still current. */
async function applyNow(world: World, proposalId: string): Promise<Applied> {
  const { state } = recordsOf(world, proposalId);
  const policy = governancePolicyOf(world.catalog);
  const why = applyFault(state, world.catalog.manifestHash, policy);
  if (why !== null) {
    const code = state.applied
      ? "governance.already_applied"
      : state.body.base_manifest_hash !== world.catalog.manifestHash
        ? "governance.stale_base"
        : state.latestReport === null
          ? "governance.no_shadow"
          : policy.approvers.length > 0 && failedShadowFault(state, policy) !== null
            ? "governance.failed_shadow"
            : "governance.not_approved";
    throw new KernelError(code, why, { proposal_id: proposalId });
  }
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
  let stateRoot: HashText | undefined;
  if (migrated) {
    const after = world.state.cells.clone();
    commitMigrations(after, migrated);
    stateRoot = after.stateRoot();
  }
  const seq = world.appendRecord("apply", {
    proposal_id: proposalId,
    new_manifest_hash: next.manifestHash,
    bundle_ref: state.body.bundle_ref,
    approvals: countingApprovers(state, policy),
    ...(migrated ? { migrations: runsBody(migrated.runs), state_root: stateRoot! } : {}),
  });
  if (migrated) commitMigrations(world.state.cells, migrated);
  world.state.catalog = next;
  world.state.airRef = state.body.bundle_ref as HashText;
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
export function propose(world: World, doc: unknown, opts: ProposeOptions = {}): Promise<Proposed> {
  return world.exclusive(() => proposeNow(world, doc, opts));
}

/** Shadow-runs a proposal (as `opts` or the policy says; default: its whole history, counterfactually) and journals the report. */
export function shadow(world: World, proposalId: string, opts: ShadowOptions = {}): Promise<Shadowed> {
  return world.exclusive(() => shadowNow(world, proposalId, opts));
}

/** Signs and journals an approval of a proposal's latest shadow report (one with failing steps only with `acceptFailures`). */
export function approve(
  world: World,
  proposalId: string,
  approver: KeyPair,
  opts: ApproveOptions = {},
): Promise<number> {
  return world.exclusive(() => approveNow(world, proposalId, approver, opts));
}

/** Applies an approved, still-current proposal: the manifest swaps at this seq. */
export function apply(world: World, proposalId: string): Promise<Applied> {
  return world.exclusive(() => applyNow(world, proposalId));
}

/**
 * The kernel-internal adapter behind `governance.propose` and `governance.upgrade`: an agent (a
 * module holding a `governance` grant) proposes a patch it stored in the CAS, or asks for its
 * binary swap and the kernel writes the patch (governance-upgrade.ts); either way the proposal
 * goes through the same compile/validate path as `wk propose` and still needs shadow, approval
 * and apply.
 */
export function governanceAdapter(world: World): EffectAdapter {
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
