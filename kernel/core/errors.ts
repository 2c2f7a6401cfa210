/**
 * @module Typed errors of the kernel (core and world shell). Identify by `code`; each names
 * its place (seq, module, schema, JSON path). Built on the one base, `WorldkernelError`.
 */
import { WorldkernelError, type ErrorFields } from "../../air/errors.js";

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
  /** The directory or journal is not a usable world: config.json missing or invalid, no genesis, no AIR bundle. */
  | "kernel.bad_world"
  | "kernel.unsupported_flag"
  | "kernel.bad_snapshot"
  | "kernel.seq_out_of_range"
  | "kernel.journal_moved"
  | "kernel.not_closed_cleanly"
  | "kernel.internal"
  | "kernel.world_exists"
  | "kernel.same_store"
  | "kernel.migrate_failed"
  | "kernel.unknown_intent"
  /** An intent is not waiting for approval. */
  | "kernel.not_pending"
  /** An approval or denial (of an intent or a proposal) is refused: not an approver, the proposer itself approving, a repeat. */
  | "kernel.bad_approval"
  | "kernel.config_mismatch"
  | "kernel.undeclared_key"
  | "kernel.erase_refused"
  | "kernel.not_a_boundary"
  | "kernel.idempotency_conflict"
  | "governance.unknown_proposal"
  | "governance.stale_base"
  | "governance.shadow_diverged"
  | "governance.unsigned_proposal"
  /** A patch gives a policy rule a condition in a world whose kernel flags lack policy-cel-v1 (its gate would deny every intent the rule sees). */
  | "governance.condition_unsupported"
  /** A patch gives a world whose kernel flags lack mcp-v1 a grant of sys/mcp@1 (its gate would not check the grant's servers and tools). */
  | "governance.mcp_unsupported"
  | "governance.migration_required"
  | "governance.bad_migration"
  | "governance.migration_failed"
  | "governance.schema_in_place"
  | "governance.invariant_broken"
  | "governance.no_shadow"
  | "governance.not_approved"
  /** The proposal's latest shadow report has failing steps and not enough approvers accepted them. */
  | "governance.failed_shadow"
  | "governance.already_applied"
  /** An approver denied the proposal (the error names its seq): it can no longer be shadowed, approved, applied or denied again. */
  | "governance.denied"
  /** A denial's reason is empty, blank or longer than 2000 characters. */
  | "governance.bad_reason"
  /** A shadow run was asked for more than one of given events, a window and a counterfactual. */
  | "governance.conflicting_options"
  /** `wk revert <seq>`: the entry at that seq is not an apply. */
  | "governance.not_an_apply"
  /** A computed patch (`--from-air`, `wk revert`) would change nothing: the world already has those defs. */
  | "governance.no_change";

/** A kernel error's context: the base fields (`path`, `seq`, `expected`, `actual`) and any other snake_case detail. */
export type KernelErrorFields = Omit<ErrorFields, "cause"> & Record<string, unknown>;

/** A kernel error with a stable code and structured context. */
export class KernelError extends WorldkernelError<KernelErrorCode> {
  /** The context beyond the base fields (`module`, `schema`, `intent_id`, …). */
  readonly details: Record<string, unknown>;

  constructor(code: KernelErrorCode, message: string, fields: KernelErrorFields = {}, options?: { cause?: unknown }) {
    const { path, seq, expected, actual, ...details } = fields;
    super(code, message, { path, seq, expected, actual, cause: options?.cause });
    this.name = "KernelError";
    this.details = details;
  }
}

/**
 * True for a refusal of an ingress event itself (bad value, unknown schema, an idempotency key
 * used for another request): `World.sendMany` raises these before it steps or journals anything.
 */
export function isEventRefusal(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === "kernel.bad_event" || code === "kernel.unknown_schema" || code === "kernel.idempotency_conflict";
}
