/**
 * @module The component runtime: the shared `ModuleRuntime` conformance suite on
 * components wrapped from WAT core modules, plus dispatch by `loadModule` and the
 * refusal of a component that imports WASI.
 */
import { describe, expect, it } from "vitest";
import { componentRuntime } from "../../kernel/wasm/component-runtime.js";
import { detectRuntimeKind, loadModule } from "../../kernel/wasm/runtime.js";
import { componentSpec } from "./component.js";
import { runModuleRuntimeSuite } from "./runtime.case.js";

runModuleRuntimeSuite("component", { runtime: componentRuntime, spec: componentSpec });

describe("component runtime specifics", () => {
  it("is picked by loadModule from the header", async () => {
    const spec = await componentSpec("echo");
    expect(detectRuntimeKind(spec.wasm)).toBe("component");
    const r = await (await loadModule(spec)).call(Uint8Array.of(1, 2));
    expect(r.ok && Array.from(r.output)).toEqual([1, 2]);
  });

  it("refuses a component importing a WASI clock, with capability none", async () => {
    const e = await componentRuntime.load(await componentSpec("clock")).catch((x: unknown) => x);
    expect(e).toMatchObject({
      code: "module.link_error",
      import_name: "wasi:clocks/monotonic-clock",
      capability: "none",
    });
  });
});
