/**
 * @module Shadow runs (DESIGN §8, issue 15): what a proposal would change, computed without
 * calling any adapter or writing anything — the world re-run since a seq under the proposal
 * (counterfactual.ts), the recent ingress events on today's state under both manifests, or
 * given events — with the patch's state migrations run first, and the report: cells that end
 * differently, entries and fields that differ, decisions and intents that change, failing steps
 * and migrated cells, the policy's broken invariants as failures, and every change of authority
 * the patch makes (authority-diff.ts) whether or not an event exercises it. governance.ts journals it.
 */
import { createHash } from "node:crypto";
import type { Migration } from "../../air/schemas/patch.js";
import type { AirCatalog } from "../../air/loader.js";
import { hashValue } from "../../air/hash.js";
import { encodeStored } from "../../air/cbor/encode.js";
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import { KernelError } from "../core/errors.js";
import { decodeEntry, isHeldDecision, typedBody, type AppendInput } from "../journal/index.js";
import { eventOrigin } from "./event-fields.js";
import type { GovernancePolicy } from "./governance-rules.js";
import { BudgetLedger } from "../core/budget.js";
import { Batch } from "../transition/batch.js";
import { admit } from "./ingress.js";
import { eventHash, ingressEventHash, type EventBody, type KernelState } from "./processor.js";
import { newProcessor } from "./processor-factory.js";
import type { ShadowedWorld } from "./world-port.js";
import { counterfactualRun, type CounterfactualReport } from "./counterfactual.js";
import { runMigrations, type MigrationFailure, type MigrationRun } from "./migration.js";
import { trialApply } from "../transition/transition.js";
import { authorityChanges, type AuthorityFinding } from "./authority-diff.js";

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
  /**
   * Every change of authority from the manifest in force to the proposed one — caps, grants,
   * budgets, policies, effects, modules and their limits, bindings, routing (authority-diff.ts) —
   * whether or not any event exercises it, in canonical order; `widens` flags what may let the
   * world do more. Absent from reports made before it existed (they say nothing either way).
   */
  authority_changes?: AuthorityFinding[];
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

/**
 * The given events' canonical values under `catalog` (ingress.ts admits them all); the first
 * unknown schema or bad value names its line and the JSON path in it.
 */
function shadowEventValues(catalog: AirCatalog, events: readonly ShadowEvent[], lines: readonly number[]): CborValue[] {
  // The value is the event's JSON itself, never text to parse (as `wk send --file` reads its lines).
  const given = events.map((e) => ({ schema: e.schema, json: e.value }));
  const admitted = admit(catalog, given, undefined, { textIsJson: false });
  if (admitted.ok) return admitted.events.map((a) => a.value);
  const issue = admitted.issues[0]!;
  const line = lines[issue.index]!;
  if (issue.code === "kernel.unknown_schema")
    throw new KernelError(
      "kernel.unknown_schema",
      `line ${line} at $.schema: schema ${issue.schema} is not in the proposed manifest`,
      { path: "$.schema", line, schema: issue.schema },
    );
  if (issue.code === "kernel.bad_event")
    throw new KernelError(
      "kernel.bad_event",
      `line ${line} at ${issue.path}: event does not match ${issue.schema} under the proposed manifest: ${issue.detail}`,
      { path: issue.path, line, schema: issue.schema },
      { cause: issue.cause },
    );
  throw new KernelError("kernel.internal", `line ${line}: ${issue.message}`); // no keys given: no conflicts
}

/** The given-events report: `events` run on today's state under both manifests, as the windowed run does. */
async function eventsReport(
  world: ShadowedWorld,
  proposalId: string,
  next: AirCatalog,
  migrations: readonly Migration[],
  events: readonly ShadowEvent[],
  sha256: string | undefined,
): Promise<ShadowReport> {
  const lines = events.map((e, i) => e.line ?? i + 1);
  const values = shadowEventValues(next, events, lines); // all checked before anything runs
  const digest = sha256 ?? hashValue(values.map((value, i) => ({ schema: events[i]!.schema, value })));
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
      },
      origin: { kind: "ingress" },
    };
    return { seq, line: lines[i]!, body };
  });
  const report = await runReport(world, proposalId, next, migrations, inputs);
  return { ...report, source: "events", events_sha256: digest };
}

