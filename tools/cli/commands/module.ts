/**
 * @module `wk module build <source> -o <out.wasm>`: compile a module source with the
 * builder, language chosen by extension (.ts AssemblyScript, .wat, .c, .zig, .js).
 * Diagnostics go to stderr (with --json, into the report or the error record); a compile
 * error exits 1 (`cli.build_failed`), an unknown extension exits 2.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import type { Command } from "commander";
import { hashBytes } from "../../../air/hash.js";
import { buildModule, languageOf, LanguageSchema } from "../../../kernel/adapters/compile/index.js";
import type { Language } from "../../../kernel/adapters/compile/index.js";
import { CliExit, EXIT, onFile, printJson } from "../io.js";

/** Registers the `module` command group. */
export function registerModule(program: Command): void {
  const mod = program.command("module").description("WASM modules: build from source");

  mod
    .command("build <source>")
    .description("compile a module source (.ts AssemblyScript, .wat, .c, .zig, .js component) to wasm")
    .requiredOption("-o, --out <file>", "where to write the .wasm")
    .option("--language <lang>", `override the extension: ${LanguageSchema.options.join(", ")}`)
    .option("--json", "machine-readable report")
    .action(async (source: string, opts: { out: string; language?: string; json?: boolean }) => {
      const language = pickLanguage(source, opts.language);
      const text: Uint8Array = onFile("read", source, () => readFileSync(source));
      const t0 = performance.now();
      const r = await buildModule({ language, source: text, sourcePath: source }, { installToolchain: true });
      const ms = Math.round(performance.now() - t0);
      if (!opts.json) for (const d of r.diagnostics) process.stderr.write(d + "\n");
      // A compile error: the one error format, with the compiler's diagnostics in the --json record.
      if (!r.ok)
        throw new CliExit(EXIT.check_failed, `${source}: ${language} build failed`, {
          code: "cli.build_failed",
          ...(opts.json ? { fields: { language, compiler: r.compiler, diagnostics: r.diagnostics, ms } } : {}),
        });
      onFile("write", opts.out, () => writeFileSync(opts.out, r.wasm));
      if (opts.json)
        printJson({
          ok: true,
          language,
          out: opts.out,
          bytes: r.wasm.length,
          hash: hashBytes(r.wasm),
          compiler: r.compiler,
          diagnostics: r.diagnostics,
          ms,
        });
      else
        process.stdout.write(
          `${opts.out}: ${r.wasm.length} bytes, ${hashBytes(r.wasm)} (${r.compiler.name} ${r.compiler.version}, ${ms} ms)\n`,
        );
    });
}

function pickLanguage(source: string, override: string | undefined): Language {
  if (override !== undefined) {
    const p = LanguageSchema.safeParse(override);
    if (!p.success)
      throw new CliExit(
        EXIT.usage,
        `unknown --language ${override}; expected one of ${LanguageSchema.options.join(", ")}`,
      );
    return p.data;
  }
  const lang = languageOf(source);
  if (lang === undefined)
    throw new CliExit(
      EXIT.usage,
      `cannot tell the language of ${source}: use .ts, .wat, .c, .zig or .js, or pass --language`,
    );
  return lang;
}
