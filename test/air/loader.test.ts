/**
 * @module The AIR loader: the AgentOS v1 reference defs load and resolve, a world folder
 * loads from disk, and every malformed sample yields typed issues with file and JSON path
 * (never a bare TypeError), all problems at once.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildCatalog, parseDef, parseJsonLossless, type AirIssue } from "../../air/index.js";
import { loadAirDir } from "../../kernel/air-dir.js";

const REF = new URL("../fixtures/agentos-air-v1/defs/", import.meta.url);
const refSources = readdirSync(REF)
  .sort()
  .map((f) => ({
    file: f,
    value: parseJsonLossless(readFileSync(new URL(f, REF), "utf8"), f) as Record<string, unknown>[],
  }));
const names = (sources: typeof refSources, kind: string) =>
  sources.flatMap((s) => s.value.filter((d) => d.$kind === kind).map((d) => ({ name: d.name as string })));
const manifestFor = (sources: typeof refSources) => ({
  $kind: "manifest",
  air_version: "1",
  schemas: names(sources, "defschema"),
  modules: names(sources, "defmodule"),
  effects: names(sources, "defeffect"),
  caps: names(sources, "defcap"),
  policies: [],
});

describe("AgentOS AIR v1 reference defs", () => {
  it("every reference def parses and validates", () => {
    let n = 0;
    for (const s of refSources)
      s.value.forEach((d, i) => {
        const r = parseDef(d, [i], s.file);
        expect(r.ok, JSON.stringify(!r.ok && r.issues)).toBe(true);
        n++;
      });
    expect(n).toBe(203);
  });

  it("the whole bundle resolves, except one genuine conflict the reference itself contains", () => {
    const r = buildCatalog([...refSources, { file: "manifest.air.json", value: manifestFor(refSources) }], {
      builtins: false,
    });
    expect(r.ok).toBe(false);
    const issues = (r as { issues: AirIssue[] }).issues;
    // builtin-schemas.air.json and builtin-schemas-host.air.json define sys/HostCapParams@1 differently.
    expect(issues).toEqual([
      expect.objectContaining({ code: "air.duplicate_name", file: "builtin-schemas.air.json", path: "$[17].name" }),
    ]);
    const fixed = refSources.map((s) =>
      s.file === "builtin-schemas.air.json"
        ? { ...s, value: s.value.filter((d) => d.name !== "sys/HostCapParams@1") }
        : s,
    );
    const ok = buildCatalog([...fixed, { file: "manifest.air.json", value: manifestFor(fixed) }], { builtins: false });
    expect(ok.ok).toBe(true);
    if (ok.ok) {
      expect(ok.catalog.effects.size).toBe(39);
      expect(ok.catalog.manifestHash).toMatch(/^sha256:[0-9a-f]{64}$/);
    }
  });
});

const wasmHash = "sha256:" + "ab".repeat(32);
const good = () => [
  { $kind: "defschema", name: "t/Ev@1", type: { record: { key: { text: {} }, n: { nat: {} } } } },
  { $kind: "defschema", name: "t/St@1", type: { record: { n: { nat: {} } } } },
  {
    $kind: "defmodule",
    name: "t/M@1",
    module_kind: "workflow",
    wasm_hash: wasmHash,
    abi: {
      workflow: { state: "t/St@1", event: "t/Ev@1", effects_emitted: ["http.request"], cap_slots: { net: "http.out" } },
    },
  },
  {
    $kind: "defpolicy",
    name: "t/P@1",
    rules: [{ when: { effect_kind: "http.request", module: "t/M@1" }, decision: "require_approval" }],
  },
  {
    $kind: "manifest",
    air_version: "1",
    schemas: [{ name: "t/Ev@1" }, { name: "t/St@1" }],
    modules: [{ name: "t/M@1" }],
    effects: [{ name: "sys/http.request@1" }],
    caps: [{ name: "sys/http.out@1" }],
    policies: [{ name: "t/P@1" }],
    defaults: {
      policy: "t/P@1",
      cap_grants: [{ name: "web", cap: "sys/http.out@1", params: { hosts: ["b.example", "a.example", "a.example"] } }],
    },
    module_bindings: { "t/M@1": { slots: { net: "web" } } },
    routing: { subscriptions: [{ event: "t/Ev@1", module: "t/M@1", key_field: "key" }] },
  },
];

describe("a valid world", () => {
  it("loads, fills hashes, canonicalizes grant params, and hashes independent of authoring order", () => {
    const r = buildCatalog([{ file: "w.air.json", value: good() }]);
    expect(r.ok, JSON.stringify(!r.ok && r.issues)).toBe(true);
    if (!r.ok) return;
    expect(r.catalog.grants.get("web")!.params).toEqual({
      hosts: ["a.example", "b.example"],
      schemes: null,
      methods: null,
      ports: null,
      path_prefixes: null,
      allow_private: null,
    });
    expect(r.catalog.manifest.schemas.every((s) => s.hash)).toBe(true);
    const reordered = good().reverse();
    const m = reordered[0] as { schemas: unknown[] };
    m.schemas.reverse();
    const r2 = buildCatalog([{ file: "a.air.json", value: reordered }]);
    expect(r2.ok && r2.catalog.manifestHash).toBe(r.catalog.manifestHash);
  });

  it("loads a world folder from disk and reports JSON syntax errors with the file", () => {
    const dir = mkdtempSync(join(tmpdir(), "wk-air-"));
    writeFileSync(join(dir, "world.air.json"), JSON.stringify(good()));
    expect(loadAirDir(dir).ok).toBe(true);
    writeFileSync(join(dir, "broken.air.json"), '{ "$kind": ');
    const r = loadAirDir(dir);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issues[0]).toMatchObject({ code: "air.invalid_json", file: "broken.air.json" });
  });

  it("confines defmodule wasm paths to the project", () => {
    const dir = mkdtempSync(join(tmpdir(), "wk-air-"));
    writeFileSync(join(dir, "package.json"), "{}");
    const defs = good();
    const mod = defs[2] as Record<string, unknown>;
    delete mod.wasm_hash;
    mod.wasm = "../../../etc/passwd";
    writeFileSync(join(dir, "world.air.json"), JSON.stringify(defs));
    const r = loadAirDir(dir);
    expect(!r.ok && r.issues).toContainEqual(expect.objectContaining({ code: "air.io_error", path: "$[2].wasm" }));
  });
});

type Mutate = (defs: Record<string, unknown>[]) => void;
const at = (i: number) => (defs: Record<string, unknown>[]) => defs[i] as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const malformed: [string, Mutate, string, string][] = [
  [
    "unknown $kind",
    (d) => {
      at(0)(d).$kind = "defthing";
    },
    "air.schema_violation",
    "$[0].$kind",
  ],
  [
    "bad name",
    (d) => {
      at(0)(d).name = "NoNamespace";
    },
    "air.schema_violation",
    "$[0].name",
  ],
  [
    "unknown primitive",
    (d) => {
      at(0)(d).type = { record: { key: { strng: {} } } };
    },
    "air.schema_violation",
    "$[0].type.record.key.strng",
  ],
  [
    "bad map key type",
    (d) => {
      at(1)(d).type = { map: { key: { bool: {} }, value: { nat: {} } } };
    },
    "air.schema_violation",
    "$[1].type.map.key",
  ],
  [
    "extra field in def",
    (d) => {
      at(0)(d).colour = "red";
    },
    "air.schema_violation",
    "$[0]",
  ],
  [
    "bad wasm hash",
    (d) => {
      at(2)(d).wasm_hash = "sha256:nothex";
    },
    "air.schema_violation",
    "$[2].wasm_hash",
  ],
  [
    "workflow without abi.workflow",
    (d) => {
      at(2)(d).abi = {};
    },
    "air.schema_violation",
    "$[2].abi.workflow",
  ],
  [
    "unknown ref in type",
    (d) => {
      at(1)(d).type = { record: { n: { ref: "t/Nope@1" } } };
    },
    "air.unknown_ref",
    "$[1].type.record.n.ref",
  ],
  [
    "module state schema missing",
    (d) => {
      at(2)(d).abi.workflow.state = "t/Nope@1";
    },
    "air.unknown_ref",
    "$[2].abi.workflow.state",
  ],
  [
    "effect kind not declared",
    (d) => {
      at(2)(d).abi.workflow.effects_emitted = ["llm.generate"];
    },
    "air.unknown_ref",
    "$[2].abi.workflow.effects_emitted[0]",
  ],
  [
    "bad policy decision",
    (d) => {
      at(3)(d).rules[0].decision = "maybe";
    },
    "air.schema_violation",
    "$[3].rules[0].decision",
  ],
  [
    "policy names unknown module",
    (d) => {
      at(3)(d).rules[0].when.module = "t/Ghost@1";
    },
    "air.unknown_ref",
    "$[3].rules[0].when.module",
  ],
  [
    "threshold above approvers",
    (d) => {
      at(3)(d).threshold = 2;
    },
    "air.out_of_range",
    "$[3].threshold",
  ],
  [
    "manifest air_version",
    (d) => {
      at(4)(d).air_version = "2";
    },
    "air.schema_violation",
    "$[4].air_version",
  ],
  [
    "manifest names unknown schema",
    (d) => {
      at(4)(d).schemas.push({ name: "t/Ghost@1" });
    },
    "air.unknown_ref",
    "$[4].schemas[2].name",
  ],
  [
    "manifest hash does not match",
    (d) => {
      at(4)(d).schemas[0].hash = "sha256:" + "00".repeat(32);
    },
    "air.unknown_ref",
    "$[4].schemas[0].hash",
  ],
  [
    "grant params wrong type",
    (d) => {
      at(4)(d).defaults.cap_grants[0].params = { hosts: "a.example" };
    },
    "air.type_mismatch",
    "$[4].defaults.cap_grants[0].params.hosts",
  ],
  [
    "grant params unknown field",
    (d) => {
      at(4)(d).defaults.cap_grants[0].params = { verbs: [] };
    },
    "air.type_mismatch",
    "$[4].defaults.cap_grants[0].params.verbs",
  ],
  [
    "grant of unknown cap",
    (d) => {
      at(4)(d).defaults.cap_grants[0].cap = "sys/nope@1";
    },
    "air.unknown_ref",
    "$[4].defaults.cap_grants[0].cap",
  ],
  [
    "binding to unknown slot",
    (d) => {
      at(4)(d).module_bindings["t/M@1"].slots = { disk: "web" };
    },
    "air.unknown_ref",
    '$[4].module_bindings["t/M@1"].slots.disk',
  ],
  [
    "binding to unknown grant",
    (d) => {
      at(4)(d).module_bindings["t/M@1"].slots = { net: "ghost" };
    },
    "air.unknown_ref",
    '$[4].module_bindings["t/M@1"].slots.net',
  ],
  [
    "routing to unknown module",
    (d) => {
      at(4)(d).routing.subscriptions[0].module = "t/Ghost@1";
    },
    "air.unknown_ref",
    "$[4].routing.subscriptions[0].module",
  ],
  [
    "key_field not in event",
    (d) => {
      at(4)(d).routing.subscriptions[0].key_field = "missing";
    },
    "air.unknown_ref",
    "$[4].routing.subscriptions[0].key_field",
  ],
  [
    "default policy not listed",
    (d) => {
      at(4)(d).policies = [];
    },
    "air.unknown_ref",
    "$[4].defaults.policy",
  ],
  [
    "redefining a sys def",
    (d) => {
      d.push({ $kind: "defschema", name: "sys/BlobPutParams@1", type: { text: {} } });
    },
    "air.duplicate_name",
    "$[5].name",
  ],
  [
    "duplicate def",
    (d) => {
      d.push({ ...at(0)(d), type: { text: {} } });
    },
    "air.duplicate_name",
    "$[5].name",
  ],
  [
    "def is not an object",
    (d) => {
      d.push(42 as unknown as Record<string, unknown>);
    },
    "air.schema_violation",
    "$[5]",
  ],
];

describe("malformed AIR: typed issues with code and path", () => {
  for (const [label, mutate, code, path] of malformed) {
    it(label, () => {
      const defs = good() as Record<string, unknown>[];
      mutate(defs);
      let r;
      try {
        r = buildCatalog([{ file: "w.air.json", value: defs }]);
      } catch (e) {
        throw new Error(`loader threw instead of reporting: ${(e as Error).stack}`);
      }
      expect(r.ok).toBe(false);
      const issues = (r as { issues: AirIssue[] }).issues;
      expect(issues, JSON.stringify(issues, null, 1)).toContainEqual(
        expect.objectContaining({ code, path, file: "w.air.json" }),
      );
    });
  }

  it("reports every problem at once", () => {
    const defs = good() as Record<string, unknown>[];
    for (const [, mutate] of [malformed[1]!, malformed[13]!]) mutate(defs);
    const r = buildCatalog([{ file: "w.air.json", value: defs }]);
    expect(!r.ok && r.issues.length).toBeGreaterThanOrEqual(2);
  });
});