/** The counterfactual report: the world re-run under `next` since `since`, against the world now. */
async function counterfactualReport(
  world: ShadowedWorld,
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
function cfReport(world: ShadowedWorld, proposalId: string, next: AirCatalog, cf: CounterfactualReport): ShadowReport {
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
  world: ShadowedWorld,
  proposalId: string,
  next: AirCatalog,
  migrations: readonly Migration[],
  window: number,
): Promise<ShadowReport> {
  return runReport(world, proposalId, next, migrations, await recentIngress(world, window));
}

/** Runs ingress events on today's state under the old and the new manifest and compares the runs; `line` marks a given event. */
async function runReport(
  world: ShadowedWorld,
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
      cells: world.state.cells.clone(),
      ledger: BudgetLedger.fromCbor(world.state.ledger.toCbor()),
      pending: new Map(world.state.pending),
    };
    const processor = newProcessor(state, world.modules, { publicKey: world.worldKey.publicKey });
    // Under the proposal, the apply migrates today's cells first; the events then run on the migrated states.
    const trial = catalog === next ? await processor.drive(trialApply(state, next, migrations, proposalId)) : undefined;
    const migrated = migrations.length > 0 ? trial : undefined;
    const batch = new Batch(head);
    const origin: { seq: number; line?: number }[] = []; // batch index → the ingress event it came from
    for (const r of recorded) {
      const seq = batch.push("event", r.body);
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

async function recentIngress(world: ShadowedWorld, n: number): Promise<{ seq: number; body: EventBody }[]> {
  const out: { seq: number; body: EventBody }[] = [];
  for await (const raw of world.store.iterate(0)) {
    if (raw.kind !== "event") continue;
    const e = decodeEntry(raw);
    if (e.kind === "event" && eventOrigin(e.body).kind === "ingress") {
      out.push({ seq: e.seq, body: e.body });
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
function newIntents(before: readonly AppendInput[], after: readonly AppendInput[]): number {
  const ids = (l: typeof before) =>
    l.flatMap((entry) => {
      const e = typedBody(entry.kind, entry.body);
      return e.kind === "effect_intent" ? [e.body.intent_id] : [];
    });
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
function decisionCounts(entries: readonly AppendInput[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const entry of entries) {
    // A run's batches hold the gate's decisions only (an approver's are inputs, never produced by a step).
    const e = typedBody(entry.kind, entry.body);
    if (e.kind === "policy_decision" && !isHeldDecision(e.body)) out[e.body.code] = (out[e.body.code] ?? 0) + 1;
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
  after.batch.entries.forEach((entry, i) => {
    const e = typedBody(entry.kind, entry.body);
    if (e.kind === "step" && !e.body.ok && e.body.error !== null) {
      const b = e.body;
      const err = e.body.error;
      const from = after.origin[i]!;
      failures.push({
        module: b.module,
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

/**
 * Runs the proposal as `opts` says (`opts` is complete here: governance.ts applied the policy's
 * default), checks the policy's invariants and lists the authority changes from the manifest in force.
 */
export async function shadowRun(
  world: ShadowedWorld,
  proposalId: string,
  next: AirCatalog,
  migrations: readonly Migration[],
  policy: GovernancePolicy,
  opts: ShadowOptions,
): Promise<ShadowReport> {
  const run =
    opts.events !== undefined
      ? await eventsReport(world, proposalId, next, migrations, opts.events, opts.eventsSha256)
      : opts.since === undefined
        ? await windowReport(world, proposalId, next, migrations, opts.window!)
        : await counterfactualReport(world, proposalId, next, migrations, opts.since);
  return {
    ...withInvariants(run, policy, world.store.countSync()),
    authority_changes: authorityChanges(world.catalog, next),
  };
}
