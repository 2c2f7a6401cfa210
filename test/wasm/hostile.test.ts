/**
 * @module Hostile modules against the Extism runtime: every attack ends as a typed
 * failure (a `CallResult` or a load-time `ModuleLinkError`), never a hang or a crash,
 * and the runtime stays usable for the next, well-behaved call. The attacks both
 * runtimes share (infinite loop, memory.grow bomb, trap, huge output, ungranted host
 * call) run in the conformance suite (`runtime.case.ts`); these are the Extism extras:
 * host-side allocation bombs, unbounded recursion, WASI and network imports.
 */
import { describe, expect, it } from "vitest";
import { extismRuntime } from "../../kernel/wasm/extism-runtime.js";
import type { CallResult, LoadedModule } from "../../kernel/wasm/runtime.js";
import { spec } from "./wat.js";

const INPUT = new Uint8Array(64).map((_, i) => i);

async function load(name: string, limits = {}): Promise<LoadedModule> {
  return extismRuntime.load(spec(name, { limits }));
}

function failure(r: CallResult): string {
  return r.ok ? "ok" : r.error.code;
}

/** After a failure, the same module fails the same way and a good module still works. */
async function stillUsable(m: LoadedModule, code: string): Promise<void> {
  expect(failure(await m.call(INPUT))).toBe(code);
  const good = await load("echo");
  const r = await good.call(INPUT);
  expect(r.ok && Array.from(r.output)).toEqual(Array.from(INPUT));
}

async function loadError(
  name: string,
): Promise<{ code: string; import_name?: string; capability?: string; export_name?: string }> {
  try {
    await extismRuntime.load(spec(name));
  } catch (e) {
    return e as { code: string };
  }
  throw new Error(`${name} loaded`);
}

describe("hostile Extism modules", () => {
  it("a host-side alloc bomb stops at the ceiling as module.out_of_memory", async () => {
    const m = await load("hostbomb", { memoryPages: 64 });
    expect(failure(await m.call(INPUT))).toBe("module.out_of_memory");
    await stillUsable(m, "module.out_of_memory");
  });

  it("returning without output is module.no_output", async () => {
    const m = await load("nooutput");
    await stillUsable(m, "module.no_output");
  });

  it("unbounded recursion traps at a deterministic depth, with the same fuel every time", async () => {
    const limits = { fuelPerStep: 100_000_000 };
    const a = await (await load("recurse", limits)).call(INPUT);
    const b = await (await load("recurse", limits)).call(INPUT);
    expect(failure(a)).toBe("module.trap");
    expect(a.ok ? "" : a.error.message).toContain("deterministic stack budget");
    expect(b).toEqual(a);
    await stillUsable(await load("recurse", limits), "module.trap");
  });

  it("bounded recursion with explicit returns balances the depth count", async () => {
    const m = await extismRuntime.load(spec("recurse", { entry: "run", limits: { fuelPerStep: 100_000_000 } }));
    for (const n of [0, 1, 20]) {
      const r = await m.call(Uint8Array.of(n));
      expect(r.ok ? Array.from(r.output) : r.error.message).toEqual([(n * 100) & 255, (n * 100) >> 8]);
    }
  });

  it("WASI clock and random imports fail to link with capability none", async () => {
    expect(await loadError("clock")).toMatchObject({
      code: "module.link_error",
      import_name: "wasi_snapshot_preview1.clock_time_get",
      capability: "none",
    });
    expect(await loadError("random")).toMatchObject({
      code: "module.link_error",
      import_name: "wasi_snapshot_preview1.random_get",
      capability: "none",
    });
  });

  it("Extism's http_request is never linked", async () => {
    expect(await loadError("http")).toMatchObject({
      code: "module.link_error",
      import_name: "extism:host/env.http_request",
      capability: "none",
    });
  });
});
