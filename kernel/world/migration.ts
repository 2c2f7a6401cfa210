/**
 * @module State migrations (issue 15): a patch that changes a workflow's state schema names a
 * pure module (`abi.pure` from the old state schema to the new one) that rewrites every cell of
 * that workflow. The same code runs them in the shadow run, at apply and in replay, so replay
 * reproduces migrated states. A migration is a function of the old state alone: its ctx carries
 * the proposal id (as `event_hash`), the new manifest hash, module and key, and zero clock,
 * height and entropy — so the shadow run, the apply and every replay see identical inputs. It is
 * fuel-metered by the migration module's own limits. A run computes every new state before any
 * is set: an apply with one failing cell changes nothing.
 */
import { CborRaw, isCborObject, type CborObject, type CborValue } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import type { HashText } from "../../air/hash.js";
import { z } from "zod";
import { MigrationSchema, type Migration, type PatchDocument } from "../../air/schemas/patch.js";
import { hashDef } from "../../air/defs.js";
import type { AnyDef } from "../../air/schemas/defs.js";
import { cellKeyText, type CellKey, type CellStore } from "../core/cells.js";
import { parsePureOutput, pureInput } from "../core/envelope.js";
import { KernelError } from "../core/errors.js";
import type { ModuleHost } from "./modules.js";

/** What one migration did: the workflow, the migration module, how many cells it rewrote and the fuel it used. */
export interface MigrationRun {
  module: string;
  migration: string;
  cells: number;
  fuel: number;
}

/** A cell a migration could not rewrite. */
export interface MigrationFailure {
  module: string;
  migration: string;
  key: string | null;
  code: string;
  message: string;
}

/** The outcome of running a patch's migrations over a state: nothing is set until `commitMigrations`. */
export interface MigrationOutcome {
  runs: MigrationRun[];
  failures: MigrationFailure[];
  updates: { module: string; key: CellKey; bytes: Uint8Array; hash: HashText }[];
}

const ZERO32 = new Uint8Array(32);

/** The state schema a workflow has under `catalog` (name and hash), or undefined for a module that is not a workflow there. */
function stateSchemaOf(catalog: AirCatalog, module: string): { name: string; hash: string } | undefined {
  const name = catalog.modules.get(module)?.def.abi.workflow?.state;
  const s = name === undefined ? undefined : catalog.schemas.get(name);
  return name === undefined || s === undefined ? undefined : { name, hash: s.schemaHash };
}

/**
 * Why a patch's migrations do not fit the change from `current` to `next`; throws a typed error
 * naming the place (`$.migrations[i]…`) and what to do. Every workflow whose state schema changes
 * needs exactly one migration; each names a pure module of `next` from the old state schema to the new.
 */
export function checkMigrations(current: AirCatalog, next: AirCatalog, migrations: readonly Migration[]): void {
  const named = new Map<string, number>();
  migrations.forEach((m, i) => {
    const at = `$.migrations[${i}]`;
    const bad = (message: string, path: string): never => {
      throw new KernelError("governance.bad_migration", `${path}: ${message}`, { path, module: m.module });
    };
    if (named.has(m.module)) bad(`${m.module} is migrated twice (also at $.migrations[${named.get(m.module)}])`, at);
    named.set(m.module, i);
    const before = stateSchemaOf(current, m.module);
    const after = stateSchemaOf(next, m.module);
    if (before === undefined || after === undefined)
      bad(`${m.module} is not a workflow in both the current and the patched manifest`, `${at}.module`);
    if (before!.hash === after!.hash)
      bad(
        `the state schema of ${m.module} does not change (${before!.name}), so it needs no migration`,
        `${at}.module`,
      );
    const def = next.modules.get(m.migration)?.def;
    if (def === undefined)
      bad(`no module ${m.migration} in the patched manifest (add it with add_def)`, `${at}.migration`);
    if (def!.module_kind !== "pure" || def!.abi.pure === undefined)
      bad(`${m.migration} must be a pure module (module_kind "pure", abi.pure)`, `${at}.migration`);
    const input = next.schemas.get(def!.abi.pure!.input)?.schemaHash;
    const output = next.schemas.get(def!.abi.pure!.output)?.schemaHash;
    if (input !== before!.hash)
      bad(
        `${m.migration} takes ${def!.abi.pure!.input}, but the cells of ${m.module} hold ${before!.name}`,
        `${at}.migration`,
      );
    if (output !== after!.hash)
      bad(
        `${m.migration} returns ${def!.abi.pure!.output}, but ${m.module} will hold ${after!.name}`,
        `${at}.migration`,
      );
  });
  for (const [name] of current.modules) {
    const before = stateSchemaOf(current, name);
    const after = stateSchemaOf(next, name);
    if (before === undefined || after === undefined || before.hash === after.hash || named.has(name)) continue;
    throw new KernelError(
      "governance.migration_required",
      `${name}: its state schema changes (${before.name} → ${after.name}), so its cells need a migration: add a pure module from ${before.name} to ${after.name} (add_def, "module_kind": "pure", "abi": {"pure": {"input": "${before.name}", "output": "${after.name}"}}) and name it in the patch's "migrations": [{"module": "${name}", "migration": "<that module>"}]`,
      { module: name, path: "$.migrations" },
    );
  }
}

