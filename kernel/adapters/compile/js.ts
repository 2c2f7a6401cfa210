/**
 * @module JavaScript → WebAssembly component (world `worldkernel:module/module`) with
 * componentize-js. The source is bundled with esbuild first (relative imports such as
 * `../sdk/index.js` resolve beside the source, or beside modules/js/ for a bare source).
 * All WASI features are disabled, so the component imports only the host interface.
 * Componentizing is not byte-reproducible (the engine snapshot differs run to run) and
 * takes seconds, so outputs are cached under node_modules/.cache/worldkernel/js by a hash
 * of the bundle, the WIT and the tool versions.
 */
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { packageVersion, repoPath } from "./paths.js";
import { sourceText } from "./types.js";
import type { BuildResult, CompilerId } from "./types.js";

export const WIT_PATH = repoPath("kernel/wasm/wit/worldkernel.wit");
export const WORLD = "module";
/** WASI features turned off in the engine: modules get no clock, randomness, stdio or network. */
export const DISABLED_FEATURES = ["random", "clocks", "stdio", "http", "fetch-event"] as const;
const CACHE_DIR = repoPath("node_modules/.cache/worldkernel/js");

/** componentize-js's identity. */
export function jsCompiler(): CompilerId {
  return { name: "componentize-js", version: packageVersion(repoPath("node_modules/@bytecodealliance/componentize-js")) };
}

interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number } | null;
}

/** Bundles the source into one ESM file; syntax and resolution errors become diagnostics. */
async function bundle(text: string, sourcePath?: string): Promise<{ ok: true; code: string } | { ok: false; diagnostics: string[] }> {
  const esbuild = await import("esbuild");
  const resolveDir = sourcePath === undefined ? repoPath("modules/js/.source") : dirname(resolve(sourcePath));
  try {
    const r = await esbuild.build({
      stdin: { contents: text, resolveDir, sourcefile: sourcePath ?? "module.js", loader: "js" },
      bundle: true, format: "esm", platform: "neutral", write: false, legalComments: "none", logLevel: "silent",
    });
    return { ok: true, code: r.outputFiles[0]?.text ?? "" };
  } catch (e) {
    const errors = (e as { errors?: EsbuildMessage[] }).errors;
    if (!errors) return { ok: false, diagnostics: [String(e)] };
    return { ok: false, diagnostics: errors.map((m) => (m.location ? `${m.location.file}:${m.location.line}:${m.location.column + 1}: error: ${m.text}` : `error: ${m.text}`)) };
  }
}

/** Builds a JS source into a component (cached by content). */
export async function buildJs(source: Uint8Array | string, sourcePath?: string): Promise<BuildResult> {
  const compiler = jsCompiler();
  const b = await bundle(sourceText(source), sourcePath);
  if (!b.ok) return { ok: false, compiler, diagnostics: b.diagnostics };
  const wit = await readFile(WIT_PATH, "utf8");
  const key = createHash("sha256")
    .update(JSON.stringify([compiler, packageVersion(repoPath("node_modules/esbuild")), DISABLED_FEATURES, WORLD, wit, b.code]))
    .digest("hex");
  const cached = join(CACHE_DIR, `${key}.wasm`);
  if (existsSync(cached)) return { ok: true, wasm: new Uint8Array(await readFile(cached)), compiler, diagnostics: [] };

  const { componentize } = await import("@bytecodealliance/componentize-js");
  const { _setPreopens } = (await import("@bytecodealliance/preview2-shim/filesystem")) as unknown as { _setPreopens: (p: Record<string, string>) => void };
  _setPreopens({ "/": "/" });
  const dir = await mkdtemp(join(tmpdir(), "wk-js-"));
  try {
    const entry = join(dir, "module.js");
    await writeFile(entry, b.code);
    let component: Uint8Array;
    try {
      ({ component } = await componentize({ sourcePath: entry, witPath: WIT_PATH, worldName: WORLD, disableFeatures: [...DISABLED_FEATURES] }));
    } catch (e) {
      // Initialization errors (a throw at module top level, a missing export) are the source's fault.
      const msg = e instanceof Error ? e.message : String(e);
      return { ok: false, compiler, diagnostics: msg.split(dir + "/").join("").split("\n").filter((l) => l.trim() !== "") };
    }
    await mkdir(CACHE_DIR, { recursive: true });
    await writeFile(cached, component);
    return { ok: true, wasm: new Uint8Array(component), compiler, diagnostics: [] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
