/**
 * @module The patch diff (air/patch-diff.ts): for several edits of worlds/governed-counter, the
 * computed patch is a valid patch document written with the schema's operations, and compiling
 * it against the current defs yields exactly the edited defs' manifest hash — both ways (the
 * reverse diff is the revert).
 */
import { describe, expect, it } from "vitest";
import {
  blockHash,
  buildCatalogOrThrow,
  compilePatch,
  diffCatalogs,
  diffDefs,
  hashDef,
  PatchDocumentSchema,
  type AirCatalog,
  type AnyDef,
  type Manifest,
  type PatchDocument,
} from "../../air/index.js";
import { loadAirDir } from "../../kernel/air-dir.js";

const base = (() => {
  const r = loadAirDir(new URL("../../worlds/governed-counter/", import.meta.url).pathname);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.catalog;
})();

const H = (c: string) => `sha256:${c.repeat(64)}`;

/** The base defs with `edit` applied to a copy (manifest refs without hashes: the loader fills them). */
function edited(edit: (defs: AnyDef[], m: Manifest) => AnyDef[] | void): AirCatalog {
  const defs = structuredClone(base.sources);
  const m = defs.find((d) => d.$kind === "manifest") as Manifest;
  for (const k of ["schemas", "modules", "effects", "caps", "policies"] as const)
    m[k] = m[k].map((r) => ({ name: r.name }));
  const out = edit(defs, m) ?? defs;
  return buildCatalogOrThrow([{ file: "<edited>", value: out }]);
}

/** Diffs, checks the patch's shape, compiles it and holds the result to `to` (or to what `emptied` says it yields). */
function roundTrip(from: AirCatalog, to: AirCatalog, emptied: string[] = []): PatchDocument {
  const { doc, manifestHash, emptied: e } = diffCatalogs(from, to);
  expect(e).toEqual(emptied);
  if (!emptied.length) expect(manifestHash).toBe(to.manifestHash);
  expect(PatchDocumentSchema.safeParse(JSON.parse(JSON.stringify(doc))).success).toBe(true);
  expect(doc.base_manifest_hash).toBe(from.manifestHash);
  const compiled = compilePatch(from.sources, doc);
  expect(compiled.ok, JSON.stringify(!compiled.ok && compiled.issues)).toBe(true);
  if (!compiled.ok) throw new Error("unreachable");
  const got = buildCatalogOrThrow([{ file: "<patched>", value: compiled.defs }]);
  expect(got.manifestHash).toBe(manifestHash);
  if (emptied.length) expect(got.manifestHash).not.toBe(to.manifestHash);
  return doc;
}

const ops = (doc: PatchDocument) => doc.patches.map((p) => Object.keys(p)[0]);

const ALARM = "an added schema, module and route, with a built-in effect, cap, grant and binding";
const EDITS: Record<string, () => AirCatalog> = {
  "a replaced module": () =>
    edited((defs) => {
      const mod = defs.find((d) => d.$kind === "defmodule")!;
      Object.assign(mod, { wasm_hash: H("c"), limits: { fuel_per_step: 5_000_000, memory_pages: 32 } });
    }),
  [ALARM]: () =>
    edited((defs, m) => {
      defs.unshift(
        { $kind: "defschema", name: "demo/SetAlarm@1", type: { record: { key: { text: {} }, at_ns: { nat: {} } } } },
        { $kind: "defschema", name: "demo/AlarmState@1", type: { record: { set: { nat: {} }, fired: { nat: {} } } } },
        {
          $kind: "defmodule",
          name: "demo/Alarm@1",
          module_kind: "workflow",
          wasm_hash: H("a"),
          abi: {
            workflow: {
              state: "demo/AlarmState@1",
              event: "demo/SetAlarm@1",
              effects_emitted: ["timer.set"],
              cap_slots: { clock: "timer" },
            },
          },
        } as AnyDef,
      );
      m.schemas.push({ name: "demo/SetAlarm@1" }, { name: "demo/AlarmState@1" });
      m.modules.push({ name: "demo/Alarm@1" });
      m.effects.push({ name: "sys/timer.set@1" });
      m.caps.push({ name: "sys/timer@1" });
      m.defaults = { ...m.defaults, cap_grants: [{ name: "clock", cap: "sys/timer@1", params: {} }] };
      m.module_bindings = { "demo/Alarm@1": { slots: { clock: "clock" } } };
      m.routing!.subscriptions!.push({ event: "demo/SetAlarm@1", module: "demo/Alarm@1", key_field: "key" });
      const policy = defs.find((d) => d.$kind === "defpolicy")!;
      Object.assign(policy, {
        rules: [{ when: { effect_kind: "timer.set", module: "demo/Alarm@1" }, decision: "allow" }],
      });
    }),
  "a removed def": () =>
    edited((defs, m) => {
      m.schemas = m.schemas.filter((r) => r.name !== "demo/CounterMilestone@1");
      return defs.filter((d) => !(d.$kind === "defschema" && d.name === "demo/CounterMilestone@1"));
    }),
  "a changed policy": () =>
    edited((defs) => {
      const policy = defs.find((d) => d.$kind === "defpolicy")!;
      Object.assign(policy, {
        approvers: [
          { id: "ops", public_key: "1".repeat(64) },
          { id: "audit", public_key: "2".repeat(64) },
        ],
        threshold: 2,
      });
    }),
  "a new default policy, the old one removed": () =>
    edited((defs, m) => {
      const policy = defs.find((d) => d.$kind === "defpolicy")!;
      Object.assign(policy, { name: "demo/governance@2" });
      m.policies = [{ name: "demo/governance@2" }];
      m.defaults = { policy: "demo/governance@2" };
    }),
};

