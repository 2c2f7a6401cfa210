/**
 * @module `wk propose --from-air DIR` and `wk revert <apply-seq>` on a real world: an edited copy
 * of worlds/governed-counter (the C counter, a new schema, a second approver) is proposed as
 * the diff of the folder, shadowed, approved and applied; reverting that apply goes through the
 * same four steps and brings the manifest hash back to the original, and the journal verifies
 * and replays. The refusals have their typed codes.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { json, ok, wk } from "./cli-harness.js";
import { governedProject, type GovernedProject } from "./governed-project.js";

type Setup = GovernedProject;

/** A project folder with the governed counter naming a fresh approver, a world made from it, two events. */
const setup = (): Setup => governedProject("wk-revert-");

/** An edited copy of the folder: the C counter, a new (unused) schema, the policy with a second approver. */
function editedCopy(s: Setup): string {
  const dir = join(s.base, "worlds/gc-edited");
  cpSync(s.air, dir, { recursive: true });
  const mod = join(dir, "counter.air.json");
  writeFileSync(
    mod,
    readFileSync(mod, "utf8").replace(
      "../../modules/assemblyscript/counter/counter.wasm",
      "../../modules/c/counter/counter.wasm",
    ),
  );
  const schemas = JSON.parse(readFileSync(join(dir, "schemas.air.json"), "utf8")) as unknown[];
  schemas.push({ $kind: "defschema", name: "demo/Note@1", type: { record: { text: { text: {} } } } });
  writeFileSync(join(dir, "schemas.air.json"), JSON.stringify(schemas, null, 2));
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.air.json"), "utf8")) as { schemas: { name: string }[] };
  manifest.schemas.push({ name: "demo/Note@1" });
  writeFileSync(join(dir, "manifest.air.json"), JSON.stringify(manifest, null, 2));
  const policy = JSON.parse(readFileSync(join(dir, "policy.air.json"), "utf8")) as {
    approvers: { id: string; public_key: string }[];
  };
  policy.approvers.push({ id: "audit", public_key: "ab".repeat(32) });
  writeFileSync(join(dir, "policy.air.json"), JSON.stringify(policy, null, 2));
  return dir;
}

/** shadow → approve → apply; returns the apply's seq and manifest hash. */
function pushThrough(s: Setup, id: string): { seq: number; manifest_hash: string } {
  const sh = ok<{ failures: unknown[] }>("shadow", id, "--world", s.world, "--json");
  expect(sh.failures).toEqual([]);
  ok("approve", id, "--key", s.approver, "--world", s.world, "--json");
  return ok<{ seq: number; manifest_hash: string }>("apply", id, "--world", s.world, "--json");
}

type Proposal = {
  proposal_id: string;
  new_manifest_hash: string;
  description: string;
  patch: { base_manifest_hash: string; patches: Record<string, unknown>[] };
};

