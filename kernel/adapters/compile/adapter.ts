/**
 * @module The `compile.module` adapter: source blob → wasm blob through the module builder.
 * A compile error is an `error` receipt carrying the diagnostics; the receipt records the
 * compiler's name and version, so a replayed world knows exactly what built its modules.
 */
import type { CborValue } from "../../../air/cbor/value.js";
import { AdapterError } from "../errors.js";
import { failed, finish, type EffectAdapter, type EffectOutcome, type EffectRequest } from "../adapter.js";
import { allowlist, hash, hashOut, readParams, record, text } from "../params.js";
import { LanguageSchema, type BuildRequest, type BuildResult } from "./types.js";

/** The builder's signature (injectable so a kernel can sandbox or pool it). */
export type BuildFn = (req: BuildRequest) => Promise<BuildResult>;

// Loaded on first use: the compilers are heavy and most kernels never compile.
const defaultBuild: BuildFn = async (req) => (await import("./build.js")).buildModule(req);

/** Checks the language against the grant's `languages`; null = allowed. */
export function checkCompileAllowed(
  params: CborValue,
  grantParams: CborValue,
): { code: string; message: string } | null {
  try {
    const language = text("compile.module", record("compile.module", params), "language");
    const allowed = allowlist("compile.module", grantParams, "languages", "string");
    if (allowed && !allowed.includes(language))
      return { code: "language_not_allowed", message: `language ${language} is not in the grant's languages` };
    return null;
  } catch (e) {
    if (e instanceof AdapterError) return { code: "invalid_params", message: e.message };
    throw e;
  }
}

/** Creates the `compile.module` adapter over `build` (default: the in-tree builder, loaded lazily). */
export function createCompileAdapter(config: { build?: BuildFn; maxSourceBytes?: number } = {}): EffectAdapter {
  const build = config.build ?? defaultBuild;
  const maxSourceBytes = config.maxSourceBytes ?? 4 << 20;
  return {
    id: "worldkernel.compile",
    version: "1.0.0",
    kinds: ["compile.module"],
    perform: (req) => performCompile(req, build, maxSourceBytes),
  };
}

async function performCompile(req: EffectRequest, build: BuildFn, maxSourceBytes: number): Promise<EffectOutcome> {
  const started = req.nowNs();
  const denial = checkCompileAllowed(req.params, req.grant.params);
  if (denial) return failed(req, started, denial.code, denial.message);
  const read = readParams(req.kind, req.params, (p) => ({
    language: text(req.kind, p, "language"),
    sourceRef: hash(req.kind, p, "source_ref"),
  }));
  if (!read.ok) return failed(req, started, "invalid_params", read.message);
  const { language, sourceRef } = read.value;
  const lang = LanguageSchema.safeParse(language);
  if (!lang.success)
    return failed(
      req,
      started,
      "unsupported_language",
      `language ${JSON.stringify(language)} is not one of ${LanguageSchema.options.join(", ")}`,
    );
  let source: Uint8Array;
  try {
    source = req.blobs.get(sourceRef);
  } catch (e) {
    return failed(req, started, "blob_not_found", `source ${sourceRef} is not in the CAS: ${(e as Error).message}`);
  }
  if (source.length > maxSourceBytes)
    return failed(req, started, "source_too_large", `source is ${source.length} bytes; the limit is ${maxSourceBytes}`);

  let r: BuildResult;
  try {
    r = await build({ language: lang.data, source });
  } catch (e) {
    // A missing toolchain is an outside failure of this machine, not a kernel bug.
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && code.startsWith("compile."))
      return failed(req, started, code.slice("compile.".length), (e as Error).message, { source_ref: sourceRef });
    throw e;
  }
  const base: Record<string, CborValue> = {
    compiler: r.compiler.name,
    compiler_version: r.compiler.version,
    source_ref: hashOut(sourceRef),
    diagnostics: r.diagnostics,
  };
  // Both shapes follow sys/CompileModuleReceipt@1 (wasm_ref is an option: null on failure).
  if (!r.ok)
    return finish(req, started, "error", {
      ...base,
      wasm_ref: null,
      code: "compile_failed",
      message: `${language} source did not compile (${r.diagnostics.length} diagnostic(s))`,
    });
  return finish(req, started, "ok", { ...base, wasm_ref: hashOut(req.blobs.put(r.wasm)) });
}
