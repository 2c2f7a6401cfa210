/**
 * @module The Extism runtime: the shared `ModuleRuntime` conformance suite on WAT
 * plugins, plus what is specific to Extism — dispatch by `loadModule`, fuel linear in
 * loop iterations, exact reproduction of an out-of-fuel failure, fresh state when
 * memory grew (a new instance) as well as when it did not (restore), and the typed
 * load errors for bad bytes, a wrong hash, an oversized memory and reserved exports.
 */
import { describe, expect, it } from "vitest";
import { extismRuntime } from "../../kernel/wasm/extism-runtime.js";
import { detectRuntimeKind, loadModule, type CallResult } from "../../kernel/wasm/runtime.js";
import { runModuleRuntimeSuite } from "./runtime.case.js";
import { spec } from "./wat.js";

runModuleRuntimeSuite("extism", {
  runtime: extismRuntime,
  spec: async (name, opts) => spec(name, { ...opts, entry: opts?.entry ?? (name === "leaky" ? "run" : "step") }),
});

const INPUT = new Uint8Array(64).map((_, i) => 255 - i);

function ok(r: CallResult): Uint8Array {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.output;
}

async function loadErr(p: Promise<unknown>): Promise<Record<string, unknown>> {
  return p.then(
    () => {
      throw new Error("loaded");
    },
    (e: unknown) => e as Record<string, unknown>,
  );
}

describe("Extism runtime specifics", () => {
  it("loadModule picks the Extism runtime for a core module", async () => {
    const s = spec("echo");
    expect(detectRuntimeKind(s.wasm)).toBe("extism");
    const m = await loadModule(s);
    expect(Array.from(ok(await m.call(INPUT)))).toEqual(Array.from(INPUT));
  });

  it("charges fuel linearly in loop iterations", async () => {
    const m = await extismRuntime.load(spec("echo", { entry: "loop_n" as "step" }));
    const fuel = async (n: number) => (await m.call(Uint8Array.of(n))).fuelUsed;
    const [f0, f10, f20] = [await fuel(0), await fuel(10), await fuel(20)];
    expect(f10).toBeGreaterThan(f0);
    expect(f20 - f10).toBe(f10 - f0);
  });

  it("reproduces an out-of-fuel failure exactly on a fresh load", async () => {
    const limits = { fuelPerStep: 300 };
    const a = await (
      await extismRuntime.load(spec("echo", { entry: "loop_n" as "step", limits }))
    ).call(Uint8Array.of(200));
    const b = await (
      await extismRuntime.load(spec("echo", { entry: "loop_n" as "step", limits }))
    ).call(Uint8Array.of(200));
    expect(a).toEqual(b);
    expect(a.ok ? "ok" : a.error.code).toBe("module.out_of_fuel");
  });

  it("gives fresh state whether memory grew (new instance) or not (restored)", async () => {
    const grows = await extismRuntime.load(spec("leaky", { entry: "step" }));
    const restores = await extismRuntime.load(spec("leaky", { entry: "run" }));
    for (let i = 0; i < 3; i++) {
      expect(Array.from(ok(await grows.call(INPUT)))).toEqual([1, 1, 2]);
      expect(Array.from(ok(await restores.call(INPUT)))).toEqual([1, 1]);
    }
  });

  it("gives a new instance per call to code that changes tables or drops segments", async () => {
    const m = await extismRuntime.load(spec("tables"));
    for (let i = 0; i < 3; i++) expect(Array.from(ok(await m.call(INPUT)))).toEqual([1, 1]);
  });

  it("rejects invalid bytes, a wrong hash, an oversized initial memory and reserved exports", async () => {
    expect(
      await loadErr(extismRuntime.load(spec("x", { bytes: Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 99) }))),
    ).toMatchObject({ code: "module.invalid_wasm" });
    expect(await loadErr(extismRuntime.load({ ...spec("echo"), wasmHash: `sha256:${"0".repeat(64)}` }))).toMatchObject({
      code: "module.invalid_wasm",
    });
    expect(await loadErr(extismRuntime.load(spec("echo", { limits: { memoryPages: 0 } })))).toMatchObject({
      code: "module.limits_exceeded",
    });
    expect(await loadErr(extismRuntime.load(spec("reserved")))).toMatchObject({ code: "module.unsupported_feature" });
  });
});
