/**
 * @module The catalog of host calls worldkernel offers to modules and the capability
 * type that grants each. Linking consults it to name the missing capability when a
 * module imports a host call it was not granted.
 */

/** Host call name → capability type that grants it. */
export const HOST_CALLS: Readonly<Record<string, string>> = Object.freeze({
  blob_get: "blob",
  manifest_get: "query",
  journal_head: "query",
  log: "log",
});

/** Extism import namespace of the kernel (memory, input, output) functions. */
export const EXTISM_ENV = "extism:host/env";
/** Extism import namespace of user host functions. */
export const EXTISM_USER = "extism:host/user";

/**
 * Extism kernel functions a module may import. Deliberately excludes `http_request`,
 * `http_status_code`, `config_get` and `var_get`/`var_set`: network, ambient config
 * and cross-call variables would all be hidden inputs that replay cannot reproduce.
 */
export const EXTISM_KERNEL_ALLOWED: ReadonlySet<string> = new Set([
  "alloc",
  "free",
  "length",
  "length_unsafe",
  "load_u8",
  "load_u64",
  "store_u8",
  "store_u64",
  "input_offset",
  "input_length",
  "input_load_u8",
  "input_load_u64",
  "output_set",
  "error_set",
  "log_info",
  "log_debug",
  "log_warn",
  "log_error",
]);

/** The capability type granting host call `name`, or `"none"` if worldkernel has no such call. */
export function capabilityFor(name: string): string {
  // Components name host calls in kebab case (`blob-get`); Extism in snake case.
  return HOST_CALLS[name.replaceAll("-", "_")] ?? "none";
}
