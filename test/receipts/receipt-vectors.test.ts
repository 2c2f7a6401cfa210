/**
 * Golden vectors: receipt envelopes byte for byte (stored canonical CBOR, hash, ed25519
 * signature under the RFC 8032 test-1 key), and a committed v1 bundle that every future
 * verifier must still accept — format drift fails here first.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decodeStored, encodeStored, fromHex, hashBytes, toHex } from "../../air/index.js";
import { KeyPair, ReceiptEnvelopeSchema, signReceipt, verifyBundle, verifyReceipt } from "../../kernel/crypto/index.js";

const vec = JSON.parse(readFileSync(new URL("../vectors/receipts.json", import.meta.url), "utf8")) as {
  secret_key_hex: string;
  public_key_hex: string;
  vectors: { label: string; cbor_hex: string; hash: string; signature_hex: string }[];
};

describe("test/vectors/receipts.json", () => {
  const key = new KeyPair(fromHex(vec.secret_key_hex));
  it("uses the RFC 8032 test 1 key pair", () => expect(key.publicKeyHex).toBe(vec.public_key_hex));
  it.each(vec.vectors.map((v) => [v.label, v] as const))("%s", (_label, v) => {
    const cbor = fromHex(v.cbor_hex);
    const env = ReceiptEnvelopeSchema.parse(decodeStored(cbor));
    expect(toHex(encodeStored(env as never))).toBe(v.cbor_hex);
    expect(hashBytes(cbor)).toBe(v.hash);
    expect(toHex(signReceipt(env, key))).toBe(v.signature_hex);
    expect(verifyReceipt(env, fromHex(v.signature_hex), key.publicKey, true)).toBe(true);
  });
});

describe("test/vectors/receipt-bundle-v1.json", () => {
  it("still verifies offline", () => {
    const text = readFileSync(new URL("../vectors/receipt-bundle-v1.json", import.meta.url), "utf8");
    expect(verifyBundle(text)).toMatchObject({ ok: true, world_id: "world-test", receipt: { effect_kind: "llm.generate" } });
  });
});
