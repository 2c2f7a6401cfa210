/**
 * @module Kernel behaviour flags recorded in every genesis. Anything replay depends on
 * (envelope shape, fuel costs, gate order, event identity, cascade bounds) is named here;
 * a kernel refuses to replay a journal whose flags it does not implement, and replays each
 * journal under the flags its genesis recorded, so golden journals replay forever.
 */

/**
 * Every flag this kernel implements, with its rationale:
 * - abi-v1: step envelope {version, state, event, ctx} / output {state, events, effects, ann}.
 * - fuel-v1: the name journals before 2026-12 recorded for exact fuel. Fuel was first charged
 *   per function entry and loop header; the rewrite was replaced (commit 4688072) by exact
 *   executed-instruction counting before any golden journal was recorded, but the flag kept
 *   its old name. It means exactly what fuel-exact-v1 means and is accepted for replay only.
 * - fuel-exact-v1: fuel = executed instructions, counted by the bytecode rewrite in
 *   kernel/wasm/fuel.ts (its version is FUEL_REWRITER_VERSION, part of every cache key).
 * - gate-v1: catalog → slot → params → grant → budget → policy, first match wins, default deny.
 * - order-v1: events are processed breadth-first; a step's entries are step, events, then per effect intent + decision (+ denial).
 * - identity-v2: an ingress event's identity (ctx.event_hash) binds its seq, and an emitted
 *   event's binds its cause's identity and its index, so identical requests — or identical
 *   events emitted twice — are independent and never share intent ids. Without it (older
 *   journals), identity was the hash of {schema, value, key} alone.
 * - cascade-v1: one input causes at most `MAX_STEPS_PER_INPUT` steps and
 *   `MAX_EVENTS_PER_INPUT` emitted events; the step that would exceed either fails with
 *   `kernel.cascade_limit` (journaled) and the rest of the cascade is dropped.
 * - validity-v1: every intent carries `valid_until_ns` = its step's time + the grant's
 *   `intent_ttl_ns` (default DEFAULT_INTENT_TTL_NS), capped by the grant's `expiry_ns`; an
 *   intent held for approval or re-dispatched past it is never performed: the kernel issues
 *   an `expired` receipt (adapter `kernel.expiry`, signed by the world key).
 * - erasure-v1: a step that read blobs (`blob_get`) lists them in `reads`; an erasure names
 *   the cells that read the erased blob or derive from it (`notify`), and each of them gets a
 *   `sys/BlobErased@1` event right after it, so its module can redact its state.
 * - world-rules-v1: the gate's allowlist checks (hosts, methods, private and loopback
 *   addresses, models, token ceilings) and its cost estimate are the kernel's built-in ones
 *   for the world's cap types (kernel/world/gate-rules.ts), whoever opens the world: an open
 *   option can no longer drop them. Journals without the flag were written by `wk` with the
 *   same checks, and replay them; a library caller who opened a world without `hooks` before
 *   this flag journaled `allow` where these checks deny, and such a journal diverges on replay
 *   (that is the hole this closes). The flag makes an older kernel, which would replay a
 *   library-opened world without the checks, refuse a newer journal instead.
 * - ann-v1: a successful step journals the module's annotation (its `ann` output: the
 *   reasoning it records for what it did) in its `step` entry: `ann`, the value itself, when
 *   its stored encoding is at most `ANN_INLINE_MAX` bytes; `ann_ref`, a CAS blob of it (erasable
 *   like any blob), up to `ANN_MAX`; beyond that only its size, `ann_dropped`. A null `ann`
 *   adds nothing. Before the flag the annotation was decoded and dropped, so a step's entry
 *   now holds more; replay compares it like every other output.
 * - secrets-v1: an `http.request` whose header values name a secret (`{secret:NAME}`) the
 *   grant's `secrets.headers` does not list for that header, or that is made under a grant
 *   naming no hosts, is denied at the gate (`secret_not_allowed`, stage `grant`). Before it,
 *   such text was an ordinary header value (allowed and sent as written), so an older journal
 *   replays without the check; the flag makes an older kernel refuse a newer journal.
 * - policy-cel-v1: a policy rule's `when.condition` is a CEL expression evaluated by
 *   @bufbuild/cel 0.6.1 exactly (air/policy-condition.ts; integers are CEL ints, never doubles:
 *   air/cel-values.ts); the rule matches only when it gives true, and a condition that cannot
 *   give a bool (a missing field, a wrong type, an overflow) denies the intent
 *   (`policy.condition_error`) instead of falling through to a later rule. Under it the gate's
 *   estimate for `llm.generate` prices the call from its grant's `prices`: cents =
 *   ceil((max_input_tokens × input price + max_tokens × output price) / 1000), tokens =
 *   max_input_tokens + max_tokens, so budgets and `cost_over_cents` see a real cost. Without the
 *   flag the estimate is what it was (tokens = max_tokens, 0 cents), and a rule with a condition
 *   denies (`policy.condition_unsupported`): a journal from before the flag has no condition
 *   (the schema refused one) and replays exactly as recorded. Another evaluator version, or
 *   another mapping of values, is another flag.
 * - mcp-v1: the gate checks an `mcp.call` intent against its grant of cap type `mcp` (stage
 *   `grant`, kernel/adapters/mcp/allow.ts): its server must be a key of the grant's `servers`
 *   (`server_not_allowed`), its tool one of that server's `tools` (`tool_not_allowed`), a
 *   private or loopback IP literal named by `allow_private` (`private_address_denied`), its
 *   `arguments` canonical CBOR of a text-keyed map with a JSON form (`invalid_arguments`), and
 *   each `{secret:NAME}` in its headers listed for that header in the grant's `secrets.headers`
 *   (`secret_not_allowed`). And a policy condition sees an `mcp.call`'s `params.arguments` as
 *   that decoded map, with floats as their shortest decimal text (kernel/adapters/mcp/arguments.ts).
 *   Before the flag there was no built-in `mcp` cap type: a world that defined its own got no
 *   such check and its journal replays without one. The flag also makes an older kernel — which
 *   would load `sys/mcp.call@1` from a bundle as an ordinary def and gate it without these
 *   checks, deciding `allow` where this kernel denies — refuse a newer journal instead.
 */
