/**
 * @module The journal's entry kinds, on their own: no imports, so the console's browser bundle
 * (its journal filter) takes the kernel's list itself instead of a copy.
 */

/** Every entry kind, in no particular order. */
export const ENTRY_KINDS = [
  "genesis",
  "event",
  "step",
  "effect_intent",
  "effect_receipt",
  "policy_decision",
  "proposal",
  "shadow_report",
  "approval",
  "apply",
  "snapshot",
  "checkpoint",
  "erasure",
  "keys",
] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];
