#!/usr/bin/env node
// Runs the TypeScript CLI with tsx's loader so `wk` works straight from a checkout, from any
// working directory. The loader is imported by absolute URL (no re-exec), so node flags apply.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { createRequire } from "node:module";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const loader = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
const args = ["--disable-warning=ExperimentalWarning", "--import", loader, join(root, "tools/cli/main.ts"), ...process.argv.slice(2)];
const r = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(r.status ?? 1);
