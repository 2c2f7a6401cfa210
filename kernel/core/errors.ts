/**
 * @module Typed errors of the kernel core. Identify by `code`; each names its place
 * (seq, module, schema, JSON path).
 */

/** Stable codes for kernel failures. */
export type KernelErrorCode =
  | "kernel.unknown_schema"
  | "kernel.bad_event"
  | "kernel.not_routable"
  | "kernel.unknown_module"
  | "kernel.bad_output"
  | "kernel.replay_divergence"
  | "kernel.state_root_mismatch"
  | "kernel.missing_blob"
  | "kernel.bad_world"
  | "kernel.world_exists"
  | "kernel.unknown_intent"
  | "kernel.not_pending"
  | "kernel.bad_approval"
  | "kernel.config_mismatch"
  | "kernel.undeclared_key"
  | "kernel.erase_refused"
  | "kernel.not_a_boundary"
  | "kernel.idempotency_conflict"
  | "governance.unknown_proposal"
  | "governance.stale_base"
  | "governance.unsigned_proposal"
  | "governance.migration_required"
  | "governance.no_shadow";

/** A kernel error with a stable code and structured context. */
export class KernelError extends Error {
  readonly code: KernelErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: KernelErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "KernelError";
    this.code = code;
    this.details = details;
  }
}
