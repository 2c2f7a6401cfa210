/**
 * @module Public surface of the module builder (named re-exports only).
 */
export { buildModule, languageOf } from "./build.js";
export type { BuildOptions } from "./build.js";
export { LanguageSchema } from "./types.js";
export type { BuildRequest, BuildResult, CompilerId, Language } from "./types.js";
export { CompileError } from "./errors.js";
export type { CompileErrorCode } from "./errors.js";
export { ensureZig } from "./zig.js";
