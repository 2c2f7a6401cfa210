/**
 * @module Counterfactual shadow runs: what would this world look like now if a proposed
 * manifest had been in force since seq N? The world is rebuilt in memory at the batch boundary
 * at or before N (snapshot, then replay checked against the journal), the proposed catalog is
 * put in force there, and every later input is re-executed under it: ingress events, and the
 * recorded receipts, approvals and erasure notices of intents the counterfactual world also
 * issued (same intent id: same cause, module, params). Intents that only the counterfactual
 * world issues are reported, never performed: no adapter is called. Applies after N are
 * superseded by the proposal and listed. Nothing is written.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import type { AirCatalog } from "../../air/loader.js";
import type { HashText } from "../../air/hash.js";
import { cellKeyText, type CellKey } from "../core/cells.js";
import { decodeEntry, isHeldDecision, typedBody } from "../journal/index.js";
import { eventCtx, eventOrigin } from "./event-fields.js";
import { KernelError } from "../core/errors.js";
import { Batch } from "../transition/batch.js";
import { bootState, readGenesis } from "./boot.js";
import { resolveStop } from "./boundaries.js";
import { jsonView } from "./json-view.js";
import { GATE_ADAPTER } from "./processor.js";
import type { StateView } from "../transition/state.js";
import { newProcessor } from "./processor-factory.js";
import { replayRange } from "./replay.js";
import type { MigrationOutcome } from "./migration.js";
import { trialApply } from "../transition/transition.js";
import type { Migration } from "../../air/schemas/patch.js";
import type { CounterfactualWorld } from "./world-port.js";

/** One cell that ends differently: its state now (`before`) and in the counterfactual world (`after`); null = absent. */
export interface CellDiff {
  module: string;
  key: string | null;
  before: HashText | null;
  after: HashText | null;
  before_state: unknown;
  after_state: unknown;
}

/** What a counterfactual run found. */
export interface CounterfactualReport {
  /** The batch boundary the run forked at, and the seq asked for when that was inside a batch. */
  since: number;
  moved_from?: number;
  /** Ingress events re-executed under the proposed manifest. */
  events: number;
  /** Recorded receipts and approvals delivered because the counterfactual world issued the same intent. */
  inputs_reused: number;
  /** Intents only the counterfactual world issues (reported, not performed). */
  new_intents: { intent_id: string; kind: string; module: string; cause_seq: number }[];
  /** Intents the world issued that the counterfactual world does not. */
  dropped_intents: string[];
  cells: CellDiff[];
  failures: { module: string; key: string | null; cause_seq: number; code: string; message: string }[];
  /** Gate decisions taken in the counterfactual run, by code. */
  decisions: Record<string, number>;
  /** Gate decisions the journal recorded since `since` (the world as it ran), by code. */
  recorded_decisions: Record<string, number>;
  steps: number;
  fuel: number;
  /** Fuel the recorded steps since `since` used (the world as it ran). */
  recorded_fuel: number;
  /** Applies after `since` that the proposal supersedes in the counterfactual world. */
  superseded_applies: number[];
  /** The proposal's state migrations, run over the cells at `since` (absent when it names none). */
  migrated?: MigrationOutcome;
}

const stateJson = (bytes: Uint8Array | undefined): unknown =>
  bytes === undefined ? null : bytes.length === 0 ? "(erased)" : jsonView(decodeStored(bytes));