/**
 * Schemas are immutable once defined: a patch that replaces one in place (same name, another
 * shape) is refused, naming its operation and what to do instead (a new version, and a migration
 * for a workflow's state). Checked on the patched defs, before they are resolved, so the refusal
 * is this one and not whatever the changed shape breaks downstream.
 */
export function checkSchemasInPlace(current: AirCatalog, defs: readonly AnyDef[], patch: PatchDocument): void {
  for (const d of defs) {
    if (d.$kind !== "defschema") continue;
    const was = current.schemas.get(d.name);
    if (was === undefined || was.hash === hashDef(d)) continue;
    const i = patch.patches.findIndex((op) => "replace_def" in op && op.replace_def.name === d.name);
    const path = i < 0 ? "$.patches" : `$.patches[${i}].replace_def`;
    const bumped = /@\d+$/.test(d.name)
      ? d.name.replace(/@(\d+)$/, (_, v: string) => `@${Number(v) + 1}`)
      : `${d.name}@2`;
    throw new KernelError(
      "governance.schema_in_place",
      `${path}: schema ${d.name} would change in place, and a schema is immutable once defined: add the new shape as ${bumped}, point the modules at it, and for a workflow's state name a migration from ${d.name} (see docs/governance.md, "State migrations")`,
      { path, schema: d.name },
    );
  }
}

/**
 * Runs `migrations` over the cells of `cells` (held under `from`), under `next`, computing every
 * new state without setting any. `proposalId` is the migration's only context.
 */
export async function runMigrations(
  cells: CellStore,
  modules: ModuleHost,
  from: AirCatalog,
  next: AirCatalog,
  migrations: readonly Migration[],
  proposalId: string,
): Promise<MigrationOutcome> {
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
    let loaded;
    try {
      loaded = await modules.get(next, m.migration);
    } catch (e) {
      const err = e as { code?: string; message: string };
      for (const c of targets) fail(c.key, err.code ?? "module.load_failed", err.message);
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
      const res = await loaded.call(
        pureInput(new CborRaw(c.bytes.subarray(3)), {
          now_ns: 0,
          logical_now: 0,
          journal_height: 0,
          entropy: ZERO32,
          event_hash: proposalId as HashText,
          manifest_hash: next.manifestHash,
          module: m.module,
          key: c.key,
        }),
      );
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

/** A copy of `cells` with every migrated state of `outcome` set (the original is left as it was). */
export function migratedCells(cells: CellStore, outcome: MigrationOutcome): CellStore {
  const out = cells.clone();
  commitMigrations(out, outcome);
  return out;
}

/** Sets every migrated state computed by `runMigrations`. */
export function commitMigrations(cells: CellStore, outcome: MigrationOutcome): void {
  for (const u of outcome.updates) cells.set(u.module, u.key, u.bytes, u.hash);
}

/** The migration runs as an apply entry records them (CBOR). */
export function runsBody(runs: readonly MigrationRun[]): CborObject[] {
  return runs.map((r) => ({ module: r.module, migration: r.migration, cells: r.cells, fuel: r.fuel }));
}

/** The migrations a stored patch document names ([] when none); null when its `migrations` field is malformed. */
export function migrationsInPatch(doc: CborValue): Migration[] | null {
  const list = isCborObject(doc) ? doc.migrations : undefined;
  if (list === undefined) return [];
  const parsed = z.array(MigrationSchema).safeParse(list);
  return parsed.success ? parsed.data : null;
}

/** Why an apply's recorded migrations are not the ones its patch names; null when they are. */
export function appliedMigrationsFault(
  patch: readonly Migration[],
  applied: readonly { module: string; migration: string }[] | undefined,
): string | null {
  const text = (l: readonly { module: string; migration: string }[]) =>
    l.map((m) => `${m.module} ← ${m.migration}`).join(", ") || "none";
  const ran = applied ?? [];
  const same =
    ran.length === patch.length &&
    ran.every((m, i) => m.module === patch[i]!.module && m.migration === patch[i]!.migration);
  return same ? null : `the apply ran migrations [${text(ran)}], its patch names [${text(patch)}]`;
}