describe("diffCatalogs: compilePatch(current, diff(current, next)) is next", () => {
  for (const [name, make] of Object.entries(EDITS)) {
    it(`${name}, and back`, () => {
      const next = make();
      expect(next.manifestHash).not.toBe(base.manifestHash);
      roundTrip(base, next);
      // Back from the alarm: no operation removes module_bindings or cap_grants; they are emptied.
      roundTrip(next, base, name === ALARM ? ["defaults", "module_bindings"] : []);
    });
  }

  it("writes the schema's operations with every pre_hash filled in", () => {
    const doc = roundTrip(base, EDITS["a replaced module"]!());
    expect(ops(doc)).toEqual(["replace_def"]);
    const mod = base.sources.find((d) => d.$kind === "defmodule")!;
    expect(doc.patches[0]).toMatchObject({
      replace_def: { kind: "defmodule", name: "demo/Counter@1", pre_hash: hashDef(mod) },
    });

    const add = roundTrip(base, EDITS[ALARM]!());
    expect(ops(add)).toEqual([
      "add_def",
      "add_def",
      "add_def",
      "replace_def",
      "set_manifest_refs",
      "set_defaults",
      "set_routing_events",
      "set_module_bindings",
    ]);
    expect(add.patches).toContainEqual({
      set_module_bindings: { pre_hash: blockHash(null), bindings: { "demo/Alarm@1": { slots: { clock: "clock" } } } },
    });
    expect(add.patches).toContainEqual({
      set_defaults: { cap_grants: [{ name: "clock", cap: "sys/timer@1", params: {} }] },
    });
    const refs = add.patches.find((p) => "set_manifest_refs" in p) as {
      set_manifest_refs: { add: { name: string }[] };
    };
    // The built-ins are listed, with the schemas they use (the canonical manifest lists those too).
    expect(refs.set_manifest_refs.add.map((r) => r.name)).toEqual([
      "sys/EmptyCapParams@1",
      "sys/TimerSetParams@1",
      "sys/TimerSetReceipt@1",
      "sys/timer.set@1",
      "sys/timer@1",
    ]);
    const back = roundTrip(EDITS[ALARM]!(), base, ["defaults", "module_bindings"]);
    expect(back.patches).toContainEqual({ set_module_bindings: { pre_hash: expect.any(String), bindings: {} } });
    expect(back.patches.find((p) => "set_manifest_refs" in p)).toMatchObject({
      set_manifest_refs: { remove: expect.arrayContaining([{ kind: "defeffect", name: "sys/timer.set@1" }]) },
    });

    const removed = roundTrip(base, EDITS["a removed def"]!());
    expect(ops(removed)).toEqual(["remove_def"]);
    const swapped = roundTrip(base, EDITS["a new default policy, the old one removed"]!());
    expect(ops(swapped)).toEqual(["remove_def", "add_def", "set_defaults"]);
    expect(swapped.patches[2]).toEqual({ set_defaults: { policy: "demo/governance@2" } });
  });

  it("an edit of several kinds at once round-trips", () => {
    const next = edited((defs, m) => {
      const policy = defs.find((d) => d.$kind === "defpolicy")!;
      Object.assign(policy, { threshold: 1, approvers: [{ id: "x", public_key: "3".repeat(64) }] });
      Object.assign(
        defs.find((d) => d.$kind === "defmodule")!,
        { wasm_hash: H("d") },
      );
      m.schemas = m.schemas.filter((r) => r.name !== "demo/CounterMilestone@1");
      return defs.filter((d) => !(d.$kind === "defschema" && d.name === "demo/CounterMilestone@1"));
    });
    expect(ops(roundTrip(base, next))).toEqual(["remove_def", "replace_def", "replace_def"]);
  });

  it("no difference is an empty patch list", () => {
    const { doc, added, replaced, removed, blocks } = diffCatalogs(base, base);
    expect(doc.patches).toEqual([]);
    expect([added, replaced, removed, blocks]).toEqual([[], [], [], []]);
  });

  it("diffDefs takes bare def sets and keeps a description", () => {
    const next = EDITS["a changed policy"]!();
    const { doc } = diffDefs(base.sources, next.sources, { description: "rotate approvers" });
    expect(doc).toMatchObject({ version: "1", base_manifest_hash: base.manifestHash, description: "rotate approvers" });
    expect(ops(doc)).toEqual(["replace_def"]);
  });

  it("a block removed outright is emptied; what no operation expresses is refused", () => {
    const bound = edited((_defs, m) => {
      m.effect_bindings = [];
    });
    expect(() => diffCatalogs(base, bound)).toThrow(
      expect.objectContaining({ code: "air.patch_inexpressible", message: expect.stringContaining("effect_bindings") }),
    );
    const unrouted = edited((_defs, m) => {
      delete m.routing;
    });
    roundTrip(base, unrouted, ["routing"]);
  });
});
