/**
 * @module `npm run bench`: runs every `*.bench.ts` in this folder (or those named on the
 * command line) and prints each figure with its same-run baseline and ratio.
 */
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { report, type Bench } from "./harness.js";

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

console.log(
  `worldkernel benchmarks — ${new Date().toISOString()} — node ${process.version}, ${(await import("node:os")).cpus().length} cores`,
);
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { benchmarks: Bench[] };
  for (const b of mod.benchmarks) {
    const results = await b.run();
    for (const r of Array.isArray(results) ? results : [results]) console.log(report(r));
  }
}
