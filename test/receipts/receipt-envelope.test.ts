/**
 * Receipt envelopes: ed25519 signatures over the stored canonical CBOR with purpose
 * `receipt` (node:crypto and @noble agree), any change to any field breaks them, a
 * receipt signature never verifies for another purpose, and the effect_receipt body.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashValue, type CborValue } from "../../air/index.js";
import {
  buildEffectReceiptBody,
  buildReceiptEnvelope,
  checkEffectReceiptBody,
  generateKeyPair,
  receiptSigningPayload,
  signReceipt,
  verify,
  verifyReceipt,
  type ReceiptEnvelope,
  type ReceiptInput,
} from "../../kernel/crypto/index.js";

const input: ReceiptInput = {
  worldId: "world-1",
  intentId: "intent-abc",
  effectKind: "http.request",
  params: { method: "GET", url: "https://example.com/", headers: {}, body_ref: null },
  idempotencyKey: `sha256:${"11".repeat(32)}`,
  status: "ok",
  payload: { status: 200, body_size: 5 },
  adapter: { id: "worldkernel.http", version: "1.0.0" },
  startedNs: 1_763_900_000_000_000_000n,
  finishedNs: 1_763_900_000_500_000_000n,
  cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
};

describe("receipt envelope", () => {
  const key = generateKeyPair();

  it("hashes params and payload and signs the stored CBOR; node and noble verification agree", () => {
    const env = buildReceiptEnvelope(input);
    expect(env.params_hash).toBe(hashValue(input.params));
    expect(env.payload_hash).toBe(hashValue(input.payload));
    const sig = signReceipt(env, key);
    expect(sig).toHaveLength(64);
    expect(signReceipt(env, key.secretKeyBytes())).toEqual(sig);
    expect(verifyReceipt(env, sig, key.publicKey)).toBe(true);
    expect(verifyReceipt(env, sig, key.publicKey, true)).toBe(true);
    expect(verifyReceipt(env, sig, generateKeyPair().publicKey)).toBe(false);
  });

  it("is domain-separated: a receipt signature is not a checkpoint signature", () => {
    const env = buildReceiptEnvelope(input);
    const sig = signReceipt(env, key);
    expect(verify(key.publicKey, "checkpoint", receiptSigningPayload(env), sig)).toBe(false);
    expect(verify(key.publicKey, "receipt", receiptSigningPayload(env), sig)).toBe(true);
  });

  it("fails after a change to any field (property)", () => {
    const env = buildReceiptEnvelope(input);
    const sig = signReceipt(env, key);
    const textFields = [
      "world_id",
      "intent_id",
      "effect_kind",
      "idempotency_key",
      "adapter_id",
      "adapter_version",
    ] as const;
    fc.assert(
      fc.property(fc.constantFrom(...textFields), fc.string({ minLength: 1, maxLength: 8 }), (field, s) => {
        fc.pre(s !== env[field]);
        expect(verifyReceipt({ ...env, [field]: s }, sig, key.publicKey)).toBe(false);
      }),
      { numRuns: 60 },
    );
    const variants: ReceiptEnvelope[] = [
      { ...env, status: "error" },
      { ...env, started_ns: 1n + BigInt(env.started_ns) },
      { ...env, finished_ns: BigInt(env.finished_ns) - 1n },
      { ...env, cost: { ...env.cost, cents: 1 } },
      { ...env, payload_hash: hashValue({ status: 500 } as CborValue) },
      { ...env, params_hash: hashValue(null) },
    ];
    for (const v of variants) expect(verifyReceipt(v, sig, key.publicKey)).toBe(false);
  });

  it("builds and checks an effect_receipt body", () => {
    const body = buildEffectReceiptBody(input, key, key.publicKey);
    expect(body.intent_id).toBe(input.intentId);
    expect(checkEffectReceiptBody(body)).toBeNull();
    expect(checkEffectReceiptBody(body, true)).toBeNull();
    expect(checkEffectReceiptBody({ ...body, payload: { status: 201, body_size: 5 } })?.fault).toBe("payload_mismatch");
    expect(checkEffectReceiptBody({ ...body, adapter_public_key: generateKeyPair().publicKey })?.fault).toBe(
      "bad_receipt_signature",
    );
    expect(checkEffectReceiptBody({ ...body, intent_id: "other" })?.fault).toBe("bad_entry_body");
    expect(checkEffectReceiptBody({ ...body, extra: 1 })?.fault).toBe("bad_entry_body");
    expect(() => buildReceiptEnvelope({ ...input, cost: { ...input.cost, cents: -1 } })).toThrow();
  });
});
