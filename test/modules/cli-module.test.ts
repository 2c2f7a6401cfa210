/**
 * @module `wk module build` through commander: writes the wasm, exits 1 on a compile error
 * (diagnostics on stderr) and 2 on an unknown extension.
 */
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { describe, expect, it, vi } from "vitest";
import { registerModule } from "../../tools/cli/commands/module.js";
import { packagePath } from "../../kernel/adapters/compile/paths.js";

async function wk(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const program = new Command("wk").exitOverride();
  registerModule(program);
  let stdout = "";
  let stderr = "";
  const out = vi.spyOn(process.stdout, "write").mockImplementation((c) => ((stdout += String(c)), true));
  const err = vi.spyOn(process.stderr, "write").mockImplementation((c) => ((stderr += String(c)), true));
  try {
    await program.parseAsync(["node", "wk", ...args]);
    return { exitCode: 0, stdout, stderr };
  } catch (e) {
    return { exitCode: (e as { exitCode?: number }).exitCode ?? -1, stdout, stderr: stderr + (e as Error).message };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe("wk module build", () => {
  const dir = mkdtempSync(join(tmpdir(), "wk-module-cli-"));

  it("builds a .wat file to the -o path, identical to the committed counter", async () => {
    const out = join(dir, "counter.wasm");
    const r = await wk("module", "build", packagePath("modules/wat/counter.wat"), "-o", out, "--json");
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, language: "wat", bytes: 1866, compiler: { name: "wabt" } });
    expect(Buffer.compare(readFileSync(out), readFileSync(packagePath("modules/wat/counter.wasm")))).toBe(0);
  });

  it("exits 1 with the diagnostic on a compile error", async () => {
    const src = join(dir, "bad.wat");
    writeFileSync(src, "(module\n  (func oops)\n)\n");
    const r = await wk("module", "build", src, "-o", join(dir, "bad.wasm"));
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/bad\.wat:2:/);
  });

  it("exits 2 when the extension names no language", async () => {
    const r = await wk("module", "build", join(dir, "x.rs"), "-o", join(dir, "x.wasm"));
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/cannot tell the language/);
  });
});
