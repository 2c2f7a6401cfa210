/**
 * @module C → Extism plugin with Debian clang + lld (wasm32, freestanding, no libc). The
 * source is compiled in a scratch layout `src/<name>.c` + `sdk/wk.{h,c}` so
 * `#include "../sdk/wk.h"` works for any source; no debug info or paths reach the output,
 * so the bytes depend only on the sources and the clang version.
 */
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { packagePath } from "./paths.js";
import { buildInScratch, run } from "./process.js";
import type { BuildResult, CompilerId } from "./types.js";

/** Flags every C module is built with; part of the build's identity. */
export const CLANG_FLAGS = [
  "--target=wasm32",
  "-nostdlib",
  "-ffreestanding",
  "-fno-builtin",
  "-mbulk-memory",
  "-O2",
  "-g0",
  "-Wall",
  "-Wextra",
  "-fno-color-diagnostics",
  "-Wl,--no-entry",
  "-Wl,--strip-all",
  "-Wl,-z,stack-size=65536",
] as const;

/**
 * The environment clang runs in. clang ≥ 14 post-processes its output with `wasm-opt`
 * whenever one is on PATH (node_modules/.bin has binaryen's), which would make the bytes
 * depend on the caller's PATH; directories holding a wasm-opt are dropped.
 */
function clangEnv(): NodeJS.ProcessEnv {
  const path = (process.env.PATH ?? "").split(delimiter).filter((d) => d !== "" && !existsSync(join(d, "wasm-opt")));
  return { ...process.env, PATH: path.join(delimiter) };
}

let cachedVersion: Promise<CompilerId> | undefined;

/** clang's name and version (`clang --version`), or a toolchain_missing error. */
export function clangCompiler(): Promise<CompilerId> {
  cachedVersion ??= run("clang", ["--version"], { cwd: tmpdir(), env: clangEnv() }).then((r) => {
    const m = /clang version (\S+)/.exec(r.stdout);
    return { name: "clang", version: m?.[1] ?? "unknown" };
  });
  return cachedVersion;
}

/** Compiles one C file against the worldkernel C SDK. */
export async function buildC(source: Uint8Array | string, sourcePath?: string): Promise<BuildResult> {
  const extra = sourcePath === undefined ? [] : ["-iquote", dirname(resolve(sourcePath))];
  return buildInScratch({
    language: "c",
    ext: "c",
    source,
    sourcePath,
    sdk: ["wk.h", "wk.c"].map((f) => packagePath("modules/c/sdk", f)),
    compiler: await clangCompiler(),
    invoke: (dir, name) =>
      run("clang", [...CLANG_FLAGS, ...extra, "-o", "out.wasm", `src/${name}`, "sdk/wk.c"], {
        cwd: dir,
        env: clangEnv(),
      }),
  });
}
