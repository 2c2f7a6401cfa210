/**
 * @module The Extism runtime on well-behaved modules: echo, granted host calls, fuel
 * that is deterministic and grows with the work done, fresh-instance semantics per
 * call, and the typed load errors.
 */
import { describe, expect, it } from "vitest";
import { extismRuntime } from "../../kernel/wasm/extism-runtime.js";
import { detectRuntimeKind, loadModule, type CallResult, type HostFunction } from "../../kernel/wasm/runtime.js";
import { spec } from "./wat.js";

const INPUT = new Uint8Array(64).map((_, i) => 255 - i);

function ok(r: CallResult): Uint8Array {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return r.output;
}

async function loadErr(p: Promise<unknown>): Promise<Record<string, unknown>> {
  return p.then(() => { throw new Error("loaded"); }, (e: unknown) => e as Record<string, unknown>);
}

describe("Extism runtime", () => {
  it("echoes 64 bytes through step and run", async () => {
    for (const entry of ["step", "run"] as const) {
      const m = await extismRuntime.load(spec("echo", { entry }));
      expect(Array.from(ok(await m.call(INPUT)))).toEqual(Array.from(INPUT));
      expect(Array.from(ok(await m.call(new Uint8Array(0))))).toEqual([]);
      await m.close();
    }
  });

  it("loadModule picks the Extism runtime for a core module", async () => {
    const s = spec("echo");
    expect(detectRuntimeKind(s.wasm)).toBe("extism");
    const m = await loadModule(s);
    expect(Array.from(ok(await m.call(INPUT)))).toEqual(Array.from(INPUT));
  });

  it("uses the same fuel for the same input across fresh loads and calls", async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const m = await extismRuntime.load(spec("echo"));
      for (let j = 0; j < 3; j++) seen.add((await m.call(INPUT)).fuelUsed);
    }
    expect(seen.size).toBe(1);
    expect([...seen][0]).toBeGreaterThan(0);
  });

  it("charges more fuel for more loop iterations, linearly", async () => {
    const load = () => extismRuntime.load(spec("echo", { entry: "loop_n" as "step" }));
    const m = await load();
    const fuel = async (n: number) => (await m.call(Uint8Array.of(n))).fuelUsed;
    const [f0, f10, f20] = [await fuel(0), await fuel(10), await fuel(20)];
    expect(f10).toBeGreaterThan(f0);
    expect(f20 - f10).toBe(f10 - f0);
  });

  it("an out-of-fuel failure reproduces exactly: same code and fuel on a fresh load", async () => {
    const limits = { fuelPerStep: 300 };
    const a = await (await extismRuntime.load(spec("echo", { entry: "loop_n" as "step", limits }))).call(Uint8Array.of(200));
    const b = await (await extismRuntime.load(spec("echo", { entry: "loop_n" as "step", limits }))).call(Uint8Array.of(200));
    expect(a).toEqual(b);
    expect(a.ok ? "ok" : a.error.code).toBe("module.out_of_fuel");
  });

  it("every call sees a fresh instance: globals, memory and memory size do not leak", async () => {
    const grows = await extismRuntime.load(spec("leaky", { entry: "step" }));
    const restores = await extismRuntime.load(spec("leaky", { entry: "run" }));
    for (let i = 0; i < 3; i++) {
      expect(Array.from(ok(await grows.call(INPUT)))).toEqual([1, 1, 2]);
      expect(Array.from(ok(await restores.call(INPUT)))).toEqual([1, 1]);
    }
  });

  it("links granted host calls, passes bytes both ways and charges their fuel", async () => {
    const blobGet: HostFunction = { name: "blob_get", capability: "blob", call: (inp) => Uint8Array.from([...inp].reverse()) };
    const m = await extismRuntime.load(spec("blob", { hostFunctions: [blobGet] }));
    const r = await m.call(Uint8Array.of(1, 2, 3));
    expect(Array.from(ok(r))).toEqual([3, 2, 1]);
    expect(r.fuelUsed).toBeGreaterThan(1000);
  });

  it("a host call that throws fails the call as module.trap naming the host call", async () => {
    const broken: HostFunction = { name: "blob_get", capability: "blob", call: () => { throw new Error("no such blob"); } };
    const m = await extismRuntime.load(spec("blob", { hostFunctions: [broken] }));
    const r = await m.call(Uint8Array.of(1));
    expect(r.ok ? "" : `${r.error.code} ${r.error.message}`).toMatch(/module\.trap.*blob_get.*no such blob/);
  });

  it("serializes overlapping calls on one module", async () => {
    const m = await extismRuntime.load(spec("echo"));
    const inputs = Array.from({ length: 20 }, (_, i) => new Uint8Array(i).fill(i));
    const results = await Promise.all(inputs.map((inp) => m.call(inp)));
    results.forEach((r, i) => expect(Array.from(ok(r))).toEqual(Array.from(inputs[i]!)));
  });

  it("rejects a missing export, invalid bytes, a wrong hash and an oversized initial memory", async () => {
    expect(await loadErr(extismRuntime.load(spec("nooutput", { entry: "run" })))).toMatchObject({ code: "module.missing_export", exportName: "run" });
    expect(await loadErr(extismRuntime.load(spec("x", { bytes: Uint8Array.of(0, 97, 115, 109, 1, 0, 0, 0, 99) })))).toMatchObject({ code: "module.invalid_wasm" });
    expect(await loadErr(extismRuntime.load({ ...spec("echo"), wasmHash: `sha256:${"0".repeat(64)}` }))).toMatchObject({ code: "module.invalid_wasm" });
    expect(await loadErr(extismRuntime.load(spec("echo", { limits: { memoryPages: 0 } })))).toMatchObject({ code: "module.limits_exceeded" });
  });

  it("refuses modules that reserve the __wk_ export prefix", async () => {
    expect(await loadErr(extismRuntime.load(spec("reserved")))).toMatchObject({ code: "module.unsupported_feature" });
  });
});
