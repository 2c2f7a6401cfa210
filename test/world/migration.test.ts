/**
 * @module State migrations (issue 15, item 3): a patch that changes a workflow's state schema
 * names a pure WASM module that rewrites every cell, run in the shadow run first and at apply;
 * replay from genesis and from a snapshot before the apply re-runs it to the same root. The
 * refusals: no migration, a schema changed in place, a migration of the wrong shape, and a
 * migration that fails on a cell (shadow names the cell, apply changes nothing). The modules are
 * the committed modules/assemblyscript/counter-v2 and counter-migrate.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { decodeStored, hashDef, type AnyDef, type CborObject } from "../../air/index.js";
import { buildModule } from "../../kernel/adapters/compile/build.js";
import { generateKeyPair, type KeyPair } from "../../kernel/crypto/keys.js";
import { apply, approve, propose, replayWorld, shadow, type World } from "../../kernel/world/index.js";
import { appliedMigrationsFault } from "../../kernel/world/migration.js";
import { EVENT, expectVerifies, worldWith } from "./fixtures/governed-counter.js";
import {
  COUNTER_V2 as counterV2,
  MIGRATE_COUNTER as migrateOk,
  STATE_V2,
  migrationPatch,
} from "./fixtures/counter-migration.js";

/** modules/assemblyscript/counter-migrate with a trap on the cell keyed `trapOn`: a migration that fails on one cell. */
const TRAPPING_MIGRATION = `
import { Cbor, Ctx, runPure } from "../sdk/index";

function migrate(old: Cbor, ctx: Ctx): Cbor {
  const k = ctx.key;
  if (k !== null && k == "a") unreachable();
  const count = old.get("count")!.asU64();
  return Cbor.map().set("count", Cbor.uint(count)).set("events", Cbor.uint(old.get("events")!.asU64())).set("level", Cbor.uint(count / 100));
}

export function run(): i32 {
  return runPure(migrate);
}
`;

async function asModule(source: string): Promise<Uint8Array> {
  const built = await buildModule({ language: "assemblyscript", source: new TextEncoder().encode(source) });
  if (!built.ok) throw new Error(built.diagnostics.join("\n"));
  return built.wasm;
}

let migrateTrapsOnA: Uint8Array;
beforeAll(async () => {
  migrateTrapsOnA = await asModule(TRAPPING_MIGRATION);
}, 120_000);

async function applied(w: World, a: KeyPair, proposalId: string) {
  await shadow(w, proposalId);
  await approve(w, proposalId, a);
  return apply(w, proposalId);
}

const applyEntry = (w: World) => {
  const e = [...w.store.ruleEntriesSync()].filter((x) => x.kind === "apply").at(-1)!;
  return { seq: e.seq, body: decodeStored(e.body) as CborObject };
};

