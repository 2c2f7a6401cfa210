/**
 * @module Builds dist/ once before the suite (incremental tsc, a few seconds), so the CLI
 * tests run `wk` as users do: bin/wk.js over the compiled package, with no loader.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** vitest global setup: build the package's dist/. */
export default function setup(): void {
  const script = fileURLToPath(new URL("../tools/build/dist.mjs", import.meta.url));
  const r = spawnSync(process.execPath, [script], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`building dist/ failed:\n${r.stdout}${r.stderr}`);
}
