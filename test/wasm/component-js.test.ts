/**
 * @module A real JavaScript component (componentize-js, StarlingMonkey: a 12 MB core
 * module) through the component runtime: metering a large real-world core works, fuel
 * is deterministic, and a pure component (all WASI features disabled) links with host
 * calls only. Building the component takes several seconds and ~800 MB of memory.
 */
import { fileURLToPath } from "node:url";
import { componentize } from "@bytecodealliance/componentize-js";
import { _setPreopens } from "@bytecodealliance/preview2-shim/filesystem";
import { beforeAll, describe, expect, it } from "vitest";
import { hashBytes } from "../../air/index.js";
import { componentRuntime } from "../../kernel/wasm/component-runtime.js";
import type { HostFunction, LoadSpec } from "../../kernel/wasm/runtime.js";

const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const ALL_HOST_CALLS: HostFunction[] = ["log", "blob_get", "manifest_get", "journal_head"].map((name) => ({
  name,
  capability: "test",
  call: (input: Uint8Array) => Uint8Array.from([...input].reverse()),
}));

let spec: LoadSpec;

beforeAll(async () => {
  // The package's "types" condition points TypeScript at the browser typings; on Node it takes host paths.
  (_setPreopens as unknown as (preopens: Record<string, string>) => void)({ "/": "/" });
  const { component } = await componentize({
    sourcePath: here("../fixtures/wasm/js-echo.js"),
    witPath: here("../../kernel/wasm/wit/worldkernel.wit"),
    worldName: "module",
    disableFeatures: ["stdio", "random", "clocks", "http", "fetch-event"],
  });
  spec = {
    name: "test/js-echo@1",
    wasm: component,
    wasmHash: hashBytes(component),
    entry: "step",
    hostFunctions: ALL_HOST_CALLS,
    limits: { memoryPages: 1024, fuelPerStep: 2_000_000_000, maxOutputBytes: 65536 },
  };
}, 120_000);

describe("JavaScript component", () => {
  it("runs step with deterministic fuel and run through a host call", async () => {
    const m = await componentRuntime.load(spec);
    const input = new Uint8Array(64).fill(6);
    const a = await m.call(input);
    const b = await m.call(input);
    expect(a.ok && Array.from(a.output)).toEqual(new Array(64).fill(7));
    expect(b).toEqual(a);
    const again = await (await componentRuntime.load(spec)).call(input);
    expect(again.fuelUsed).toBe(a.fuelUsed);
    const run = await (await componentRuntime.load({ ...spec, entry: "run" })).call(Uint8Array.of(1, 2, 3));
    expect(run.ok && Array.from(run.output)).toEqual([3, 2, 1]);
  });

  it("ends as module.out_of_fuel on a small budget and stays usable", async () => {
    const m = await componentRuntime.load({ ...spec, limits: { ...spec.limits, fuelPerStep: 10_000 } });
    const r = await m.call(new Uint8Array(64));
    expect(r.ok ? "ok" : r.error.code).toBe("module.out_of_fuel");
    const good = await componentRuntime.load(spec);
    expect((await good.call(new Uint8Array(1))).ok).toBe(true);
  });

  it("needs every host call its core imports: componentize-js imports the whole host interface", async () => {
    const e = await componentRuntime
      .load({ ...spec, hostFunctions: ALL_HOST_CALLS.filter((h) => h.name !== "blob_get") })
      .catch((x: unknown) => x);
    expect(e).toMatchObject({ code: "module.link_error", capability: "blob" });
  });
});
