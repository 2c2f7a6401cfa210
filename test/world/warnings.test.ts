/**
 * @module Warnings that save a day: a world whose definitions can never be upgraded (no
 * approvers in the policy governance reads, or a threshold above them) and a module whose
 * memory ceiling is below the initial memory its binary declares (core modules, memory
 * imports, components with nested core modules). The pure checks, the WASM reader, and
 * `wk air check` / `wk create` printing them (stderr, `--json` `warnings`, exit code unchanged).
 */
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import wabtInit from "wabt";
import { describe, expect, it } from "vitest";
import { buildCatalogOrThrow } from "../../air/loader.js";
import { governanceWarnings, memoryWarnings } from "../../air/warnings.js";
import { hashBytes } from "../../air/hash.js";
import { parseJsonLossless } from "../../air/json.js";
import { catalogWarnings, warningLine } from "../../kernel/air-warnings.js";
import { initialMemoryPages } from "../../kernel/wasm/memory-pages.js";
import { WasmFormatError } from "../../kernel/wasm/wasm-bytes.js";
import { ROOT, wk } from "./cli-harness.js";

const wabt = await wabtInit();

function wat(text: string): Uint8Array {
  const m = wabt.parseWat("t.wat", text);
  try {
    return m.toBinary({}).buffer;
  } finally {
    m.destroy();
  }
}

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, content: Uint8Array): number[] => [id, ...leb(content.length), ...content];
/** A component binary: the preamble, then its sections (1: core module, 4: nested component, 0: custom). */
const component = (...sections: number[][]): Uint8Array =>
  Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, ...sections.flat());

const AS_COUNTER = join(ROOT, "modules/assemblyscript/counter/counter.wasm");
const KEY_A = "a".repeat(64);
const KEY_B = "b".repeat(64);

/** The counter world's defs, with the module's limits and an optional policy replaced. */
function counterDefs(opts: {
  limits?: Record<string, number>;
  policy?: Record<string, unknown>;
  wasmHash?: string;
}): unknown[] {
  const read = (f: string) => parseJsonLossless(readFileSync(join(ROOT, "worlds/counter", f), "utf8"));
  const schemas = read("schemas.air.json") as unknown[];
  const manifest = read("manifest.air.json") as Record<string, unknown>;
  const mod = read("counter.air.json") as Record<string, unknown>;
  delete mod.wasm;
  mod.wasm_hash = opts.wasmHash ?? hashBytes(new Uint8Array(readFileSync(AS_COUNTER)));
  if (opts.limits) mod.limits = opts.limits;
  else delete mod.limits;
  const defs: unknown[] = [...schemas, mod];
  if (opts.policy) {
    defs.push({ $kind: "defpolicy", name: "demo/gov@1", rules: [], ...opts.policy });
    manifest.policies = [{ name: "demo/gov@1" }];
    manifest.defaults = { policy: "demo/gov@1" };
  }
  return [...defs, manifest];
}

const catalogOf = (defs: unknown[]) => buildCatalogOrThrow([{ file: "w.air.json", value: defs }]);

