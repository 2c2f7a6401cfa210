/**
 * @module The journal's entry kinds, for the journal page's filter. A copy of the kernel's
 * `ENTRY_KINDS` (kernel/journal/entries.ts pulls zod and node:crypto, which the browser bundle
 * should not carry); test/serve/console.test.ts checks the two lists agree.
 */

/** Every entry kind the journal filter offers. */
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
