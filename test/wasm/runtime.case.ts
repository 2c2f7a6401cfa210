/**
 * @module The `ModuleRuntime` conformance suite, run against every runtime: echo,
 * deterministic fuel, fresh state per call, granted and ungranted host calls, a
 * missing export, and the hostile set (infinite loop, memory bomb, trap, huge output),
 * each failure typed and each followed by a good call on the same runtime.
 */
import { describe, expect, it } from "vitest";
import type {
  CallResult,
  HostFunction,
  LoadSpec,
  LoadedModule,
  ModuleLimits,
  ModuleRuntime,
} from "../../kernel/wasm/runtime.js";

/** Fixture names every runtime provides (same behaviour, each in its own ABI). */
export type FixtureName = "echo" | "spin" | "membomb" | "trap" | "bigout" | "blob" | "leaky";

/** How a runtime's test file plugs into the suite. */
export interface RuntimeCase {
  runtime: ModuleRuntime;
  spec(
    name: FixtureName,
    opts?: { hostFunctions?: HostFunction[]; limits?: Partial<ModuleLimits>; entry?: "step" | "run" },
  ): Promise<LoadSpec>;
}

const INPUT = new Uint8Array(64).map((_, i) => (i * 7) & 0xff);
const reverse: HostFunction = {
  name: "blob_get",
  capability: "blob",
  call: (inp) => Uint8Array.from([...inp].reverse()),
};

function output(r: CallResult): number[] {
  if (!r.ok) throw new Error(`${r.error.code}: ${r.error.message}`);
  return Array.from(r.output);
}

function code(r: CallResult): string {
  return r.ok ? "ok" : r.error.code;
}

async function loadError(p: Promise<unknown>): Promise<Record<string, unknown>> {
  return p.then(
    () => {
      throw new Error("loaded");
    },
    (e: unknown) => e as Record<string, unknown>,
  );
}

/** Registers the suite for one runtime. */
export function runModuleRuntimeSuite(label: string, c: RuntimeCase): void {
  const load = async (name: FixtureName, opts?: Parameters<RuntimeCase["spec"]>[1]): Promise<LoadedModule> =>
    c.runtime.load(await c.spec(name, opts));

  /** The failing module fails the same way again, and a good module still works. */
  async function stillUsable(m: LoadedModule, expected: string): Promise<void> {
    expect(code(await m.call(INPUT))).toBe(expected);
    expect(output(await (await load("echo")).call(INPUT))).toEqual(Array.from(INPUT));
  }

  describe(`ModuleRuntime conformance: ${label}`, () => {
    it("echoes, including empty input", async () => {
      const m = await load("echo");
      expect(output(await m.call(INPUT))).toEqual(Array.from(INPUT));
      expect(output(await m.call(new Uint8Array(0)))).toEqual([]);
      await m.close();
    });

    it("uses the same fuel for the same input across calls and fresh loads", async () => {
      const seen = new Set<number>();
      for (let i = 0; i < 2; i++) {
        const m = await load("echo");
        for (let j = 0; j < 2; j++) seen.add((await m.call(INPUT)).fuelUsed);
      }
      expect(seen.size).toBe(1);
      expect([...seen][0]).toBeGreaterThan(0);
    });

    it("starts every call from fresh state", async () => {
      const m = await load("leaky");
      const first = output(await m.call(INPUT));
      for (let i = 0; i < 3; i++) expect(output(await m.call(INPUT))).toEqual(first);
      expect(first[0]).toBe(1);
    });

    it("links a granted host call, moves bytes both ways and charges fuel for it", async () => {
      const r = await (await load("blob", { hostFunctions: [reverse] })).call(Uint8Array.of(1, 2, 3));
      expect(output(r)).toEqual([3, 2, 1]);
      expect(r.fuelUsed).toBeGreaterThan(1000);
    });

    it("moves exactly a view's bytes (an offset into a larger buffer), into the call and out of a host call", async () => {
      const backing = new Uint8Array(256).map((_, i) => i);
      expect(output(await (await load("echo")).call(backing.subarray(10, 74)))).toEqual(
        Array.from(backing.subarray(10, 74)),
      );
      const viewing: HostFunction = {
        ...reverse,
        call: (inp) => {
          const out = backing.subarray(200, 200 + inp.length);
          out.set([...inp].reverse());
          return out;
        },
      };
      expect(output(await (await load("blob", { hostFunctions: [viewing] })).call(backing.subarray(1, 4)))).toEqual([
        3, 2, 1,
      ]);
    });

    it("a host call that throws fails the call as module.trap naming it", async () => {
      const broken: HostFunction = {
        ...reverse,
        call: () => {
          throw new Error("no such blob");
        },
      };
      const r = await (await load("blob", { hostFunctions: [broken] })).call(Uint8Array.of(1));
      expect(r.ok ? "" : `${r.error.code} ${r.error.message}`).toMatch(/module\.trap.*blob_get.*no such blob/);
    });

    it("refuses an ungranted host call at load, naming the import and the capability", async () => {
      const e = await loadError(load("blob"));
      expect(e).toMatchObject({ code: "module.link_error", capability: "blob" });
      expect(String(e["import_name"])).toMatch(/blob[-_]get/);
    });

    it("refuses a missing export at load (the trap fixture exports only step)", async () => {
      expect(await loadError(load("trap", { entry: "run" }))).toMatchObject({
        code: "module.missing_export",
        export_name: "run",
      });
    });

    it("ends an infinite loop as module.out_of_fuel, using exactly the budget", async () => {
      const m = await load("spin", { limits: { fuelPerStep: 50_000 } });
      const r = await m.call(INPUT);
      expect(code(r)).toBe("module.out_of_fuel");
      expect(r.fuelUsed).toBe(50_000);
      await stillUsable(m, "module.out_of_fuel");
    });

    it("stops a memory.grow bomb at the ceiling as module.out_of_memory", async () => {
      const m = await load("membomb", { limits: { memoryPages: 8 } });
      const r = await m.call(INPUT);
      expect(code(r)).toBe("module.out_of_memory");
      expect(r.ok ? "" : r.error.message).toContain("8 pages");
      await stillUsable(m, "module.out_of_memory");
    });

    it("reports unreachable as module.trap", async () => {
      await stillUsable(await load("trap"), "module.trap");
    });

    it("rejects an output above maxOutputBytes as module.output_too_large", async () => {
      await stillUsable(
        await load("bigout", { limits: { memoryPages: 32, maxOutputBytes: 65536 } }),
        "module.output_too_large",
      );
    });

    it("serializes overlapping calls on one module", async () => {
      const m = await load("echo");
      const inputs = Array.from({ length: 16 }, (_, i) => new Uint8Array(i).fill(i));
      const results = await Promise.all(inputs.map((inp) => m.call(inp)));
      results.forEach((r, i) => expect(output(r)).toEqual(Array.from(inputs[i]!)));
    });
  });
}