describe("initial memory of a WASM binary", () => {
  it("reads core modules: the memory section, memory imports, none", () => {
    expect(initialMemoryPages(new Uint8Array(readFileSync(AS_COUNTER)))).toEqual({
      pages: 4,
      binary: "core",
      coreModules: 1,
      at: { coreModule: 0, source: "memory" },
    });
    expect(initialMemoryPages(wat(`(module (import "env" "memory" (memory 7 9)))`))).toMatchObject({
      pages: 7,
      at: { source: "import" },
    });
    expect(initialMemoryPages(wat(`(module (func))`))).toBeNull();
    // 64-bit memories carry their sizes as u64 LEB128.
    const mem64 = Uint8Array.of(0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x05, 0x04, 0x01, 0x04, 0x90, 0x03);
    expect(initialMemoryPages(mem64)?.pages).toBe(400);
  });

  it("reads every core module of a component, nested components too, and takes the largest", () => {
    const small = wat(`(module (memory 3))`);
    const big = wat(`(module (import "a" "m" (memory 9)))`);
    const nested = component(section(1, big));
    const c = component(section(0, Uint8Array.of(1, 0x61)), section(1, small), section(4, nested));
    expect(initialMemoryPages(c)).toEqual({
      pages: 9,
      binary: "component",
      coreModules: 2,
      at: { coreModule: 1, source: "import" },
    });
    expect(initialMemoryPages(component(section(1, wat(`(module (func))`))))).toBeNull();
  });

  it("refuses bytes that are not WASM, and truncated sections", () => {
    expect(() => initialMemoryPages(new TextEncoder().encode("not wasm at all"))).toThrow(WasmFormatError);
    const c = component(section(1, wat(`(module (memory 3))`)));
    expect(() => initialMemoryPages(c.subarray(0, c.length - 2))).toThrow(WasmFormatError);
  });

  it("reads a real JavaScript component (componentize-js): its core module's initial memory", async () => {
    const { buildModule } = await import("../../kernel/adapters/compile/index.js");
    const src = join(ROOT, "modules/js/counter/counter.js");
    const js = await buildModule({ language: "js", source: readFileSync(src), sourcePath: src });
    if (!js.ok) throw new Error(js.diagnostics.join("\n"));
    const m = initialMemoryPages(js.wasm);
    expect(m).toMatchObject({ binary: "component" });
    expect(m!.pages).toBeGreaterThan(16);
    // The same binary under a ceiling below it is flagged.
    const w = catalogWarnings(
      catalogOf(
        counterDefs({
          limits: { memory_pages: 16 },
          wasmHash: hashBytes(js.wasm),
          policy: { approvers: [{ id: "a", public_key: KEY_A }] },
        }),
      ),
      new Map([[hashBytes(js.wasm), js.wasm]]),
    );
    expect(w.map((x) => x.code)).toEqual(["air.memory_below_initial"]);
    expect(w[0]!.message).toContain("in the component");
  }, 240_000);
});

describe("catalog warnings", () => {
  const wasm = new Uint8Array(readFileSync(AS_COUNTER));
  const wasmMap = new Map([[hashBytes(wasm), wasm]]);

  it("no default policy, or one without approvers: air.no_approvers", () => {
    const none = governanceWarnings(catalogOf(counterDefs({})));
    expect(none).toEqual([expect.objectContaining({ code: "air.no_approvers", path: "$.defaults.policy" })]);
    const empty = governanceWarnings(catalogOf(counterDefs({ policy: {} })));
    expect(empty).toEqual([
      expect.objectContaining({
        code: "air.no_approvers",
        file: "w.air.json",
        path: expect.stringMatching(/^\$\[\d+\]\.approvers$/),
      }),
    ]);
    expect(empty[0]!.message).toContain("demo/gov@1");
  });

  it("a threshold above the distinct approvers: air.threshold_unreachable; enough approvers: nothing", () => {
    const t = governanceWarnings(
      catalogOf(
        counterDefs({
          policy: {
            approvers: [
              { id: "a", public_key: KEY_A },
              { id: "a2", public_key: KEY_A },
            ],
            threshold: 2,
          },
        }),
      ),
    );
    expect(t).toEqual([
      expect.objectContaining({ code: "air.threshold_unreachable", path: expect.stringMatching(/\.threshold$/) }),
    ]);
    expect(
      governanceWarnings(
        catalogOf(
          counterDefs({
            policy: {
              approvers: [
                { id: "a", public_key: KEY_A },
                { id: "b", public_key: KEY_B },
              ],
              threshold: 2,
            },
          }),
        ),
      ),
    ).toEqual([]);
  });

  it("memory_pages below the binary's initial memory, declared or by default", () => {
    const gov = { approvers: [{ id: "a", public_key: KEY_A }] };
    expect(catalogWarnings(catalogOf(counterDefs({ limits: { memory_pages: 4 }, policy: gov })), wasmMap)).toEqual([]);
    const low = catalogWarnings(catalogOf(counterDefs({ limits: { memory_pages: 3 }, policy: gov })), wasmMap);
    expect(low).toEqual([
      expect.objectContaining({
        code: "air.memory_below_initial",
        file: "w.air.json",
        path: expect.stringMatching(/\.limits\.memory_pages$/),
      }),
    ]);
    expect(low[0]!.message).toMatch(/limits\.memory_pages is 3, but its binary starts with 4 pages/);
    // Without limits the kernel's default ceiling (256 pages) applies.
    const init = () => ({ pages: 300, where: "its memory section" });
    const byDefault = memoryWarnings(catalogOf(counterDefs({ policy: gov })), init, 256);
    expect(byDefault).toEqual([
      expect.objectContaining({ code: "air.memory_below_initial", path: expect.stringMatching(/\.limits$/) }),
    ]);
    expect(byDefault[0]!.message).toContain("default ceiling of 256 pages");
    // A binary that is missing or unreadable is not this check's business.
    expect(catalogWarnings(catalogOf(counterDefs({ limits: { memory_pages: 1 }, policy: gov })), new Map())).toEqual(
      [],
    );
  });

  it("renders as warning: <code>: <message>", () => {
    expect(warningLine({ code: "air.no_approvers", message: "m", path: "$.x", file: "f.air.json" })).toBe(
      "warning: air.no_approvers: m (at f.air.json $.x)",
    );
  });
});

