/**
 * @module Receipt envelopes: what an adapter observed, bound to the intent that asked for
 * it, signed by the adapter's ed25519 key over the envelope's stored canonical CBOR
 * (purpose `receipt`, so a receipt signature can never pass as a checkpoint or approval).
 * Also the `effect_receipt` journal entry body and its builder.
 */
import type { KeyObject } from "node:crypto";
import { z } from "zod";
// Leaf modules of air (not its index): the offline verifier must not load the AIR loader.
import { encodeStored } from "../../air/cbor/encode.js";
import type { CborValue } from "../../air/cbor/value.js";
import { hashValue, HASH_PATTERN } from "../../air/hash.js";
import { sign, verify, verifyPure } from "./sign.js";

const hashText = z.string().regex(HASH_PATTERN, "must be sha256:<64 hex>");
const int = z.union([z.number().int(), z.bigint()]);
const nat = z.union([z.number().int().nonnegative(), z.bigint().nonnegative()]);
const text = z.string().min(1);

/** Terminal status of an effect as the receipt records it. */
export const ReceiptStatusSchema = z.enum(["ok", "error", "timeout", "denied", "expired"]);

/** Adapter ids of receipts the kernel itself issues, signed by the world key: gate denials and expired intents. */
export const WORLD_SIGNED_ADAPTERS: ReadonlySet<string> = new Set(["kernel.gate", "kernel.expiry"]);
export type ReceiptStatus = z.infer<typeof ReceiptStatusSchema>;

/** The receipt envelope (a canonical CBOR map); its stored form is what the adapter signs. */
export const ReceiptEnvelopeSchema = z.strictObject({
  world_id: text,
  intent_id: text,
  effect_kind: text,
  params_hash: hashText,
  idempotency_key: text,
  status: ReceiptStatusSchema,
  payload_hash: hashText,
  adapter_id: text,
  adapter_version: text,
  started_ns: int,
  finished_ns: int,
  cost: z.strictObject({ tokens_in: nat, tokens_out: nat, cents: nat }),
});
export type ReceiptEnvelope = z.infer<typeof ReceiptEnvelopeSchema>;

const bytesOf = (n: number) => z.instanceof(Uint8Array).refine((b) => b.length === n, `must be ${n} bytes`);

/** The body of an `effect_receipt` journal entry. */
export const EffectReceiptBodySchema = z
  .strictObject({
    intent_id: text,
    receipt: ReceiptEnvelopeSchema,
    signature: bytesOf(64),
    adapter_public_key: bytesOf(32),
    payload: z.custom<CborValue>((v) => v !== undefined),
  })
  .refine((b) => b.intent_id === b.receipt.intent_id, {
    message: "intent_id differs from receipt.intent_id",
    path: ["intent_id"],
  });
export type EffectReceiptBody = z.infer<typeof EffectReceiptBodySchema>;

/** Something that can sign for the adapter: a raw 32-byte secret, a KeyObject, or a KeyPair. */
export type ReceiptSigner = Uint8Array | KeyObject | { sign(purpose: "receipt", payload: Uint8Array): Uint8Array };

/** The exact bytes a receipt signature covers (before the domain prefix). */
export function receiptSigningPayload(envelope: ReceiptEnvelope): Uint8Array {
  return encodeStored(envelope as unknown as CborValue);
}

/** Signs an envelope for purpose `receipt`; returns the 64-byte signature. */
export function signReceipt(envelope: ReceiptEnvelope, adapterSecretKey: ReceiptSigner): Uint8Array {
  const payload = receiptSigningPayload(envelope);
  if (
    adapterSecretKey instanceof Uint8Array ||
    !("sign" in adapterSecretKey && typeof adapterSecretKey.sign === "function")
  ) {
    return sign(adapterSecretKey as Uint8Array | KeyObject, "receipt", payload);
  }
  return adapterSecretKey.sign("receipt", payload);
}

/** Verifies an envelope's signature; `pure` uses @noble/curves only (offline verifier). */
export function verifyReceipt(
  envelope: ReceiptEnvelope,
  signature: Uint8Array,
  adapterPublicKey: Uint8Array,
  pure = false,
): boolean {
  const payload = receiptSigningPayload(envelope);
  return pure
    ? verifyPure(adapterPublicKey, "receipt", payload, signature)
    : verify(adapterPublicKey, "receipt", payload, signature);
}

/** What the kernel knows when it turns an adapter outcome into a receipt. */
export interface ReceiptInput {
  worldId: string;
  intentId: string;
  effectKind: string;
  params: CborValue;
  idempotencyKey: string;
  status: ReceiptStatus;
  payload: CborValue;
  adapter: { id: string; version: string };
  startedNs: bigint | number;
  finishedNs: bigint | number;
  cost: { tokens_in: number | bigint; tokens_out: number | bigint; cents: number | bigint };
}

/** Builds the envelope: hashes params and payload, copies the rest verbatim. */
export function buildReceiptEnvelope(i: ReceiptInput): ReceiptEnvelope {
  return ReceiptEnvelopeSchema.parse({
    world_id: i.worldId,
    intent_id: i.intentId,
    effect_kind: i.effectKind,
    params_hash: hashValue(i.params),
    idempotency_key: i.idempotencyKey,
    status: i.status,
    payload_hash: hashValue(i.payload),
    adapter_id: i.adapter.id,
    adapter_version: i.adapter.version,
    started_ns: i.startedNs,
    finished_ns: i.finishedNs,
    cost: { tokens_in: i.cost.tokens_in, tokens_out: i.cost.tokens_out, cents: i.cost.cents },
  });
}

/** Builds the signed `effect_receipt` entry body for an outcome. */
export function buildEffectReceiptBody(
  i: ReceiptInput,
  signer: ReceiptSigner,
  adapterPublicKey: Uint8Array,
): EffectReceiptBody {
  const receipt = buildReceiptEnvelope(i);
  const signature = signReceipt(receipt, signer);
  return EffectReceiptBodySchema.parse({
    intent_id: i.intentId,
    receipt,
    signature,
    adapter_public_key: adapterPublicKey,
    payload: i.payload,
  });
}

/** Checks an `effect_receipt` body: shape, payload hash and adapter signature; null = valid. */
export function checkEffectReceiptBody(
  value: unknown,
  pure = false,
): { fault: "bad_entry_body" | "payload_mismatch" | "bad_receipt_signature"; message: string } | null {
  const r = EffectReceiptBodySchema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    return {
      fault: "bad_entry_body",
      message: `effect_receipt body: ${issue.message} at $.${issue.path.map(String).join(".")}`,
    };
  }
  const b = r.data;
  if (!verifyReceipt(b.receipt, b.signature, b.adapter_public_key, pure))
    return {
      fault: "bad_receipt_signature",
      message: "the adapter's signature does not verify over the receipt envelope",
    };
  const actual = hashValue(b.payload);
  if (actual !== b.receipt.payload_hash)
    return {
      fault: "payload_mismatch",
      message: `payload hashes to ${actual}, the receipt says ${b.receipt.payload_hash}`,
    };
  return null;
}
