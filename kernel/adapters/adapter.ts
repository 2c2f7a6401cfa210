/**
 * @module The effect adapter port: the only door from the kernel to the outside world.
 * The kernel hands an adapter a canonical, already-gated request; the adapter returns an
 * outcome (never throws for an outside failure) that the kernel wraps in a signed receipt.
 */
import type { CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import type { GrantSecrets } from "../../air/schemas/defs.js";
import type { SecretAccess } from "./secrets/access.js";

/** The world's content-addressed blob store, as adapters see it (synchronous). */
export interface BlobAccess {
  put(bytes: Uint8Array): HashText;
  get(hash: HashText): Uint8Array;
}

/** The cap grant the gate matched, with its allowlist params and declared prices. */
export interface GrantView {
  name: string;
  capType: string;
  params: CborValue;
  /** Which secrets the grant lets this adapter use (absent: none). */
  secrets?: GrantSecrets;
  /** The grant's `prices` (cents per 1,000 tokens), when it declares them: what an LLM call settles at, and the prompt bound the gate reserved for. */
  prices?:
    | {
        input_cents_per_1k_tokens: number | bigint;
        output_cents_per_1k_tokens: number | bigint;
        max_input_tokens?: number | bigint;
      }
    | undefined;
}

/** One effect to perform: canonical params plus the context the shell supplies. */
export interface EffectRequest {
  intentId: string;
  idempotencyKey: string;
  kind: string;
  /** Canonical, already validated against the effect's params_schema. */
  params: CborValue;
  grant: GrantView;
  blobs: BlobAccess;
  signal: AbortSignal;
  /** Wall-clock nanoseconds; reading time here, in the shell, is fine. */
  nowNs: () => bigint;
  /** Resolves the world's secrets for this grant at dispatch (absent: every secret is unavailable). */
  secrets?: SecretAccess;
}

/** Tokens and cents an effect consumed (all naturals). */
export interface EffectCost {
  tokens_in: number;
  tokens_out: number;
  cents: number;
}

/** Terminal status an adapter reports; `denied` is the gate's, never an adapter's. */
export type OutcomeStatus = "ok" | "error" | "timeout";

/** What an adapter observed; the payload goes into the receipt (large bytes live in the CAS). */
export interface EffectOutcome {
  status: OutcomeStatus;
  payload: CborValue;
  cost: EffectCost;
  startedNs: bigint;
  finishedNs: bigint;
}

/** An adapter performs one or more effect kinds. */
export interface EffectAdapter {
  readonly id: string;
  readonly version: string;
  readonly kinds: readonly string[];
  perform(req: EffectRequest): Promise<EffectOutcome>;
}

/** Zero cost, for effects that consume no tokens or money. */
export const NO_COST: EffectCost = Object.freeze({ tokens_in: 0, tokens_out: 0, cents: 0 });

/**
 * An error payload `{code, message, ...details}` — the shape every error/timeout receipt
 * carries (the kernel's own `denied` and `no_adapter` payloads use `code` too). Only `ok`
 * payloads follow the effect's receipt_schema.
 */
export function errorPayload(code: string, message: string, details: Record<string, CborValue> = {}): CborValue {
  return { ...details, code, message };
}

/** A finished outcome stamped with the request clock. */
export function finish(
  req: EffectRequest,
  startedNs: bigint,
  status: OutcomeStatus,
  payload: CborValue,
  cost: EffectCost = NO_COST,
): EffectOutcome {
  return { status, payload, cost, startedNs, finishedNs: req.nowNs() };
}

/** Shorthand for an `error` outcome with a coded payload. */
export function failed(
  req: EffectRequest,
  startedNs: bigint,
  code: string,
  message: string,
  details: Record<string, CborValue> = {},
): EffectOutcome {
  return finish(req, startedNs, "error", errorPayload(code, message, details));
}
