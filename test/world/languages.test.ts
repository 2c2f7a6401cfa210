/**
 * @module The counter in every module language — AssemblyScript, WAT, C, Zig (Extism
 * plugins) and JavaScript (a WebAssembly component) — run as demo/Counter@1 in a real
 * world on the same events: every world reaches the same state root, and each replays.
 */
import { readFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildModule } from "../../kernel/adapters/compile/index.js";
import { packagePath } from "../../kernel/adapters/compile/paths.js";
import { createWorld, replayWorld } from "../../kernel/world/index.js";
import { counterSource, repoWasm } from "./fixtures/counter-source.js";

const EVENTS = Array.from({ length: 24 }, (_, i) => ({
  schema: "demo/CounterEvent@1",
  json: { key: ["a", "b", "c"][i % 3]!, by: i * 7 },
}));

async function run(
  wasm: Uint8Array,
  limits?: Record<string, number>,
): Promise<{ root: string; replayed: string; milestones: number }> {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-lang-")), "w");
  const w = await createWorld(dir, counterSource(wasm, limits));
  const results = await w.sendMany(EVENTS);
  expect(results.every((r) => r.failures === 0)).toBe(true);
  const milestones = results.reduce((n, r) => n + r.entries - 2, 0);
  const root = w.stateRefs().state_root;
  await w.close();
  const r = await replayWorld(dir);
  expect(r.ok).toBe(true);
  return { root, replayed: r.state_root, milestones };
}

describe("the counter in five languages, each in a world", () => {
  it("AssemblyScript, WAT, C and Zig plugins and the JavaScript component agree on the state root", async () => {
    const roots = new Map<string, string>();
    for (const [lang, path] of [
      ["assemblyscript", "modules/assemblyscript/counter/counter.wasm"],
      ["wat", "modules/wat/counter.wasm"],
      ["c", "modules/c/counter/counter.wasm"],
      ["zig", "modules/zig/counter/counter.wasm"],
    ] as const) {
      const r = await run(repoWasm(path));
      expect(r.replayed, lang).toBe(r.root);
      expect(r.milestones, lang).toBeGreaterThan(0);
      roots.set(lang, r.root);
    }
    const src = packagePath("modules/js/counter/counter.js");
    const js = await buildModule({ language: "js", source: readFileSync(src), sourcePath: src });
    if (!js.ok) throw new Error(js.diagnostics.join("\n"));
    // SpiderMonkey's interpreter runs inside the component, so a JS step burns far more fuel.
    const r = await run(js.wasm, { fuel_per_step: 4_000_000_000 });
    expect(r.replayed).toBe(r.root);
    roots.set("js", r.root);
    expect(new Set(roots.values()).size, JSON.stringify(Object.fromEntries(roots))).toBe(1);
  }, 180_000);
});
