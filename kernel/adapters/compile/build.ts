/**
 * @module The module builder: one entry point, `buildModule`, dispatching by language.
 * AssemblyScript and WAT compile in-process (they back the `compile.module` effect);
 * C, Zig and JS shell out to their toolchains. A compile error is `ok: false` with
 * diagnostics naming file:line; only a missing toolchain throws (`compile.toolchain_missing`).
 */
import { buildAssemblyScript } from "./assemblyscript.js";
import { buildC } from "./c.js";
import { CompileError } from "./errors.js";
import { buildJs } from "./js.js";
import { buildWat } from "./wat.js";
import { buildZig } from "./zig.js";
import type { BuildRequest, BuildResult, Language } from "./types.js";

/** Options beyond the request: whether a missing heavy toolchain (Zig) may be installed. */
export interface BuildOptions {
  installToolchain?: boolean;
}

/** Compiles a module source to wasm bytes (a core module, or a component for JS). */
export async function buildModule(req: BuildRequest, opts: BuildOptions = {}): Promise<BuildResult> {
  switch (req.language) {
    case "assemblyscript":
      return buildAssemblyScript(req.source, req.sourcePath);
    case "wat":
      return buildWat(req.source, req.sourcePath);
    case "c":
      return buildC(req.source, req.sourcePath);
    case "zig":
      return buildZig(req.source, req.sourcePath, opts.installToolchain ?? false);
    case "js":
      return buildJs(req.source, req.sourcePath);
    default:
      throw new CompileError("compile.unknown_language", `unknown language ${JSON.stringify(req.language)}`, {
        language: String(req.language),
      });
  }
}

const EXTENSIONS: Record<string, Language> = {
  ".ts": "assemblyscript",
  ".wat": "wat",
  ".c": "c",
  ".zig": "zig",
  ".js": "js",
  ".mjs": "js",
};

/** The language a source file is written in, by its extension; undefined when unknown. */
export function languageOf(path: string): Language | undefined {
  const dot = path.lastIndexOf(".");
  return dot < 0 ? undefined : EXTENSIONS[path.slice(dot).toLowerCase()];
}
