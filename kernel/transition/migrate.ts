/**
 * @module Running state migrations (issue 15) as part of the transition: each cell of a
 * workflow whose state schema changes is rewritten by a pure module, every new state computed
 * before any is set, so an apply with one failing cell changes nothing. A migration is a
 * function of the old state alone: its ctx carries the proposal id (as `event_hash`), the new
 * manifest hash, module and key, and zero clock, height and entropy — so the shadow run, the
 * apply and every replay see identical inputs. The module calls are requests the shell answers.
 */
import { CborRaw } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import type { HashText } from "../../air/hash.js";
import type { Migration } from "../../air/schemas/patch.js";
import { cellKeyText, type CellKey, type CellStore } from "../core/cells.js";
import { parsePureOutput, pureInput } from "../core/envelope.js";
import type { CallResult, Transition } from "./requests.js";

/** What one migration did: the workflow, the migration module, how many cells it rewrote and the fuel it used. */
export type MigrationRun = {
  module: string;
  migration: string;
  cells: number;
  fuel: number;
};

/** A cell a migration could not rewrite. */
export interface MigrationFailure {
  module: string;
  migration: string;
  key: string | null;
  code: string;
  message: string;
}

/** The outcome of running a patch's migrations over a state: nothing is set until it is committed. */
export interface MigrationOutcome {
  runs: MigrationRun[];
  failures: MigrationFailure[];
  updates: { module: string; key: CellKey; bytes: Uint8Array; hash: HashText }[];
}

const ZERO32 = new Uint8Array(32);

/** The state schema a workflow has under `catalog` (name and hash), or undefined for a module that is not a workflow there. */
export function stateSchemaOf(catalog: AirCatalog, module: string): { name: string; hash: string } | undefined {
  const name = catalog.modules.get(module)?.def.abi.workflow?.state;
  const s = name === undefined ? undefined : catalog.schemas.get(name);
  return name === undefined || s === undefined ? undefined : { name, hash: s.schemaHash };
}

/**
 * Runs `migrations` over the cells of `cells` (held under `from`), under `next`, computing every
 * new state without setting any. `proposalId` is the migration's only context.
 */
export function* migrate(
  cells: Pick<CellStore, "listModule">,
  from: AirCatalog,
  next: AirCatalog,
  migrations: readonly Migration[],
  proposalId: string,
): Transition<MigrationOutcome> {
  const out: MigrationOutcome = { runs: [], failures: [], updates: [] };
  for (const m of migrations) {
    const run: MigrationRun = { module: m.module, migration: m.migration, cells: 0, fuel: 0 };
    out.runs.push(run);
    const fail = (key: CellKey, code: string, message: string) =>
      out.failures.push({ module: m.module, migration: m.migration, key: cellKeyText(key), code, message });
    const def = next.modules.get(m.migration)!.def;
    const targets = cells.listModule(m.module);
    // The cells must hold what the migration takes (a counterfactual run may fork under other definitions).
    const held = stateSchemaOf(from, m.module);
    const takes = next.schemas.get(def.abi.pure!.input)?.schemaHash;
    if (held?.hash !== takes) {
      for (const c of targets)
        fail(
          c.key,
          "governance.bad_migration",
          `the cell holds ${held?.name ?? "no state schema"}, the migration takes ${def.abi.pure!.input}`,
        );
      continue;
    }
    for (const c of targets) {
      if (c.bytes.length === 0) {
        fail(
          c.key,
          "kernel.state_erased",
          `the state of ${m.module} ${String(cellKeyText(c.key))} (${c.hash}) was erased, so it cannot be migrated`,
        );
        continue;
      }
      // A module that will not load fails every cell with the same code and no fuel, as a failed call does.
      const res = (yield {
        kind: "call",
        catalog: next,
        module: m.migration,
        input: pureInput(new CborRaw(c.bytes.subarray(3)), {
          now_ns: 0,
          logical_now: 0,
          journal_height: 0,
          entropy: ZERO32,
          event_hash: proposalId as HashText,
          manifest_hash: next.manifestHash,
          module: m.module,
          key: c.key,
        }),
      }) as CallResult;
      run.fuel += res.fuelUsed;
      if (!res.ok) {
        fail(c.key, res.error.code, res.error.message);
        continue;
      }
      const parsed = parsePureOutput(res.output, next, def.abi.pure!.output);
      if (!parsed.ok) {
        fail(c.key, parsed.code, parsed.message);
        continue;
      }
      run.cells++;
      out.updates.push({ module: m.module, key: c.key, bytes: parsed.bytes, hash: parsed.hash });
    }
  }
  return out;
}

/** Sets every migrated state of `outcome` in `cells`. */
export function commitMigrations(cells: CellStore, outcome: MigrationOutcome): void {
  for (const u of outcome.updates) cells.set(u.module, u.key, u.bytes, u.hash);
}

/** The migration runs as an apply entry records them (fresh copies, nothing else). */
export function runsBody(runs: readonly MigrationRun[]): MigrationRun[] {
  return runs.map((r) => ({ module: r.module, migration: r.migration, cells: r.cells, fuel: r.fuel }));
}
