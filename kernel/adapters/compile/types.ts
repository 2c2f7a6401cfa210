/**
 * @module Request and result types of the module builder. A compile error is data
 * (`ok: false` with diagnostics), never a throw: it becomes a receipt payload.
 */
import { z } from "zod";

/** Languages the builder knows. AssemblyScript and WAT compile in-process. */
export const LanguageSchema = z.enum(["assemblyscript", "wat", "c", "zig", "js"]);
export type Language = z.infer<typeof LanguageSchema>;

/** What to build: the source text or bytes, and optionally where it lives on disk. */
export interface BuildRequest {
  language: Language;
  source: Uint8Array | string;
  /** Real path of the source; relative imports (AssemblyScript, C includes) resolve beside it. */
  sourcePath?: string;
}

/** Name and version of the compiler that produced (or refused) the output; goes into receipts. */
export interface CompilerId {
  name: string;
  version: string;
}

export type BuildResult =
  | { ok: true; wasm: Uint8Array; compiler: CompilerId; diagnostics: string[] }
  | { ok: false; compiler: CompilerId; diagnostics: string[] };

/** Source as text (UTF-8 decoded when given as bytes). */
export function sourceText(source: Uint8Array | string): string {
  return typeof source === "string" ? source : new TextDecoder().decode(source);
}

/** Checks that the bytes start with the wasm core-module or component magic. */
export function looksLikeWasm(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && bytes[0] === 0 && bytes[1] === 0x61 && bytes[2] === 0x73 && bytes[3] === 0x6d;
}
