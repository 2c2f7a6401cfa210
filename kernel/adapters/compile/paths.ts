/**
 * @module Where the builder finds SDKs and toolchains: everything is resolved from the
 * worldkernel package's folder (a checkout or `node_modules/worldkernel`), never from the cwd,
 * so builds give the same bytes wherever `wk` is run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../../packages.js";

/** Absolute path of the worldkernel package folder. */
export const PACKAGE_ROOT = packageRoot();

/** Absolute path of a package-relative path. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}

/** The `version` field of the npm package installed in `pkgDir`, or "not-installed". */
export function packageVersion(pkgDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "not-installed";
  }
}
