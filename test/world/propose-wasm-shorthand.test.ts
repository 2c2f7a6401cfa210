/**
 * @module `wk propose` with the `"wasm": "<path>"` shorthand in a defmodule patch: the CLI
 * reads the binary (relative to the patch file, never the cwd, and confined to the patch's
 * project folder like the AIR loader's sugar), hashes it into `wasm_hash` and stores it with
 * the proposal — the journaled patch holds the hash, not the path. Real world, real files:
 * a project folder holding the governed counter world and the committed module binaries.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeStored, hashBytes, type CborObject, type HashText } from "../../air/index.js";
import { SqliteJournalStore, worldPaths } from "../../kernel/journal/index.js";
import { ROOT, json, ok, wk } from "./cli-harness.js";
import { C_WASM, governedProject, type GovernedProject } from "./governed-project.js";

/** A project folder (package.json) with the governed counter world naming a fresh approver, and a world made from it. */
function setup(): GovernedProject & { moduleDef: Record<string, unknown> } {
  const p = governedProject("wk-propose-wasm-");
  const { air } = p;
  const moduleDef = JSON.parse(readFileSync(join(air, "counter.air.json"), "utf8")) as Record<string, unknown>;
  delete moduleDef.$comment;
  return { ...p, moduleDef };
}

/** Writes a patch replacing demo/Counter@1 with `node` (pre_hash from `wk air hash --def`). */
function writePatch(s: ReturnType<typeof setup>, file: string, node: Record<string, unknown>): string {
  const pre = wk("air", "hash", join(s.base, "worlds/gc/counter.air.json"), "--def");
  expect(pre.status, pre.stderr).toBe(0);
  const path = join(s.base, file);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(
    path,
    JSON.stringify(
      {
        base_manifest_hash: s.manifest,
        patches: [
          { replace_def: { kind: "defmodule", name: "demo/Counter@1", pre_hash: pre.stdout.trim(), new_node: node } },
        ],
      },
      null,
      2,
    ),
  );
  return path;
}

/** The proposals the world journaled, with their patch documents read back from the CAS. */
function proposals(world: string): { proposal_id: string; patch: CborObject }[] {
  const store = SqliteJournalStore.open(worldPaths(world).journal, { readonly: true });
  try {
    const out: { proposal_id: string; patch: CborObject }[] = [];
    for (const e of store.iterateSync(0)) {
      if (e.kind !== "proposal") continue;
      const b = decodeStored(e.body) as CborObject;
      out.push({
        proposal_id: b.proposal_id as string,
        patch: decodeStored(store.getBlobSync(b.patch_ref as HashText)) as CborObject,
      });
    }
    return out;
  } finally {
    store.closeSync();
  }
}

describe("wk propose: the wasm shorthand of a defmodule patch", () => {
  it("reads the binary beside the patch, hashes it into wasm_hash and ships it: shadow, approve, apply, replay", () => {
    const s = setup();
    const cHash = hashBytes(new Uint8Array(readFileSync(join(ROOT, C_WASM))));
    // The path is relative to the patch file (patches/), not to the cwd (the repository root here).
    const short = writePatch(s, "patches/to-c.json", { ...s.moduleDef, wasm: "../modules/c/counter/counter.wasm" });
    const { wasm: _path, ...rest } = s.moduleDef;
    const explicit = { ...rest, wasm_hash: cHash };
    const long = writePatch(s, "patches/to-c-explicit.json", explicit);

    // No --wasm: the shorthand brings the binary itself.
    const p = ok<{ proposal_id: string; new_manifest_hash: string }>(
      "propose",
      short,
      "--key",
      s.developer,
      "--world",
      s.world,
      "--json",
    );
    // The same change written out by hand (wasm_hash + --wasm), filed by someone else (not
    // the approver: a key that proposed a patch cannot approve it), is the very same patch.
    const other = join(s.base, "keys/other.key");
    ok("keys", "new", other, "--json");
    const q = ok<{ proposal_id: string; new_manifest_hash: string }>(
      "propose",
      long,
      "--wasm",
      join(ROOT, C_WASM),
      "--key",
      other,
      "--world",
      s.world,
      "--json",
    );
    expect(q.new_manifest_hash).toBe(p.new_manifest_hash);
    const filed = proposals(s.world);
    const patchOf = (id: string) => filed.find((x) => x.proposal_id === id)!.patch;
    expect(patchOf(q.proposal_id)).toEqual(patchOf(p.proposal_id));

    // The journaled patch holds the hash, never the path.
    const node = ((patchOf(p.proposal_id).patches as CborObject[])[0]!.replace_def as CborObject)
      .new_node as CborObject;
    expect(node.wasm_hash).toBe(cHash);
    expect(node).not.toHaveProperty("wasm");

    const report = ok<{ cells: unknown[]; failures: unknown[]; events: number }>(
      "shadow",
      p.proposal_id,
      "--world",
      s.world,
      "--json",
    );
    expect(report).toMatchObject({ events: 2, cells: [], failures: [] }); // the C counter counts alike
    ok("approve", p.proposal_id, "--key", s.approver, "--world", s.world, "--json");
    expect(ok("apply", p.proposal_id, "--world", s.world, "--json")).toMatchObject({
      manifest_hash: p.new_manifest_hash,
    });
    expect(
      json(wk("send", "demo/CounterEvent@1", '{"key":"alice","by":1}', "--world", s.world, "--json")),
    ).toMatchObject({ steps: 1, failures: [] });
    expect(json(wk("state", "demo/Counter@1", "alice", "--world", s.world))).toEqual({ count: 6, events: 2 });
    expect(ok("replay", "--world", s.world, "--json")).toMatchObject({ ok: true });
    expect(ok("verify", "--world", s.world, "--json")).toMatchObject({ ok: true });
  }, 180_000);

  it("refuses a missing binary and a path leaving the project folder, naming the place; nothing is journaled", () => {
    const s = setup();
    const outside = mkdtempSync(join(tmpdir(), "wk-propose-outside-"));
    copyFileSync(join(ROOT, C_WASM), join(outside, "c.wasm"));
    const cases: [string, string, RegExp][] = [
      ["patches/missing.json", "../modules/c/counter/nope.wasm", /cannot read module binary/],
      ["patches/escape.json", join("..", "..", outside.split("/").pop()!, "c.wasm"), /leaves the project folder/],
    ];
    for (const [file, wasm, why] of cases) {
      const r = wk("propose", writePatch(s, file, { ...s.moduleDef, wasm }), "--key", s.developer, "--world", s.world);
      expect(r.status, r.stderr).toBe(1);
      expect(r.stderr).toContain("air.io_error");
      expect(r.stderr).toContain("$.patches[0].replace_def.new_node.wasm");
      expect(r.stderr).toMatch(why);
    }
    expect(proposals(s.world)).toEqual([]);
  }, 120_000);
});
