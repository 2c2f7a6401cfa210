/**
 * @module Typed errors of the module builder. Compile errors are results, not errors;
 * these are for a missing toolchain or misuse, identified by `code`.
 */

export type CompileErrorCode = "compile.toolchain_missing" | "compile.unknown_language" | "compile.output_mismatch";

/** A builder failure that is not a diagnostic of the source itself. */
export class CompileError extends Error {
  constructor(
    readonly code: CompileErrorCode,
    message: string,
    readonly fields: { language?: string; path?: string; tool?: string } = {},
  ) {
    super(message);
    this.name = "CompileError";
  }
}
