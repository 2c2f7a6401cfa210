/**
 * @module WAT → wasm in-process with the npm `wabt` build (no subprocess): backs the
 * `compile.module` effect, so it must be deterministic and never throw on bad input.
 */
import type wabtInit from "wabt";
import { installedVersion } from "../../packages.js";
import { requireToolchain } from "./errors.js";
import { sourceText } from "./types.js";
import type { BuildResult, CompilerId } from "./types.js";

type Wabt = Awaited<ReturnType<typeof wabtInit>>;
let wabt: Promise<Wabt> | undefined;

/** The compiler identity recorded in receipts. */
export function watCompiler(): CompilerId {
  return { name: "wabt", version: installedVersion("wabt") };
}

/** Assembles WAT text; parse and validation errors come back as diagnostics with line:col. */
export async function buildWat(source: Uint8Array | string, sourcePath = "module.wat"): Promise<BuildResult> {
  requireToolchain("wat", ["wabt"]);
  const compiler = watCompiler();
  wabt ??= import("wabt").then((m) => m.default());
  const w = await wabt;
  let mod: ReturnType<Wabt["parseWat"]> | undefined;
  try {
    mod = w.parseWat(sourcePath, sourceText(source), { multi_value: true, mutable_globals: true, bulk_memory: true });
    mod.resolveNames();
    mod.validate();
    const { buffer } = mod.toBinary({ log: false, write_debug_names: false });
    return { ok: true, wasm: new Uint8Array(buffer), compiler, diagnostics: [] };
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    return { ok: false, compiler, diagnostics: text.split("\n").filter((l) => l.trim() !== "") };
  } finally {
    mod?.destroy();
  }
}
