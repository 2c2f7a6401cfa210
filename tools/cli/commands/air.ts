/**
 * @module `wk air check|hash|schema`: validate an AIR folder (every problem with its file
 * and JSON path), print the identity of a JSON file or def, print the AIR JSON Schema.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { airJsonSchema } from "../../../air/json-schema.js";
import { hashDefJson } from "../../../air/defs.js";
import { hashValue } from "../../../air/hash.js";
import { jsonToCbor, parseJsonLossless } from "../../../air/json.js";
import { loadAirDir, resolveWasmSugar } from "../../../kernel/air-dir.js";
import { catalogWarnings, warningLine } from "../../../kernel/air-warnings.js";
import { CliExit, EXIT, onFile, printJson } from "../io.js";

/** Registers the `air` command group. */
export function registerAir(program: Command): void {
  const air = program.command("air").description("AIR definitions: check, hash, JSON Schema");

  air
    .command("check <air-dir>")
    .description("load and resolve an AIR folder; report every problem with its JSON path")
    .option("--json", "machine-readable report")
    .action((dir: string, opts: { json?: boolean }) => {
      const r = loadAirDir(dir);
      // Warnings (a world that can never be upgraded, a module that cannot load) never change the exit code.
      const warnings = r.ok ? catalogWarnings(r.catalog, r.wasm) : [];
      for (const w of warnings) process.stderr.write(warningLine(w) + "\n");
      if (opts.json) {
        printJson(
          r.ok
            ? { ok: true, manifest_hash: r.catalog.manifestHash, defs: r.catalog.sources.length, warnings }
            : { ok: false, issues: r.issues, warnings },
        );
      } else if (r.ok) {
        process.stdout.write(`ok: ${r.catalog.sources.length} defs, manifest ${r.catalog.manifestHash}\n`);
      } else {
        for (const i of r.issues) process.stdout.write(`${i.file ?? "-"}: ${i.path}: ${i.code}: ${i.message}\n`);
        process.stdout.write(`${r.issues.length} problem(s)\n`);
      }
      if (!r.ok) throw new CliExit(EXIT.check_failed, "");
    });

  air
    .command("hash <file>")
    .description("sha256 of the canonical CBOR of a JSON file (with --def: of the AIR def it holds)")
    .option("--def", "load the file as an AIR def (either lens) and hash its canonical form")
    .option("--json", "machine-readable output")
    .action((file: string, opts: { def?: boolean; json?: boolean }) => {
      const text = onFile("read", file, () => readFileSync(file, "utf8"));
      const value = parseJsonLossless(text, file);
      // A defmodule may name its binary by path (`"wasm": "…"`): hash the def as the loader would see it.
      const hash = opts.def ? hashDefJson(resolveWasmSugar(value, file)) : hashValue(jsonToCbor(value));
      if (opts.json) printJson({ file, hash, def: opts.def === true });
      else process.stdout.write(hash + "\n");
    });

  air
    .command("schema")
    .description("print the JSON Schema for AIR files (for editor completion)")
    .option("--json", "accepted for uniformity (the schema is always JSON)")
    .action(() => printJson(airJsonSchema()));
}
