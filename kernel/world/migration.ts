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
import { isCborObject, type CborValue } from "../../air/cbor/value.js";
import type { AirCatalog } from "../../air/loader.js";
import { z } from "zod";
import { MigrationSchema, type Migration, type PatchDocument } from "../../air/schemas/patch.js";
import { hashDef } from "../../air/defs.js";
import type { AnyDef } from "../../air/schemas/defs.js";
import type { CellStore } from "../core/cells.js";
import { KernelError } from "../core/errors.js";
import { commitMigrations, migrate, stateSchemaOf, type MigrationOutcome } from "../transition/migrate.js";
import type { ModuleHost } from "./modules.js";
import { callModule, drive } from "./processor.js";

export type { MigrationFailure, MigrationOutcome, MigrationRun } from "../transition/migrate.js";
export { commitMigrations, runsBody } from "../transition/migrate.js";

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
 * new state without setting any: the transition's own migration run (kernel/transition/migrate.ts),
 * answered by `modules`. `proposalId` is the migration's only context.
 */
export async function runMigrations(
  cells: Pick<CellStore, "listModule">,
  modules: ModuleHost,
  from: AirCatalog,
  next: AirCatalog,
  migrations: readonly Migration[],
  proposalId: string,
): Promise<MigrationOutcome> {
  return drive(migrate(cells, from, next, migrations, proposalId), (r) => {
    if (r.kind === "call") return callModule(modules, r);
    throw new KernelError("kernel.internal", "a state migration asked to sign a gate denial");
  });
}

/** A copy of `cells` with every migrated state of `outcome` set (the original is left as it was). */
export function migratedCells(cells: Pick<CellStore, "clone">, outcome: MigrationOutcome): CellStore {
  const out = cells.clone();
  commitMigrations(out, outcome);
  return out;
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