describe("state migrations", () => {
  it("10,000 cells migrate at apply; replay from genesis and from a snapshot before the apply reproduce the root", async () => {
    const a = generateKeyPair();
    const { w, dir, src } = await worldWith([a]);
    const n = 10_000;
    await w.sendMany(Array.from({ length: n }, (_, i) => ({ schema: EVENT, json: { key: `k${i}`, by: i % 250 } })));
    const snapshotSeq = await w.snapshot(); // before the apply: replay from it must run the migration again
    const cells = n + 2; // plus a and b from worldWith

    const { proposalId } = await propose(
      w,
      migrationPatch(w.catalog.manifestHash, src.mod, { counter: counterV2, migrate: migrateOk }),
      { proposer: generateKeyPair(), wasm: [counterV2, migrateOk] },
    );
    const { report } = await shadow(w, proposalId);
    expect(report.migrations).toEqual([
      { module: "demo/Counter@1", migration: "demo/MigrateCounter@1", cells, fuel: expect.any(Number), failures: 0 },
    ]);
    expect(report.failures).toEqual([]);
    expect(report.cells.length).toBe(cells); // every state changes shape
    await approve(w, proposalId, a);
    const { seq } = await apply(w, proposalId);

    const { body } = applyEntry(w);
    expect(body.migrations).toEqual([
      { module: "demo/Counter@1", migration: "demo/MigrateCounter@1", cells, fuel: report.migrations![0]!.fuel },
    ]);
    expect(body.state_root).toBe(w.stateRefs().state_root);
    expect(w.cellState("demo/Counter@1", "k249")).toEqual({ count: 249, events: 1, level: 2 });
    expect(w.cellState("demo/Counter@1", "a")).toEqual({ count: 6, events: 2, level: 0 });
    await w.send(EVENT, { key: "k249", by: 51 }); // the new counter keeps the new field
    expect(w.cellState("demo/Counter@1", "k249")).toEqual({ count: 300, events: 2, level: 3 });

    const root = w.stateRefs().state_root;
    await expectVerifies(w, dir);
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
    const fromSnapshot = await replayWorld(dir, { fromSnapshot: true });
    expect(fromSnapshot).toMatchObject({ ok: true, state_root: root, snapshot_seq: snapshotSeq });
    expect(fromSnapshot.snapshot_seq!).toBeLessThan(seq);
  }, 300_000);

  it("a patch changing a state schema without a migration is governance.migration_required, saying what to add; nothing is journaled", async () => {
    const a = generateKeyPair();
    const { w, dir, src } = await worldWith([a]);
    const height = w.store.countSync();
    const doc = migrationPatch(
      w.catalog.manifestHash,
      src.mod,
      { counter: counterV2, migrate: migrateOk },
      { migrations: false },
    );
    await expect(propose(w, doc, { wasm: [counterV2, migrateOk] })).rejects.toMatchObject({
      code: "governance.migration_required",
      path: "$.migrations",
      message: expect.stringMatching(
        /demo\/CounterState@1 → demo\/CounterState@2.*"migrations": \[\{"module": "demo\/Counter@1"/,
      ),
    });
    expect(w.store.countSync()).toBe(height);
    await expectVerifies(w, dir);
  }, 60_000);

  it("a schema replaced in place is governance.schema_in_place, naming the operation and the version to add", async () => {
    const { w, dir } = await worldWith([generateKeyPair()]);
    const was = w.catalog.schemas.get("demo/CounterState@1")!.def;
    const doc = {
      base_manifest_hash: w.catalog.manifestHash,
      patches: [
        {
          replace_def: {
            kind: "defschema",
            name: "demo/CounterState@1",
            new_node: { ...STATE_V2, name: "demo/CounterState@1" },
            pre_hash: hashDef(was as AnyDef),
          },
        },
      ],
    };
    await expect(propose(w, doc)).rejects.toMatchObject({
      code: "governance.schema_in_place",
      path: "$.patches[0].replace_def",
      message: expect.stringContaining("add the new shape as demo/CounterState@2"),
    });
    await expectVerifies(w, dir);
  }, 60_000);

  it("a migration of the wrong shape, or of a state that does not change, is governance.bad_migration at its path", async () => {
    const { w, dir, src } = await worldWith([generateKeyPair()]);
    const wasm = { counter: counterV2, migrate: migrateOk };
    await expect(
      propose(w, migrationPatch(w.catalog.manifestHash, src.mod, wasm, { output: "demo/CounterState@1" }), {
        wasm: [counterV2, migrateOk],
      }),
    ).rejects.toMatchObject({
      code: "governance.bad_migration",
      path: "$.migrations[0].migration",
      message: expect.stringContaining("returns demo/CounterState@1, but demo/Counter@1 will hold demo/CounterState@2"),
    });
    const twice = migrationPatch(w.catalog.manifestHash, src.mod, wasm);
    twice.migrations!.push(twice.migrations![0]!);
    await expect(propose(w, twice, { wasm: [counterV2, migrateOk] })).rejects.toMatchObject({
      code: "governance.bad_migration",
      path: "$.migrations[1]",
    });
    await expectVerifies(w, dir);
  }, 60_000);

  it("a migration that traps on a cell: the shadow report names it, approval needs --accept-failures, apply changes nothing", async () => {
    const a = generateKeyPair();
    const { w, dir, src } = await worldWith([a]);
    const { proposalId } = await propose(
      w,
      migrationPatch(w.catalog.manifestHash, src.mod, { counter: counterV2, migrate: migrateTrapsOnA }),
      { proposer: generateKeyPair(), wasm: [counterV2, migrateTrapsOnA] },
    );
    const { report } = await shadow(w, proposalId);
    expect(report.migrations).toMatchObject([{ cells: 1, failures: 1 }]);
    expect(report.failures).toEqual([
      {
        module: "demo/Counter@1",
        key: "a",
        event_seq: expect.any(Number),
        migration: "demo/MigrateCounter@1",
        code: "module.trap",
        message: expect.any(String),
      },
    ]);
    await expect(approve(w, proposalId, a)).rejects.toMatchObject({ code: "governance.failed_shadow" });
    await approve(w, proposalId, a, { acceptFailures: true });
    const height = w.store.countSync();
    const manifest = w.catalog.manifestHash;
    await expect(apply(w, proposalId)).rejects.toMatchObject({
      code: "governance.migration_failed",
      message: expect.stringContaining("demo/Counter@1 a: module.trap"),
    });
    expect(w.store.countSync()).toBe(height);
    expect(w.catalog.manifestHash).toBe(manifest);
    expect(w.cellState("demo/Counter@1", "b")).toEqual({ count: 6, events: 2 });
    await expectVerifies(w, dir);
  }, 60_000);

  it("a counterfactual shadow since genesis re-runs every event under the new counter, and migrates today's cells as the apply will", async () => {
    const a = generateKeyPair();
    const { w, dir, src } = await worldWith([a]);
    const { proposalId } = await propose(
      w,
      migrationPatch(w.catalog.manifestHash, src.mod, { counter: counterV2, migrate: migrateOk }),
      { wasm: [counterV2, migrateOk], proposer: generateKeyPair() },
    );
    const { report } = await shadow(w, proposalId, { since: 0 });
    expect(report.migrations).toMatchObject([{ cells: 2, failures: 0 }]); // today's a and b, not the (no) cells at genesis
    expect(report.counterfactual!.cell_states).toEqual([
      { module: "demo/Counter@1", key: "a", before: { count: 6, events: 2 }, after: { count: 6, events: 2, level: 0 } },
      { module: "demo/Counter@1", key: "b", before: { count: 6, events: 2 }, after: { count: 6, events: 2, level: 0 } },
    ]);
    await applied(w, a, proposalId); // the apply then migrates a and b
    await expectVerifies(w, dir);
  }, 60_000);

  it("a policy's shadow invariant the run breaks is a failure: wk shadow's report names it and approval needs --accept-failures", async () => {
    const a = generateKeyPair();
    const { w, dir, src } = await worldWith([a], 1, { shadow_invariants: ["cells_unchanged", "no_decision_changes"] });
    const { proposalId } = await propose(
      w,
      migrationPatch(w.catalog.manifestHash, src.mod, { counter: counterV2, migrate: migrateOk }),
      { proposer: generateKeyPair(), wasm: [counterV2, migrateOk] },
    );
    const { report } = await shadow(w, proposalId);
    expect(report.decision_changes).toEqual({}); // the counter has no effects: that invariant holds
    expect(report.failures).toEqual([
      {
        module: "demo/gov@1",
        key: null,
        event_seq: expect.any(Number),
        invariant: "cells_unchanged",
        code: "governance.invariant_broken",
        message: "cells_unchanged: 2 cell(s) end differently",
      },
    ]);
    await expect(approve(w, proposalId, a)).rejects.toMatchObject({
      code: "governance.failed_shadow",
      message: expect.stringContaining("(invariant cells_unchanged)"),
    });
    await approve(w, proposalId, a, { acceptFailures: true });
    expect((await apply(w, proposalId)).migrations).toMatchObject([{ cells: 2 }]);
    await expectVerifies(w, dir);
  }, 60_000);

  it("verify holds an apply's recorded migrations to its patch's", () => {
    const named = [{ module: "demo/Counter@1", migration: "demo/MigrateCounter@1" }];
    expect(appliedMigrationsFault(named, [{ ...named[0]!, cells: 3, fuel: 9 }] as never)).toBeNull();
    expect(appliedMigrationsFault(named, undefined)).toMatch(/ran migrations \[none\], its patch names/);
    expect(appliedMigrationsFault([], named)).toMatch(/its patch names \[none\]/);
  });
});
