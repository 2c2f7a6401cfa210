/**
 * @module Where the builder finds SDKs and toolchains: everything is resolved from the
 * repository root (this file lives at kernel/adapters/compile/), never from the cwd, so
 * builds give the same bytes wherever `wk` is run.
 */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Absolute path of the repository root. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Absolute path of a repository-relative path. */
export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

/** The `version` field of an installed npm package (resolved under the repo root). */
export function packageVersion(pkgDir: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "unknown";
  } catch {
    return "not-installed";
  }
}
