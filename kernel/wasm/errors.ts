/**
 * @module Typed load-time errors of the WASM runtimes. Run-time failures (trap, fuel,
 * memory, output size) are never thrown: they come back as a `CallResult` with `ok: false`.
 * Identify errors by `code`: they cross worker boundaries where `instanceof` fails.
 */
import { WorldkernelError } from "../../air/errors.js";

/** Codes a module can fail to load with. */
export type ModuleLoadErrorCode =
  | "module.invalid_wasm"
  | "module.missing_export"
  | "module.limits_exceeded"
  | "module.unsupported_feature"
  | "module.toolchain_missing";

/** The module imports something it is not granted (or that worldkernel never offers). */
export class ModuleLinkError extends WorldkernelError<"module.link_error"> {
  /** Module name from the manifest, e.g. `demo/Counter@1`. */
  readonly module: string;
  /** Full import name, e.g. `extism:host/user.blob_get` or `wasi_snapshot_preview1.clock_time_get`. */
  readonly import_name: string;
  /** Capability type that would grant the import, or `"none"` when nothing can grant it. */
  readonly capability: string;

  constructor(module: string, importName: string, capability: string, detail?: string) {
    const why =
      capability === "none"
        ? "worldkernel offers no such host call (no WASI, clocks, randomness, files or network)"
        : `it needs a granted "${capability}" capability`;
    super("module.link_error", `module ${module}: import "${importName}" cannot be linked: ${detail ?? why}`);
    this.name = "ModuleLinkError";
    this.module = module;
    this.import_name = importName;
    this.capability = capability;
  }
}

/** The bytes are not a loadable module, or lack the export the def names. */
export class ModuleLoadError extends WorldkernelError<ModuleLoadErrorCode> {
  readonly module: string;
  /** The missing export for `module.missing_export`, else undefined. */
  readonly export_name: string | undefined;

  constructor(
    code: ModuleLoadErrorCode,
    module: string,
    message: string,
    opts: { export_name?: string; cause?: unknown } = {},
  ) {
    super(code, `module ${module}: ${message}`, { cause: opts.cause });
    this.name = "ModuleLoadError";
    this.module = module;
    this.export_name = opts.export_name;
  }
}
