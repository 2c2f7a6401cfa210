/**
 * @module JavaScript → WebAssembly component (world `worldkernel:module/module`) with
 * componentize-js. The source is bundled with esbuild first (relative imports such as
 * `../sdk/index.js` resolve beside the source, or beside modules/js/ for a bare source).
 * All WASI features are disabled, and the WIT is narrowed to the host functions the
 * source actually imports (componentize-js would otherwise import every function of the
 * world, and the kernel refuses to link an ungranted host call), so a module that uses no
 * host call imports nothing at all.
 * Componentizing is not byte-reproducible (the engine snapshot differs run to run) and
 * takes seconds, so outputs are cached under the user cache directory (kernel/packages.ts kernelCacheDir) by a hash
 * of the bundle, the WIT and the tool versions.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { installedVersion, kernelCacheDir } from "../../packages.js";
import { requireToolchain } from "./errors.js";
import { packagePath } from "./paths.js";
import { sourceText } from "./types.js";
import type { BuildResult, CompilerId } from "./types.js";

export const WIT_PATH = packagePath("kernel/wasm/wit/worldkernel.wit");
/** World by exports: `workflow` (step), `pure` (run), `module` (both). */
export function worldFor(code: string): "module" | "workflow" | "pure" {
  const names = new Set<string>();
  for (const m of code.matchAll(/export\s*\{([^}]*)\}/g)) {
    for (const part of (m[1] ?? "").split(","))
      names.add(
        part
          .trim()
          .split(/\s+as\s+/)
          .pop()
          ?.trim() ?? "",
      );
  }
  for (const m of code.matchAll(/export\s+(?:async\s+)?(?:const|let|var|function)\s+([A-Za-z_$][\w$]*)/g))
    names.add(m[1] ?? "");
  const step = names.has("step");
  const run = names.has("run");
  return step && run ? "module" : run ? "pure" : "workflow";
}
/** WASI features turned off in the engine: modules get no clock, randomness, stdio or network. */
export const DISABLED_FEATURES = ["random", "clocks", "stdio", "http", "fetch-event"] as const;
// In the user's cache directory: the installed package may be read-only, and is shared.
const CACHE_DIR = kernelCacheDir("js");

/** componentize-js's identity. */
export function jsCompiler(): CompilerId {
  return { name: "componentize-js", version: installedVersion("@bytecodealliance/componentize-js") };
}

interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number } | null;
}

/** Bundles the source into one ESM file; syntax and resolution errors become diagnostics. */
async function bundle(
  text: string,
  sourcePath?: string,
): Promise<{ ok: true; code: string } | { ok: false; diagnostics: string[] }> {
  const esbuild = await import("esbuild");
  const resolveDir = sourcePath === undefined ? packagePath("modules/js/.source") : dirname(resolve(sourcePath));
  try {
    const r = await esbuild.build({
      stdin: { contents: text, resolveDir, sourcefile: sourcePath ?? "module.js", loader: "js" },
      bundle: true,
      format: "esm",
      platform: "neutral",
      write: false,
      legalComments: "none",
      logLevel: "silent",
      external: ["worldkernel:*"],
    });
    return { ok: true, code: r.outputFiles[0]?.text ?? "" };
  } catch (e) {
    const errors = (e as { errors?: EsbuildMessage[] }).errors;
    if (!errors) return { ok: false, diagnostics: [String(e)] };
    return {
      ok: false,
      diagnostics: errors.map((m) =>
        m.location
          ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: error: ${m.text}`
          : `error: ${m.text}`,
      ),
    };
  }
}

/** Host functions (kebab-case WIT names) the bundle imports from worldkernel:module/host. */
export function usedHostFunctions(code: string): string[] {
  const used = new Set<string>();
  const re = /import\s*\{([^}]*)\}\s*from\s*["']worldkernel:module\/host(?:@[\w.]+)?["']/g;
  for (const m of code.matchAll(re)) {
    for (const part of (m[1] ?? "").split(",")) {
      const name = part
        .trim()
        .split(/\s+as\s+/)[0]
        ?.trim();
      if (name) used.add(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`));
    }
  }
  return [...used].sort();
}

/** The canonical WIT narrowed to `used` host functions (no `import host;` when none). */
export function narrowWit(wit: string, used: string[]): string {
  const iface = /interface host \{([\s\S]*?)\n\}/.exec(wit);
  if (!iface) return wit;
  const kept = (iface[1] ?? "")
    .split("\n")
    .filter((line) => {
      const fn = /^\s*([a-z][a-z0-9-]*)\s*:\s*func/.exec(line);
      return fn ? used.includes(fn[1] ?? "") : !/^\s*\/\/\//.test(line);
    })
    .join("\n");
  const narrowed = wit.replace(iface[0], `interface host {${kept}\n}`);
  return used.length > 0 ? narrowed : narrowed.replace(/^\s*import host;\s*$/gm, "");
}

/** Builds a JS source into a component (cached by content). */
export async function buildJs(source: Uint8Array | string, sourcePath?: string): Promise<BuildResult> {
  requireToolchain("js", ["esbuild", "@bytecodealliance/componentize-js", "@bytecodealliance/preview2-shim"]);
  const compiler = jsCompiler();
  const b = await bundle(sourceText(source), sourcePath);
  if (!b.ok) return { ok: false, compiler, diagnostics: b.diagnostics };
  const wit = narrowWit(await readFile(WIT_PATH, "utf8"), usedHostFunctions(b.code));
  const world = worldFor(b.code);
  const key = createHash("sha256")
    .update(JSON.stringify([compiler, installedVersion("esbuild"), DISABLED_FEATURES, world, wit, b.code]))
    .digest("hex");
  const cached = join(CACHE_DIR, `${key}.wasm`);
  if (existsSync(cached)) return { ok: true, wasm: new Uint8Array(await readFile(cached)), compiler, diagnostics: [] };

  const { componentize } = await import("@bytecodealliance/componentize-js");
  const { _setPreopens } = (await import("@bytecodealliance/preview2-shim/filesystem")) as unknown as {
    _setPreopens: (p: Record<string, string>) => void;
  };
  _setPreopens({ "/": "/" });
  const dir = await mkdtemp(join(tmpdir(), "wk-js-"));
  try {
    const entry = join(dir, "module.js");
    const witPath = join(dir, "worldkernel.wit");
    await writeFile(entry, b.code);
    await writeFile(witPath, wit);
    let component: Uint8Array;
    try {
      ({ component } = await componentize({
        sourcePath: entry,
        witPath,
        worldName: world,
        disableFeatures: [...DISABLED_FEATURES],
      }));
    } catch (e) {
      // Initialization errors (a throw at module top level, a missing export) are the source's fault.
      const msg = e instanceof Error ? e.message : String(e);
      return {
        ok: false,
        compiler,
        diagnostics: msg
          .split(dir + "/")
          .join("")
          .split("\n")
          .filter((l) => l.trim() !== ""),
      };
    }
    await mkdir(CACHE_DIR, { recursive: true, mode: 0o700 }); // wasm that later runs as modules: private to the owner
    await writeFile(cached, component);
    return { ok: true, wasm: new Uint8Array(component), compiler, diagnostics: [] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
