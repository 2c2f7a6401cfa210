/**
 * @module Builds dist/ once before the suite (incremental tsc, a few seconds), so the CLI
 * tests run `wk` as users do: bin/wk.js over the compiled package, with no loader. Type errors
 * do not stop the suite (tsc still emits; `npm run typecheck` is the check for them), but a
 * build that leaves no CLI does.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** vitest global setup: build the package's dist/. */
export default function setup(): void {
  const script = fileURLToPath(new URL("../tools/build/dist.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
  if (r.status === 0) return;
  if (!existsSync(new URL("../dist/tools/cli/main.js", import.meta.url)))
    throw new Error(`building dist/ failed:\n${r.stdout}${r.stderr}`);
  process.stderr.write(`warning: dist/ was built with type errors (run npm run typecheck):\n${r.stdout}${r.stderr}`);
}
