#!/usr/bin/env node
/**
 * @module Builds the package's `dist/`: `tsc -p tsconfig.build.json` (ESM `.js`, `.d.ts`,
 * source maps) plus the non-TypeScript files the compiled code loads beside itself, and the
 * web console of `wk serve` (`dist/console`, bundled by esbuild: tools/build/console.mjs).
 * Plain JavaScript so it runs from `npm install` (the `prepare` script) before anything is built.
 * Calls the pinned compiler by path: jco pulls another TypeScript that may own `.bin/tsc`.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildConsole } from "./console.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const tsc = join(dirname(createRequire(import.meta.url).resolve("typescript/package.json")), "bin/tsc");
const r = spawnSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
if (r.status !== 0) process.exit(r.status ?? 1);

// Files the compiled modules open by URL relative to themselves.
for (const file of ["kernel/adapters/compile/asc-worker.mjs", "kernel/journal/chain-lane-worker.mjs"]) {
  mkdirSync(dirname(join(root, "dist", file)), { recursive: true });
  copyFileSync(join(root, file), join(root, "dist", file));
}

// The console is browser code outside tsc's build; without esbuild the server says it is not built.
const built = await buildConsole();
if (!built.built) process.stderr.write(`dist.mjs: ${built.reason}\n`);
