/**
 * @module A patch that locks its world gets a warning: `wk propose` and `wk shadow` run the
 * governance check of air/warnings.ts on the catalog the patch would produce, and print
 * `warning: air.no_approvers: …` / `air.threshold_unreachable` on stderr (and a `warnings` array
 * with --json) when it drops the default policy, names no approvers, or needs more approvals
 * than it names keys; the exit code stays 0 and the proposal is journaled as before. Applied,
 * the warning comes true: no further proposal can be approved.
 */
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { patchGovernanceWarnings } from "../../air/warnings.js";
import { buildCatalogOrThrow } from "../../air/loader.js";
import { ROOT, json, ok, wk, type Run } from "./cli-harness.js";

interface Warning {
  code: string;
  message: string;
  path: string;
  file?: string;
}

let dir: string;
let world: string;
let developer: string;
let approver: string;
let approverPub: string;
let policyHash: string;

/** A governed counter world whose policy names `approver`, threshold 1. */
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "wk-lockout-"));
  writeFileSync(join(dir, "package.json"), '{ "name": "scratch", "private": true }\n');
  const wasm = "modules/assemblyscript/counter/counter.wasm";
  mkdirSync(join(dir, wasm, ".."), { recursive: true });
  copyFileSync(join(ROOT, wasm), join(dir, wasm));
  const air = join(dir, "worlds/governed");
  cpSync(join(ROOT, "worlds/governed-counter"), air, { recursive: true });
  developer = join(dir, "developer.key");
  approver = join(dir, "approver.key");
  ok("keys", "new", developer, "--json");
  approverPub = ok<{ public_key: string }>("keys", "new", approver, "--json").public_key;
  const policy = join(air, "policy.air.json");
  writeFileSync(policy, readFileSync(policy, "utf8").replace("0".repeat(64), approverPub));
  policyHash = wk("air", "hash", policy, "--def").stdout.trim();
  world = join(dir, "world");
  const created = json<{ warnings: unknown[] }>(wk("create", air, "--world", world, "--json"));
  expect(created.warnings).toEqual([]);
  ok("send", "demo/CounterEvent@1", '{"key":"alice","by":5}', "--world", world, "--json");
});

const base = () => ok<{ manifest: { hash: string } }>("info", "--world", world, "--json").manifest.hash;

/** Writes a patch against the world's current manifest; returns its file. */
function patchFile(name: string, patches: unknown[]): string {
  const file = join(dir, `${name}.patch.json`);
  writeFileSync(file, JSON.stringify({ base_manifest_hash: base(), description: name, patches }));
  return file;
}

/** A replace_def of the default policy with `fields` over its current ones. */
const replacePolicy = (fields: Record<string, unknown>) => ({
  replace_def: {
    kind: "defpolicy",
    name: "demo/governance@1",
    pre_hash: policyHash,
    new_node: {
      $kind: "defpolicy",
      name: "demo/governance@1",
      rules: [],
      approvers: [{ id: "ops", public_key: approverPub }],
      threshold: 1,
      ...fields,
    },
  },
});

const warningLines = (r: Run) => r.stderr.split("\n").filter((l) => l.startsWith("warning: "));

/** Proposes `file` as text and as --json (two proposals: distinct patches), then shadows the first. */
function proposeBoth(file: string): { id: string; text: Run; json: { proposal_id: string; warnings: Warning[] } } {
  const text = wk("propose", file, "--key", developer, "--world", world);
  expect(text.status, text.stderr).toBe(0);
  const id = text.stdout.trim();
  expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
  // The same patch by another proposer is another proposal: its --json output.
  const other = json<{ proposal_id: string; warnings: Warning[] }>(
    wk("propose", file, "--key", approver, "--world", world, "--json"),
  );
  expect(other.proposal_id).not.toBe(id);
  return { id, text, json: other };
}

