/**
 * @module Typed errors of the module builder. Compile errors are results, not errors;
 * these are for a missing toolchain or misuse, identified by `code`.
 */
import { WorldkernelError } from "../../../air/errors.js";
import { missingPeers } from "../../packages.js";

export type CompileErrorCode = "compile.toolchain_missing" | "compile.unknown_language" | "compile.output_mismatch";

/** A builder failure that is not a diagnostic of the source itself. */
export class CompileError extends WorldkernelError<CompileErrorCode> {
  /** The source language (`assemblyscript`, `c`, …), when the failure concerns one. */
  readonly language: string | undefined;
  /** The compiler or package that is missing or misbehaved. */
  readonly tool: string | undefined;

  constructor(
    code: CompileErrorCode,
    message: string,
    fields: { language?: string; path?: string; tool?: string } = {},
  ) {
    super(code, message, { path: fields.path });
    this.name = "CompileError";
    this.language = fields.language;
    this.tool = fields.tool;
  }
}

/** Throws `compile.toolchain_missing` naming the npm command to run when an optional peer of `language` is absent. */
export function requireToolchain(language: string, peers: readonly string[]): void {
  const absent = missingPeers(peers);
  if (absent) {
    throw new CompileError(
      "compile.toolchain_missing",
      `compiling ${language} needs ${absent.missing.join(" and ")} (optional peers of worldkernel); run: ${absent.install}`,
      { language, tool: absent.missing.join(" ") },
    );
  }
}