/** An AIR folder holding the counter world with the AssemblyScript binary beside it. */
function airDir(opts: { limits?: Record<string, number>; policy?: Record<string, unknown> }): string {
  const dir = mkdtempSync(join(tmpdir(), "wk-warn-air-"));
  writeFileSync(join(dir, "package.json"), "{}\n"); // module paths stay inside the nearest package
  copyFileSync(AS_COUNTER, join(dir, "counter.wasm"));
  const defs = counterDefs(opts).map((d) => {
    const def = d as Record<string, unknown>;
    if (def.$kind !== "defmodule") return d;
    const { wasm_hash: _, ...rest } = def;
    return { ...rest, wasm: "./counter.wasm" };
  });
  writeFileSync(join(dir, "world.air.json"), JSON.stringify(defs, null, 2));
  return dir;
}

interface Warning {
  code: string;
  message: string;
  path: string;
  file?: string;
}

describe("wk air check and wk create warn", () => {
  it("on stderr and in --json, exit code unchanged", () => {
    const dir = airDir({ limits: { memory_pages: 2 } });
    const human = wk("air", "check", dir);
    expect(human.status, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/^ok: /);
    expect(human.stderr).toMatch(/^warning: air\.no_approvers: /m);
    expect(human.stderr).toMatch(
      /^warning: air\.memory_below_initial: module demo\/Counter@1: limits\.memory_pages is 2, but its binary starts with 4 pages/m,
    );

    const j = wk("air", "check", dir, "--json");
    expect(j.status).toBe(0);
    const out = JSON.parse(j.stdout) as { ok: boolean; warnings: Warning[] };
    expect(out.ok).toBe(true);
    expect(out.warnings.map((w) => w.code).sort()).toEqual(["air.memory_below_initial", "air.no_approvers"]);
    const mem = out.warnings.find((w) => w.code === "air.memory_below_initial")!;
    expect(mem).toMatchObject({
      file: "world.air.json",
      path: expect.stringMatching(/^\$\[\d+\]\.limits\.memory_pages$/),
    });
    for (const w of out.warnings)
      expect(Object.keys(w).sort()).toEqual(expect.arrayContaining(["code", "message", "path"]));

    const world = join(mkdtempSync(join(tmpdir(), "wk-warn-")), "w");
    const created = wk("create", dir, "--world", world, "--json");
    expect(created.status, created.stderr).toBe(0);
    expect(created.stderr).toMatch(/^warning: air\.memory_below_initial: /m);
    const c = JSON.parse(created.stdout) as { world_id: string; warnings: Warning[] };
    expect(c.warnings.map((w) => w.code).sort()).toEqual(["air.memory_below_initial", "air.no_approvers"]);
    // The warning was right: the module cannot load.
    const send = wk("send", "demo/CounterEvent@1", '{"key":"a","by":1}', "--world", world, "--json");
    expect(send.status).toBe(1);
    expect(send.stdout).toContain("module.limits_exceeded");
  }, 120_000);

  it("nothing for a world that can be upgraded and whose modules fit", () => {
    const dir = airDir({ limits: { memory_pages: 64 }, policy: { approvers: [{ id: "a", public_key: KEY_A }] } });
    const r = wk("air", "check", dir, "--json");
    expect(r.status).toBe(0);
    expect(r.stderr).not.toContain("warning:");
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, warnings: [] });
    const world = join(mkdtempSync(join(tmpdir(), "wk-warn-")), "w");
    const created = wk("create", dir, "--world", world, "--json");
    expect(created.status, created.stderr).toBe(0);
    expect(created.stderr).not.toContain("warning:");
    expect(JSON.parse(created.stdout)).toMatchObject({ warnings: [] });
  }, 120_000);

  it("a folder with problems reports them (exit 1) and no warnings", () => {
    const dir = airDir({});
    writeFileSync(join(dir, "bad.air.json"), "{ not json");
    const r = wk("air", "check", dir, "--json");
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, warnings: [] });
  });
});