/** Re-executes the world's inputs after `since` under `next`; compares with the world's state now. */
export async function counterfactualRun(
  world: CounterfactualWorld,
  next: AirCatalog,
  since: number,
  opts: { migrations?: readonly Migration[]; proposalId?: string } = {},
): Promise<CounterfactualReport> {
  const store = world.store;
  const stop = resolveStop(store, since, false, "shadow --since");
  const { genesis, catalog } = readGenesis(store);
  const { state, from } = bootState(store, genesis, catalog, { snapshot: "latest", to: stop.seq });
  const processor = newProcessor(state, world.modules, { publicKey: genesis.world_public_key });
  if (from <= stop.seq) {
    const r = await replayRange(store, processor, from, stop.seq);
    if (!r.ok)
      throw new KernelError(
        "governance.shadow_diverged",
        `rebuilding the world at seq ${stop.seq} diverged at seq ${r.divergence!.seq}: ${r.divergence!.reason}`,
        { seq: r.divergence!.seq },
      );
  }
  // From here on the proposed definitions are in force (their migrations run first); later inputs are replayed, not compared.
  const migrations = opts.migrations ?? [];
  const cf = newProcessor(state, world.modules, { publicKey: genesis.world_public_key });
  const trial = await cf.drive(trialApply(state, next, migrations, opts.proposalId ?? ""));
  const migrated = migrations.length > 0 ? trial : undefined;
  const report: CounterfactualReport = {
    since: stop.seq,
    ...(stop.inside ? { moved_from: since } : {}),
    events: 0,
    inputs_reused: 0,
    new_intents: [],
    dropped_intents: [],
    cells: [],
    failures: [],
    decisions: {},
    recorded_decisions: {},
    steps: 0,
    fuel: 0,
    recorded_fuel: 0,
    superseded_applies: [],
    ...(migrated ? { migrated } : {}),
  };
  const realIntents = new Set<string>();
  const cfIntents = new Set<string>();
  const collect = (batch: Batch) => {
    for (const entry of batch.entries) {
      const e = typedBody(entry.kind, entry.body);
      if (e.kind === "step" && !e.body.ok && e.body.error !== null) {
        report.failures.push({
          module: e.body.module,
          key: cellKeyText(e.body.key),
          cause_seq: e.body.cause_seq,
          code: e.body.error.code,
          message: e.body.error.message,
        });
      } else if (e.kind === "policy_decision" && !isHeldDecision(e.body))
        report.decisions[e.body.code] = (report.decisions[e.body.code] ?? 0) + 1;
      else if (e.kind === "effect_intent") {
        cfIntents.add(e.body.intent_id);
        report.new_intents.push({
          intent_id: e.body.intent_id,
          kind: e.body.kind,
          module: e.body.module,
          cause_seq: e.body.cause_seq,
        });
      }
    }
  };
  for await (const raw of store.iterate(stop.seq + 1)) {
    const e = decodeEntry(raw);
    const batch = new Batch(e.seq + 1);
    switch (e.kind) {
      case "event": {
        if (eventOrigin(e.body).kind !== "ingress") continue; // a step's output: the counterfactual steps make their own
        state.logicalNow = Number(eventCtx(e.body).logical_now);
        report.events++;
        await cf.processEvent(e.seq, e.body, batch);
        break;
      }
      case "effect_intent":
        realIntents.add(e.body.intent_id);
        continue;
      case "step":
        report.recorded_fuel += Number(e.body.fuel);
        continue;
      case "effect_receipt": {
        // The gate's own denials are re-decided by the counterfactual run; other receipts reach it only for its own intents.
        if (e.body.receipt.adapter_id === GATE_ADAPTER.id || !state.pending.has(e.body.intent_id)) continue;
        report.inputs_reused++;
        await cf.processReceipt(e.seq, e.body, batch);
        break;
      }
      case "policy_decision":
        if (!isHeldDecision(e.body)) {
          const code = e.body.code;
          report.recorded_decisions[code] = (report.recorded_decisions[code] ?? 0) + 1;
          continue;
        }
        if (!state.pending.has(e.body.intent_id)) continue;
        report.inputs_reused++;
        await cf.processApproval(e.seq, e.body, batch);
        break;
      case "erasure":
        if (e.body.notify === undefined) continue;
        await cf.processErasure(e.seq, e.body, batch);
        break;
      case "apply":
        report.superseded_applies.push(e.seq);
        continue;
      default:
        continue;
    }
    collect(batch);
  }
  report.new_intents = report.new_intents.filter((i) => !realIntents.has(i.intent_id));
  report.dropped_intents = [...realIntents].filter((id) => !cfIntents.has(id)).sort();
  report.steps = cf.stats.steps;
  report.fuel = cf.stats.fuel;
  report.cells = cellDiffs(world.state, state);
  return report;
}

/** Cells whose state differs between the world now and the counterfactual world. */
function cellDiffs(now: StateView, cf: StateView): CellDiff[] {
  const rows = new Map<
    string,
    {
      module: string;
      key: CellKey | null;
      before?: { hash: HashText; bytes: Uint8Array };
      after?: { hash: HashText; bytes: Uint8Array };
    }
  >();
  const id = (module: string, key: CellKey | null) =>
    `${module}\u0000${key === null ? "" : typeof key === "string" ? `s${key}` : `b${Buffer.from(key).toString("hex")}`}`;
  for (const c of now.cells.list())
    rows.set(id(c.module, c.key), { module: c.module, key: c.key, before: { hash: c.hash, bytes: c.bytes } });
  for (const c of cf.cells.list()) {
    const k = id(c.module, c.key);
    const row = rows.get(k) ?? { module: c.module, key: c.key };
    row.after = { hash: c.hash, bytes: c.bytes };
    rows.set(k, row);
  }
  const out: CellDiff[] = [];
  for (const r of rows.values()) {
    if (r.before?.hash === r.after?.hash) continue;
    out.push({
      module: r.module,
      key: cellKeyText(r.key),
      before: r.before?.hash ?? null,
      after: r.after?.hash ?? null,
      before_state: stateJson(r.before?.bytes),
      after_state: stateJson(r.after?.bytes),
    });
  }
  return out.sort((a, b) =>
    a.module < b.module ? -1 : a.module > b.module ? 1 : String(a.key) < String(b.key) ? -1 : 1,
  );
}
