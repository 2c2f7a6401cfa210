/**
 * @module `wk air check | hash | schema` through the real CLI process: exit codes (0 ok,
 * 1 check failed, 2 usage), every problem with its JSON path, the DESIGN §3 identity of {}.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadAirDir } from "../../kernel/air-dir.js";

const CLI = new URL("../../tools/cli/main.ts", import.meta.url).pathname;
const COUNTER = new URL("../../worlds/counter", import.meta.url).pathname;
const wk = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { encoding: "utf8" });

describe("wk air", () => {
  it("check: a valid folder passes; a broken one lists every problem with file and path, exit 1", () => {
    const ok = wk("air", "check", COUNTER, "--json");
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, manifest_hash: expect.stringMatching(/^sha256:/) });
    const dir = mkdtempSync(join(tmpdir(), "wk-cli-air-"));
    writeFileSync(
      join(dir, "bad.air.json"),
      JSON.stringify([
        { $kind: "defschema", name: "t/A@1", type: { record: { n: { natural: {} } } } },
        {
          $kind: "manifest",
          air_version: "1",
          schemas: [{ name: "t/A@1" }, { name: "t/Ghost@1" }],
          modules: [],
          effects: [],
          caps: [],
          policies: [],
        },
      ]),
    );
    const bad = wk("air", "check", dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("bad.air.json: $[0].type.record.n.natural: air.schema_violation");
    expect(bad.stdout).toContain("$[1].schemas[1].name: air.unknown_ref");
  });

  it("check: a policy condition that is not CEL, or cannot give a bool, is refused with its path", () => {
    const dir = mkdtempSync(join(tmpdir(), "wk-cli-air-"));
    writeFileSync(
      join(dir, "world.air.json"),
      JSON.stringify([
        {
          $kind: "defpolicy",
          name: "t/p@1",
          rules: [
            { when: { condition: "params.amount >" }, decision: "require_approval" },
            { when: { condition: "params.amount * 2" }, decision: "allow" },
          ],
        },
        {
          $kind: "manifest",
          air_version: "1",
          schemas: [],
          modules: [],
          effects: [],
          caps: [],
          policies: [{ name: "t/p@1" }],
          defaults: { policy: "t/p@1" },
        },
      ]),
    );
    const bad = wk("air", "check", dir);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toContain("world.air.json: $[0].rules[0].when.condition: air.bad_condition");
    expect(bad.stdout).toContain("CEL syntax error");
    expect(bad.stdout).toContain("$[0].rules[1].when.condition: air.bad_condition");
    expect(bad.stdout).toContain("must give a bool");
  });

  it("hash: plain JSON as generic canonical CBOR, and a def with --def (both lenses agree)", () => {
    const dir = mkdtempSync(join(tmpdir(), "wk-cli-air-"));
    writeFileSync(join(dir, "empty.json"), "{}");
    const h = wk("air", "hash", join(dir, "empty.json"));
    expect(h.stdout.trim()).toBe("sha256:75bd49cb964988d6fd2c058f51230c3dc2a254753751fbe0f313b4b1e0681b69");
    writeFileSync(
      join(dir, "a.json"),
      JSON.stringify({
        $kind: "defschema",
        name: "t/A@1",
        type: { record: { b: { text: {} }, a: { nat: {} } } },
        $comment: "x",
      }),
    );
    writeFileSync(
      join(dir, "b.json"),
      JSON.stringify({ name: "t/A@1", type: { record: { a: { nat: {} }, b: { text: {} } } }, $kind: "defschema" }),
    );
    const a = wk("air", "hash", join(dir, "a.json"), "--def").stdout.trim();
    expect(a).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(wk("air", "hash", join(dir, "b.json"), "--def").stdout.trim()).toBe(a);
    // A defmodule naming its binary by path hashes exactly as the loader resolves it.
    const loaded = loadAirDir(COUNTER);
    const mod = wk("air", "hash", join(COUNTER, "counter.air.json"), "--def");
    expect(mod.status, mod.stderr).toBe(0);
    expect(mod.stdout.trim()).toBe(loaded.ok ? loaded.catalog.modules.get("demo/Counter@1")!.hash : "loader failed");
    const missing = wk("air", "hash", join(dir, "nope.json"));
    expect(missing.status).toBe(1);
  });

  it("schema prints a JSON Schema with the recursive type AST; unknown flags are usage errors (exit 2)", () => {
    const s = wk("air", "schema");
    expect(s.status).toBe(0);
    const schema = JSON.parse(s.stdout) as { $defs: Record<string, unknown> };
    expect(schema.$defs.TypeExpr).toBeDefined();
    expect(wk("air", "check").status).toBe(2);
    expect(wk("air", "hash", "x.json", "--bogus").status).toBe(2);
  });
});
