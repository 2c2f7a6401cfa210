/**
 * @module The component runtime on components wrapped from WAT core modules: echo,
 * runtime detection, granted host calls, fresh state per call, deterministic fuel,
 * hostile components (loop, memory bomb, trap, huge output) and link-time refusals
 * (ungranted host call, WASI clock, missing export).
 */
import { describe, expect, it } from "vitest";
import { componentRuntime } from "../../kernel/wasm/component-runtime.js";
import { detectRuntimeKind, loadModule, type CallResult, type HostFunction, type LoadedModule } from "../../kernel/wasm/runtime.js";
import { componentSpec } from "./component.js";

const INPUT = new Uint8Array(64).map((_, i) => i * 3);

function ok(r: CallResult): number[] {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return Array.from(r.output);
}

function code(r: CallResult): string {
  return r.ok ? "ok" : r.error.code;
}

async function loadErr(p: Promise<unknown>): Promise<Record<string, unknown>> {
  return p.then(() => { throw new Error("loaded"); }, (e: unknown) => e as Record<string, unknown>);
}

/** The failing component fails the same way again, and a good one still works. */
async function stillUsable(m: LoadedModule, expected: string): Promise<void> {
  expect(code(await m.call(INPUT))).toBe(expected);
  const good = await componentRuntime.load(await componentSpec("echo"));
  expect(ok(await good.call(INPUT))).toEqual(Array.from(INPUT));
}

describe("component runtime", () => {
  it("is picked by loadModule from the header and echoes", async () => {
    const spec = await componentSpec("echo");
    expect(detectRuntimeKind(spec.wasm)).toBe("component");
    const m = await loadModule(spec);
    expect(ok(await m.call(INPUT))).toEqual(Array.from(INPUT));
    expect(ok(await m.call(new Uint8Array(0)))).toEqual([]);
  });

  it("uses the same fuel for the same input across fresh loads", async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2; i++) {
      const m = await componentRuntime.load(await componentSpec("echo"));
      for (let j = 0; j < 2; j++) seen.add((await m.call(INPUT)).fuelUsed);
    }
    expect(seen.size).toBe(1);
    expect([...seen][0]).toBeGreaterThan(0);
  });

  it("starts every call from fresh state", async () => {
    const m = await componentRuntime.load(await componentSpec("leaky"));
    for (let i = 0; i < 3; i++) expect(ok(await m.call(INPUT))).toEqual([1, 1]);
  });

  it("links a granted host call and charges it", async () => {
    const blobGet: HostFunction = { name: "blob_get", capability: "blob", call: (inp) => Uint8Array.from([...inp].reverse()) };
    const m = await componentRuntime.load(await componentSpec("blob", { hostFunctions: [blobGet] }));
    const r = await m.call(Uint8Array.of(1, 2, 3));
    expect(ok(r)).toEqual([3, 2, 1]);
    expect(r.fuelUsed).toBeGreaterThan(1000);
  });

  it("refuses an ungranted host call, a WASI clock and a missing export at load", async () => {
    expect(await loadErr(componentRuntime.load(await componentSpec("blob")))).toMatchObject({
      code: "module.link_error", importName: "worldkernel:module/host@0.1.0#blob-get", capability: "blob",
    });
    expect(await loadErr(componentRuntime.load(await componentSpec("clock")))).toMatchObject({
      code: "module.link_error", importName: "wasi:clocks/monotonic-clock", capability: "none",
    });
    expect(await loadErr(componentRuntime.load(await componentSpec("echo", { entry: "run" })))).toMatchObject({ code: "module.missing_export", exportName: "run" });
  });

  it("ends an infinite loop as module.out_of_fuel", async () => {
    const m = await componentRuntime.load(await componentSpec("spin", { limits: { fuelPerStep: 20_000 } }));
    const r = await m.call(INPUT);
    expect(code(r)).toBe("module.out_of_fuel");
    expect(r.fuelUsed).toBe(20_000);
    await stillUsable(m, "module.out_of_fuel");
  });

  it("stops a memory bomb at the ceiling", async () => {
    const m = await componentRuntime.load(await componentSpec("membomb", { limits: { memoryPages: 4 } }));
    await stillUsable(m, "module.out_of_memory");
  });

  it("reports a trap", async () => {
    const m = await componentRuntime.load(await componentSpec("trap"));
    await stillUsable(m, "module.trap");
  });

  it("rejects an output above maxOutputBytes", async () => {
    const m = await componentRuntime.load(await componentSpec("bigout", { limits: { memoryPages: 32 } }));
    await stillUsable(m, "module.output_too_large");
  });
});
