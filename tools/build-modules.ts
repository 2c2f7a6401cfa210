/**
 * @module `npm run build`: builds every example module listed in modules/catalog.json.
 * `--check` rebuilds the committed outputs and fails (exit 1) on any byte difference,
 * which is how CI proves the checked-in .wasm files come from the checked-in sources.
 * `--only <lang,...>` limits the run. Zig is installed on demand into modules/zig/toolchain.
 */
import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { buildModule } from "../kernel/adapters/compile/index.js";
import type { Language } from "../kernel/adapters/compile/index.js";
import { packagePath } from "../kernel/adapters/compile/paths.js";

/** One entry of modules/catalog.json. */
export interface CatalogEntry {
  name: string;
  language: Language;
  source: string;
  out: string;
  committed: boolean;
}

/** The example modules, from modules/catalog.json. */
export function readCatalog(): CatalogEntry[] {
  return (JSON.parse(readFileSync(packagePath("modules/catalog.json"), "utf8")) as { modules: CatalogEntry[] }).modules;
}

interface Outcome {
  name: string;
  status: "built" | "same" | "differs" | "failed" | "skipped";
  bytes?: number;
  ms: number;
  note?: string;
}

async function buildOne(m: CatalogEntry, check: boolean): Promise<Outcome> {
  const t0 = performance.now();
  const ms = () => Math.round(performance.now() - t0);
  if (check && !m.committed)
    return { name: m.name, status: "skipped", ms: 0, note: "not committed (not byte-reproducible)" };
  const src = packagePath(m.source);
  const r = await buildModule(
    { language: m.language, source: readFileSync(src), sourcePath: src },
    { installToolchain: true },
  );
  if (!r.ok) return { name: m.name, status: "failed", ms: ms(), note: r.diagnostics.join("\n") };
  const out = packagePath(m.out);
  if (check) {
    const committed = existsSync(out) ? readFileSync(out) : undefined;
    const same = committed !== undefined && Buffer.compare(committed, r.wasm) === 0;
    return {
      name: m.name,
      status: same ? "same" : "differs",
      bytes: r.wasm.length,
      ms: ms(),
      note: same
        ? `${r.compiler.name} ${r.compiler.version}`
        : `committed ${committed?.length ?? "missing"} bytes, rebuilt ${r.wasm.length}`,
    };
  }
  writeFileSync(out, r.wasm);
  return {
    name: m.name,
    status: "built",
    bytes: r.wasm.length,
    ms: ms(),
    note: `${r.compiler.name} ${r.compiler.version} → ${m.out}`,
  };
}

async function main(argv: string[]): Promise<number> {
  const check = argv.includes("--check");
  const onlyAt = argv.indexOf("--only");
  const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? "").split(",")) : undefined;
  let failed = 0;
  for (const m of readCatalog()) {
    if (only && !only.has(m.language)) continue;
    let o: Outcome;
    try {
      o = await buildOne(m, check);
    } catch (e) {
      o = {
        name: m.name,
        status: "failed",
        ms: 0,
        note: `${(e as { code?: string }).code ?? "error"}: ${(e as Error).message}`,
      };
    }
    if (o.status === "failed" || o.status === "differs") failed++;
    const size = o.bytes === undefined ? "" : ` ${o.bytes} B`;
    process.stdout.write(`${o.status.padEnd(7)} ${o.name}${size} ${o.ms} ms${o.note ? `  ${o.note}` : ""}\n`);
  }
  if (failed > 0)
    process.stderr.write(`${failed} module(s) ${check ? "differ from their sources or failed" : "failed to build"}\n`);
  return failed > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
