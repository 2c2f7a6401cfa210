/**
 * @module Builds the web console of `wk serve` (tools/serve/console) into a directory, by
 * default `dist/console`: one minified ES module `app.js` bundled by esbuild, beside
 * `index.html` and `styles.css`. Used by tools/build/dist.mjs and by the console's browser
 * test (which builds into a temporary directory). esbuild is a devDependency and an optional
 * peer, loaded only here: without it the console is skipped with a message, not an error.
 */
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const src = join(root, "tools/serve/console");

/** The console's default output directory. */
export const defaultConsoleOut = join(root, "dist/console");

/**
 * Bundles the console into `outdir`; resolves `{ built: true, outdir }`, or `{ built: false, reason }`
 * when esbuild is not installed (a bundling error still rejects).
 */
export async function buildConsole({ outdir = defaultConsoleOut } = {}) {
  let esbuild;
  try {
    esbuild = await import("esbuild");
  } catch (e) {
    // Only a missing package is expected; a broken install should say so.
    if (e?.code !== "ERR_MODULE_NOT_FOUND") throw e;
    return {
      built: false,
      reason:
        "esbuild is not installed (a devDependency): the web console was not built; npm install esbuild to build it",
    };
  }
  mkdirSync(outdir, { recursive: true });
  await esbuild.build({
    entryPoints: { app: join(src, "main.ts") },
    bundle: true,
    format: "esm",
    minify: true,
    outdir,
    platform: "browser",
    target: "es2022",
    // Resolve against the console's own tsconfig (browser settings), not the root one.
    tsconfig: join(src, "tsconfig.json"),
    legalComments: "none",
    logLevel: "warning",
  });
  for (const f of ["index.html", "styles.css"]) copyFileSync(join(src, f), join(outdir, f));
  return { built: true, outdir };
}
