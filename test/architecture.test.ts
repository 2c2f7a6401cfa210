/**
 * @module House rules as a test (our lint): `air/` and `kernel/core/` read no clock, no
 * randomness, no environment, no files and no network, and never import the layers above
 * them; the offline verifier imports neither SQLite nor WASM code; modules/ and worlds/
 * are never imported by the kernel.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = new URL("../", import.meta.url).pathname;

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(ROOT, dir))) {
    const p = join(dir, name);
    if (statSync(join(ROOT, p)).isDirectory()) out.push(...files(p));
    else if (p.endsWith(".ts")) out.push(p);
  }
  return out;
}

const BANNED: [RegExp, string][] = [
  [/\bDate\.now\b|\bnew Date\b/, "reads the clock"],
  [/\bperformance\.now\b|\bprocess\.hrtime\b/, "reads the clock"],
  [/\bMath\.random\b|\brandomBytes\b|\brandomUUID\b|\bgetRandomValues\b|randomSecretKey/, "reads randomness"],
  [/\bprocess\.env\b|\bprocess\.argv\b/, "reads the environment"],
  [/\bsetTimeout\b|\bsetInterval\b|\bsetImmediate\b|\bWeakRef\b|\bFinalizationRegistry\b/, "depends on scheduling"],
  [/from "node:(fs|net|http|https|dns|child_process|os|worker_threads)"/, "touches the outside world"],
  [/\bfetch\(/, "touches the network"],
];

function imports(file: string): string[] {
  return [...readFileSync(join(ROOT, file), "utf8").matchAll(/from "([^"]+)"/g)].map((m) => m[1]!);
}

describe("determinism of the pure layers", () => {
  for (const file of [...files("air"), ...files("kernel/core")]) {
    it(`${file} has no ambient nondeterminism`, () => {
      const text = readFileSync(join(ROOT, file), "utf8").replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, "");
      for (const [re, why] of BANNED) expect(re.test(text), `${file} ${why} (${re})`).toBe(false);
    });
  }
});

describe("one-way layers", () => {
  it("air imports nothing from kernel, tools, modules or worlds", () => {
    for (const f of files("air")) for (const i of imports(f)) expect(i, f).not.toMatch(/\/(kernel|tools|modules|worlds)\//);
  });
  it("kernel/core imports only air and itself", () => {
    for (const f of files("kernel/core")) {
      for (const i of imports(f).filter((x) => x.startsWith("."))) expect(i, f).toMatch(/^\.\/|^\.\.\/\.\.\/air\//);
    }
  });
  it("the kernel never imports tools, modules or worlds", () => {
    for (const f of files("kernel")) for (const i of imports(f)) expect(i, f).not.toMatch(/\/(tools|modules|worlds)\//);
  });
  it("the offline verifier's import graph holds no SQLite, WASM, journal or adapter code", () => {
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const i of imports(file)) {
        expect(i, `${file} imports ${i}`).not.toMatch(/better-sqlite3|extism|jco|\/journal\/|\/wasm\/|\/adapters\/|\/world\//);
        if (i.startsWith(".")) walk(relative(ROOT, join(ROOT, file, "..", i.replace(/\.js$/, ".ts"))));
      }
    };
    walk("kernel/crypto/verify-bundle.ts");
    expect(seen.size).toBeGreaterThan(3);
  });
});