describe("wk propose --from-air, wk revert", () => {
  let s: Setup;
  let edited: string;
  let editedHash: string;
  let applySeq: number;
  let revertSeq: number;
  let redoId: string;
  beforeAll(() => {
    s = setup();
    edited = editedCopy(s);
    editedHash = ok<{ manifest_hash: string }>("air", "check", edited, "--json").manifest_hash;
  });

  it("--print computes the patch without proposing; the folder is the world's: governance.no_change", () => {
    const before = ok<{ head: unknown }>("info", "--world", s.world, "--json").head;
    const r = wk("propose", "--from-air", edited, "--print", "--world", s.world);
    expect(r.status, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as Proposal["patch"];
    expect(doc.base_manifest_hash).toBe(s.manifest);
    expect(doc.patches.map((p) => Object.keys(p)[0])).toEqual(["add_def", "replace_def", "replace_def"]);
    expect(JSON.stringify(doc)).not.toContain('"wasm"');
    expect(ok<{ head: unknown }>("info", "--world", s.world, "--json").head).toEqual(before);
    const same = wk("propose", "--from-air", s.air, "--key", s.developer, "--world", s.world, "--json");
    expect(same.status).toBe(1);
    expect(same.stderr + same.stdout).toContain("governance.no_change");
    expect(wk("propose", "--world", s.world).status).toBe(2);
  });

  it("proposes the folder's diff (its binaries along) → shadow → approve → apply", () => {
    const p = ok<Proposal>("propose", "--from-air", edited, "--key", s.developer, "--world", s.world, "--json");
    expect(p.new_manifest_hash).toBe(editedHash);
    expect(p.description).toContain("replace defmodule:demo/Counter@1");
    const a = pushThrough(s, p.proposal_id);
    expect(a.manifest_hash).toBe(editedHash);
    applySeq = a.seq;
    json(wk("send", "demo/CounterEvent@1", '{"key":"alice","by":1}', "--world", s.world, "--json"));
    expect(ok("state", "demo/Counter@1", "alice", "--world", s.world, "--json")).toMatchObject({ count: 6, events: 2 });
  });

  it("refuses a seq that is not an apply: governance.not_an_apply", () => {
    for (const seq of ["0", String(applySeq - 1), "99999"]) {
      const r = wk("revert", seq, "--key", s.developer, "--world", s.world, "--json");
      expect(r.status, r.stdout + r.stderr).toBe(1);
      expect(r.stdout + r.stderr).toContain("governance.not_an_apply");
    }
    expect(wk("revert", "x", "--world", s.world).status).toBe(2);
  });

  it("reverts the apply → shadow → approve → apply: the manifest hash is the original; verify and replay pass", () => {
    const printed = JSON.parse(
      wk("revert", String(applySeq), "--print", "--world", s.world).stdout,
    ) as Proposal["patch"];
    expect(printed.patches.map((p) => Object.keys(p)[0])).toEqual(["remove_def", "replace_def", "replace_def"]);
    const r = ok<Proposal & { reverts: { apply_seq: number; manifest_hash: string; later_applies: number[] } }>(
      "revert",
      String(applySeq),
      "--key",
      s.developer,
      "--world",
      s.world,
      "--json",
    );
    expect(r.new_manifest_hash).toBe(s.manifest);
    expect(r.reverts).toMatchObject({ apply_seq: applySeq, manifest_hash: s.manifest, later_applies: [] });
    expect(r.description).toContain(`revert the apply at seq ${applySeq}`);
    expect(r.description).not.toContain("moved on");
    const a = pushThrough(s, r.proposal_id);
    expect(a.manifest_hash).toBe(s.manifest);
    expect(ok<{ manifest: { hash: string } }>("info", "--world", s.world, "--json").manifest.hash).toBe(s.manifest);
    json(wk("send", "demo/CounterEvent@1", '{"key":"alice","by":1}', "--world", s.world, "--json"));
    expect(ok("state", "demo/Counter@1", "alice", "--world", s.world, "--json")).toMatchObject({ count: 7, events: 3 });
    expect(wk("verify", "--world", s.world).status).toBe(0);
    const replay = wk("replay", "--world", s.world);
    expect(replay.status, replay.stdout + replay.stderr).toBe(0);

    // Reverting the first apply again now: the world moved on (the revert was applied), so the
    // proposal goes back to the defs before that apply — the current ones: nothing to propose.
    const again = wk("revert", String(applySeq), "--key", s.developer, "--world", s.world, "--json");
    expect(again.status).toBe(1);
    expect(again.stdout + again.stderr).toContain("governance.no_change");
    // Reverting the revert is the edit again, described as a revert of a world that moved on from nothing.
    const redo = ok<Proposal>("revert", String(a.seq), "--key", s.developer, "--world", s.world, "--json");
    expect(redo.new_manifest_hash).toBe(editedHash);
    revertSeq = a.seq;
    redoId = redo.proposal_id;
  });

  it("when the world moved on since, the revert goes back to the defs before that apply and says so", () => {
    const redone = pushThrough(s, redoId).seq; // the edit again
    // A later change on top: the threshold stays 1, the second approver's id changes.
    const later = join(s.base, "worlds/gc-later");
    cpSync(edited, later, { recursive: true });
    const policy = join(later, "policy.air.json");
    writeFileSync(policy, readFileSync(policy, "utf8").replace('"audit"', '"audit-2"'));
    const laterSeq = pushThrough(
      s,
      ok<Proposal>("propose", "--from-air", later, "--key", s.developer, "--world", s.world, "--json").proposal_id,
    ).seq;
    const r = ok<Proposal & { reverts: { later_applies: number[] } }>(
      "revert",
      String(redone),
      "--key",
      s.developer,
      "--world",
      s.world,
      "--json",
    );
    expect(r.reverts.later_applies).toEqual([laterSeq]);
    expect(r.new_manifest_hash).toBe(s.manifest);
    expect(r.description).toContain(`moved on since`);
    expect(r.description).toContain(`applies at seq ${laterSeq}`);
    expect(pushThrough(s, r.proposal_id).manifest_hash).toBe(s.manifest);
    expect(revertSeq).toBeLessThan(redone);
    expect(wk("verify", "--world", s.world).status).toBe(0);
  });
});