describe("wk propose / wk shadow warn about a patch that locks the world", () => {
  it("a patch that drops the default policy: air.no_approvers at $.defaults.policy, naming the policy left behind", () => {
    const file = patchFile("no-default-policy", [{ set_defaults: { policy: null } }]);
    const { id, text, json: j } = proposeBoth(file);
    const lines = warningLines(text);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: air\.no_approvers: after this patch, the manifest names no default policy/);
    expect(lines[0]).toContain("demo/governance@1 names approvers, but governance reads only the default policy");
    expect(lines[0]).toContain("can never be upgraded");
    expect(lines[0]).toMatch(/\(at \$\.defaults\.policy\)$/);
    expect(j.warnings).toMatchObject([{ code: "air.no_approvers", path: "$.defaults.policy" }]);
    expect(j.warnings[0]!.message).toMatch(/^after this patch, /);
    expect(j.warnings[0]!.file).toBeUndefined();

    // Shadow says it again (text: stderr; --json: `warnings`), and its report is unchanged by it.
    const shadow = wk("shadow", id, "--world", world);
    expect(shadow.status, shadow.stderr).toBe(0);
    expect(shadow.stdout).toContain(`shadow of ${id}: 1 event(s) re-run under the proposal since seq 0`);
    expect(warningLines(shadow)).toEqual(lines);
    const sj = json<{ warnings: Warning[]; proposal_id: string; cells: unknown[] }>(
      wk("shadow", id, "--world", world, "--json"),
    );
    expect(sj.proposal_id).toBe(id);
    expect(sj.warnings.map((w) => w.code)).toEqual(["air.no_approvers"]);
  });

  it("a policy that names no approvers: air.no_approvers at the policy's $.approvers", () => {
    const { text, json: j } = proposeBoth(
      patchFile("no-approvers", [replacePolicy({ approvers: [], threshold: undefined })]),
    );
    expect(warningLines(text)).toEqual([
      expect.stringMatching(
        /^warning: air\.no_approvers: after this patch, the default policy demo\/governance@1 names no approvers: .*\(at \$\.approvers\)$/,
      ),
    ]);
    expect(j.warnings).toMatchObject([{ code: "air.no_approvers", path: "$.approvers" }]);
    // No approvers field at all is the same lockout.
    const op = replacePolicy({});
    const absent = patchFile("approvers-absent", [
      { replace_def: { ...op.replace_def, new_node: { $kind: "defpolicy", name: "demo/governance@1", rules: [] } } },
    ]);
    expect(
      json<{ warnings: Warning[] }>(wk("propose", absent, "--key", developer, "--world", world, "--json")).warnings,
    ).toMatchObject([{ code: "air.no_approvers" }]);
  });

  it("a threshold above the distinct approver keys: air.threshold_unreachable", () => {
    const twice = [
      { id: "ops", public_key: approverPub },
      { id: "ops-again", public_key: approverPub },
    ];
    const { text, json: j } = proposeBoth(patchFile("threshold", [replacePolicy({ approvers: twice, threshold: 2 })]));
    expect(warningLines(text)).toEqual([
      expect.stringMatching(
        /^warning: air\.threshold_unreachable: after this patch, the default policy demo\/governance@1 needs 2 approvals but names 1 distinct approver key\(s\)/,
      ),
    ]);
    expect(j.warnings).toMatchObject([{ code: "air.threshold_unreachable", path: "$.threshold" }]);
  });

  it("a patch that keeps an approver warns about nothing", () => {
    const two = [
      { id: "ops", public_key: approverPub },
      { id: "audit", public_key: "b".repeat(64) },
    ];
    const keeps = patchFile("keeps", [replacePolicy({ approvers: two, threshold: 2 })]);
    const { id, text, json: j } = proposeBoth(keeps);
    expect(text.stderr).toBe("");
    expect(j.warnings).toEqual([]);
    const shadow = wk("shadow", id, "--world", world);
    expect(shadow.status, shadow.stderr).toBe(0);
    expect(shadow.stderr).toBe("");
    expect(json<{ warnings: Warning[] }>(wk("shadow", id, "--world", world, "--json")).warnings).toEqual([]);
  });

  it("the warning comes true: once such a patch is applied, no proposal can be approved", () => {
    const proposed = wk(
      "propose",
      patchFile("lockout", [{ set_defaults: { policy: null } }]),
      "--key",
      developer,
      "--world",
      world,
    );
    expect(proposed.status, proposed.stderr).toBe(0);
    expect(warningLines(proposed)).toHaveLength(1);
    const id = proposed.stdout.trim();
    ok("shadow", id, "--world", world, "--json");
    ok("approve", id, "--key", approver, "--world", world, "--json");
    ok("apply", id, "--world", world, "--json");
    // The next proposal (any patch) can be filed and shadowed, but never approved.
    const next = wk(
      "propose",
      patchFile("after", [{ set_defaults: { policy: "demo/governance@1" } }]),
      "--key",
      developer,
      "--world",
      world,
    );
    expect(next.status, next.stderr).toBe(0);
    expect(warningLines(next)).toEqual([]); // this one would restore approvers…
    const nextId = next.stdout.trim();
    ok("shadow", nextId, "--world", world, "--json");
    const refused = wk("approve", nextId, "--key", approver, "--world", world);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain("names no approvers"); // …but no one can approve it
  });
});

describe("patchGovernanceWarnings (pure)", () => {
  it("is governanceWarnings said of a patch, located in the def rather than a file", () => {
    const catalog = buildCatalogOrThrow([
      {
        file: "<patch>",
        value: [
          { $kind: "defpolicy", name: "demo/p@1", rules: [], approvers: [] },
          {
            $kind: "manifest",
            air_version: "1",
            schemas: [],
            modules: [],
            effects: [],
            caps: [],
            policies: [{ name: "demo/p@1" }],
            defaults: { policy: "demo/p@1" },
          },
        ],
      },
    ]);
    const ws = patchGovernanceWarnings(catalog);
    expect(ws).toMatchObject([{ code: "air.no_approvers", path: "$.approvers" }]);
    expect(ws[0]!.message).toMatch(/^after this patch, the default policy demo\/p@1 names no approvers/);
    expect(Object.keys(ws[0]!).sort()).toEqual(["code", "message", "path"]);
  });
});
