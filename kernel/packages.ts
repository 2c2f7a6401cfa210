/**
 * @module What is installed: a package's package.json and version as Node resolves it from
 * the kernel's own files — not from a repository-relative path — so compile receipts and
 * cache keys name the real versions also when worldkernel is installed as a dependency and
 * npm hoisted its tools beside it. And where the kernel keeps caches of its own: the user's
 * cache directory, never inside the installed package.
 */
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = createRequire(import.meta.url);

let root: string | undefined;

/**
 * The worldkernel package's own folder (where its package.json, `modules/` and `worlds/` live),
 * found by walking up from this file, so it is right both from the sources and from `dist/`.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, "package.json");
    if (existsSync(file) && (JSON.parse(readFileSync(file, "utf8")) as { name?: unknown }).name === "worldkernel")
      return (root = dir);
    if (dirname(dir) === dir)
      throw new Error(`worldkernel: no package.json of worldkernel above ${fileURLToPath(import.meta.url)}`);
  }
}

/** worldkernel's own package.json fields the shell reads. */
export function ownManifest(): { version: string; peerDependencies: Record<string, string> } {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as {
    version: string;
    peerDependencies?: Record<string, string>;
  };
  return { version: pkg.version, peerDependencies: pkg.peerDependencies ?? {} };
}

/**
 * The optional peer packages among `names` that are not installed, and the npm command that
 * installs them at the versions worldkernel is tested with; undefined when all are present.
 */
export function missingPeers(names: readonly string[]): { missing: string[]; install: string } | undefined {
  const missing = names.filter((n) => installedPackage(n) === undefined);
  if (missing.length === 0) return undefined;
  const pins = ownManifest().peerDependencies;
  return { missing, install: `npm install ${missing.map((n) => (pins[n] ? `${n}@${pins[n]}` : n)).join(" ")}` };
}

/** `name`'s package.json as `req` resolves it, with its version; undefined if not found or unreadable. */
export function installedPackage(
  name: string,
  req: NodeJS.Require = here,
): { file: string; version: string } | undefined {
  const read = (file: string): { file: string; version: string } | undefined => {
    try {
      const pkg = JSON.parse(readFileSync(file, "utf8")) as { name?: unknown; version?: unknown };
      return pkg.name === name && typeof pkg.version === "string" ? { file, version: pkg.version } : undefined;
    } catch {
      return undefined;
    }
  };
  try {
    return read(req.resolve(`${name}/package.json`));
  } catch {
    // Some packages' `exports` do not list ./package.json: walk up from the entry point instead.
  }
  let entry: string;
  try {
    entry = req.resolve(name);
  } catch {
    // An ESM-only package (an `import` condition and no `require`): ask the ESM resolver.
    try {
      entry = fileURLToPath(import.meta.resolve(name));
    } catch {
      return undefined;
    }
  }
  try {
    for (let dir = dirname(entry); ; dir = dirname(dir)) {
      const file = join(dir, "package.json");
      const found = existsSync(file) ? read(file) : undefined;
      if (found) return found;
      if (dirname(dir) === dir) return undefined;
    }
  } catch {
    return undefined;
  }
}

/** The installed version of `name`, or "not-installed". */
export function installedVersion(name: string): string {
  return installedPackage(name)?.version ?? "not-installed";
}

/** A directory for the kernel's own caches: `$WK_CACHE_DIR`, else `$XDG_CACHE_HOME/worldkernel`, else `~/.cache/worldkernel`. */
export function kernelCacheDir(...parts: string[]): string {
  const base = process.env.WK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "worldkernel");
  return join(base, ...parts);
}