export const SUPPORTED_FLAGS = [
  "abi-v1",
  "fuel-v1",
  "fuel-exact-v1",
  "gate-v1",
  "order-v1",
  "identity-v2",
  "cascade-v1",
  "validity-v1",
  "erasure-v1",
  "world-rules-v1",
  "ann-v1",
  "secrets-v1",
  "policy-cel-v1",
  "mcp-v1",
] as const;

/** The flags a new world's genesis records. */
export const KERNEL_FLAGS = [
  "abi-v1",
  "fuel-exact-v1",
  "gate-v1",
  "order-v1",
  "identity-v2",
  "cascade-v1",
  "validity-v1",
  "erasure-v1",
  "world-rules-v1",
  "ann-v1",
  "secrets-v1",
  "policy-cel-v1",
  "mcp-v1",
] as const;

/** Schema of the event that tells a cell a blob it read was erased: `{blob_hash, reason}`. */
export const ERASURE_EVENT_SCHEMA = "sys/BlobErased@1";

/** How long an intent stays valid when its grant does not say (validity-v1): 24 hours. */
export const DEFAULT_INTENT_TTL_NS = 86_400_000_000_000n;

/** A kernel flag. */
export type KernelFlag = (typeof SUPPORTED_FLAGS)[number];

/** ann-v1: an annotation whose stored encoding is at most this many bytes is kept in the step entry itself. */
export const ANN_INLINE_MAX = 1024;
/** ann-v1: the largest annotation kept (in the CAS); a larger one is recorded by its size alone. */
export const ANN_MAX = 64 * 1024;

/** The cascade bounds of cascade-v1. */
export const MAX_STEPS_PER_INPUT = 10_000;
export const MAX_EVENTS_PER_INPUT = 10_000;

/** The flags of a journal this kernel cannot replay, if any. */
export function unsupportedFlags(flags: readonly string[]): string[] {
  return flags.filter((f) => !(SUPPORTED_FLAGS as readonly string[]).includes(f));
}

/** The behaviour switches a processor reads, from a genesis's flags. */
export interface Behaviour {
  identityV2: boolean;
  cascade: { steps: number; events: number } | null;
  validity: boolean;
  erasure: boolean;
  /** ann-v1: steps journal their annotation. */
  ann: boolean;
  /** secrets-v1: the gate checks secret references against the grant. */
  secrets: boolean;
  /** policy-cel-v1: policy conditions are evaluated, and LLM calls are priced from their grant. */
  policyCel: boolean;
  /** mcp-v1: the gate checks `mcp.call` against its grant, and conditions see its decoded arguments. */
  mcp: boolean;
}

/** What the flags of a genesis switch on. */
export function behaviourOf(flags: readonly string[]): Behaviour {
  return {
    identityV2: flags.includes("identity-v2"),
    cascade: flags.includes("cascade-v1") ? { steps: MAX_STEPS_PER_INPUT, events: MAX_EVENTS_PER_INPUT } : null,
    validity: flags.includes("validity-v1"),
    erasure: flags.includes("erasure-v1"),
    ann: flags.includes("ann-v1"),
    secrets: flags.includes("secrets-v1"),
    policyCel: flags.includes("policy-cel-v1"),
    mcp: flags.includes("mcp-v1"),
  };
}
