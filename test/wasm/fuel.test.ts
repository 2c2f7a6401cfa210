/**
 * @module The metering rewrite itself: it is a pure function of the bytes (the same
 * input always gives the same output, the root of cross-machine fuel determinism), its
 * output validates for every fixture and every module committed under `modules/`
 * (AssemblyScript, C, Zig, WAT and the cores of JavaScript components), it keeps the
 * module's own imports and exports, and fuel grows linearly with loop iterations.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { transpileComponent } from "../../kernel/wasm/component-transpile.js";
import { meter } from "../../kernel/wasm/fuel.js";
import { detectRuntimeKind } from "../../kernel/wasm/runtime.js";
import { hashBytes } from "../../air/index.js";
import { wat } from "./wat.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const OPTS = { memoryPages: 64, initialFuel: 1_000_000n };

function wasmFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === "node_modules" || name === "toolchain") continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...wasmFiles(p));
    else if (name.endsWith(".wasm")) out.push(p);
  }
  return out;
}

const FIXTURES = readdirSync(join(root, "test/fixtures/wasm"))
  .filter((f) => f.endsWith(".wat") && f !== "reserved.wat")
  .map((f) => f.slice(0, -4));

function sameSurface(a: Uint8Array, b: Uint8Array): void {
  const ma = new WebAssembly.Module(a);
  const mb = new WebAssembly.Module(b);
  expect(WebAssembly.Module.imports(mb)).toEqual(WebAssembly.Module.imports(ma));
  const own = WebAssembly.Module.exports(mb).filter((e) => !e.name.startsWith("__wk_"));
  expect(own).toEqual(WebAssembly.Module.exports(ma));
}

describe("metering rewrite", () => {
  it("is deterministic and keeps the surface of every WAT fixture", () => {
    for (const name of FIXTURES) {
      const bytes = wat(name);
      const a = meter(bytes, OPTS).wasm;
      expect(hashBytes(meter(bytes, OPTS).wasm)).toBe(hashBytes(a));
      expect(WebAssembly.validate(a)).toBe(true);
      sameSurface(bytes, a);
    }
  });

  it("meters every module committed under modules/ into valid code", async () => {
    const files = wasmFiles(join(root, "modules"));
    for (const file of files) {
      const bytes = new Uint8Array(readFileSync(file));
      const cores =
        detectRuntimeKind(bytes) === "component"
          ? [...(await transpileComponent(file, hashBytes(bytes), bytes)).cores.values()]
          : [bytes];
      for (const core of cores) {
        const m = meter(core, { memoryPages: 4096, initialFuel: 1_000_000n }).wasm;
        expect(WebAssembly.validate(m), file).toBe(true);
        sameSurface(core, m);
      }
    }
  }, 60_000);

  it("counts exactly the instructions executed (7 + 8n for the count fixture)", () => {
    const ex = new WebAssembly.Instance(new WebAssembly.Module(meter(wat("count"), OPTS).wasm)).exports;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (n) => {
        (ex["__wk_arm"] as (f: bigint) => void)(1_000_000n);
        expect((ex["f"] as (n: number) => number)(n)).toBe(7);
        return 1_000_000n - (ex["__wk_fuel"] as () => bigint)() === BigInt(7 + 8 * n);
      }),
      { numRuns: 50 },
    );
  });

  it("charges fuel linearly in loop iterations (property)", () => {
    const bytes = wat("echo");
    const ex = new WebAssembly.Instance(new WebAssembly.Module(meter(bytes, OPTS).wasm), {
      "extism:host/env": {
        input_length: () => 0n,
        input_load_u64: () => 0n,
        alloc: () => 1n,
        store_u64: () => {},
        store_u8: () => {},
        output_set: () => {},
        input_load_u8: () => Number(n),
      },
    }).exports;
    let n = 0;
    const fuelFor = (k: number): bigint => {
      n = k;
      (ex["__wk_arm"] as (f: bigint) => void)(1_000_000n);
      (ex["loop_n"] as () => number)();
      return 1_000_000n - (ex["__wk_fuel"] as () => bigint)();
    };
    const base = fuelFor(0);
    const perIteration = fuelFor(1) - base;
    expect(perIteration).toBeGreaterThan(0n);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), (k) => fuelFor(k) === base + BigInt(k) * perIteration),
      { numRuns: 50 },
    );
  });
});

describe("metering refuses malformed bytes with WasmFormatError (meter is public: callers may skip validation)", () => {
  const HEADER = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const TYPES = [0x01, 0x04, 0x01, 0x60, 0x00, 0x00]; // one type: () -> ()
  const CODE = [0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]; // one body: no locals, end
  const refused = (bytes: number[], message: RegExp) => {
    expect(() => meter(Uint8Array.from(bytes), OPTS)).toThrow(
      expect.objectContaining({
        name: "WasmFormatError",
        code: "module.unsupported_feature",
        message: expect.stringMatching(message),
      }),
    );
  };

  it("a function whose type index is past the type section", () => {
    refused(
      [...HEADER, ...TYPES, 0x03, 0x02, 0x01, 0x05, ...CODE],
      /function type index 5 is out of range \(1 types\)/,
    );
    refused([...HEADER, 0x03, 0x02, 0x01, 0x00, ...CODE], /function type index 0 is out of range \(0 types\)/);
  });

  it("a function count larger than the function section", () => {
    refused(
      [...HEADER, ...TYPES, 0x03, 0x05, 0xff, 0xff, 0xff, 0xff, 0x0f],
      /declares 4294967295 functions in 0 bytes/,
    );
  });

  it("a global whose type is cut off", () => {
    refused([...HEADER, 0x06, 0x01, 0x01], /unexpected end/);
  });
});
