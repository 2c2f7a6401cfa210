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
  const text = readFileSync(new URL("../vectors/receipt-bundle-v1.json", import.meta.url), "utf8");
  it("carries no key declaration: without a pinned adapter key it is undeclared_signer", () => {
    expect(verifyBundle(text)).toMatchObject({ ok: false, fault: "undeclared_signer" });
  });
  it("still verifies offline with the adapter key pinned", () => {
    expect(verifyBundle(text, { adapterPublicKey: adapterKeyOf(text) })).toMatchObject({
      ok: true,
      world_id: "world-test",
      receipt: { effect_kind: "llm.generate" },
    });
  });
});

describe("test/vectors/receipt-bundle-v2.json", () => {
  it("verifies offline with nothing but the bundle: the receipt's key is declared in the proven genesis", () => {
    const text = readFileSync(new URL("../vectors/receipt-bundle-v2.json", import.meta.url), "utf8");
    expect(verifyBundle(text)).toMatchObject({
      ok: true,
      world_id: "world-test",
      receipt: { effect_kind: "llm.generate" },
    });
    expect(
      verifyBundle(text, { worldPublicKey: (JSON.parse(text) as { world_public_key: string }).world_public_key }).ok,
    ).toBe(true);
  });
});

function adapterKeyOf(bundleText: string): string {
  const b = JSON.parse(bundleText) as { entry: { body_cbor: string } };
  return toHex((decodeStored(fromHex(b.entry.body_cbor)) as { adapter_public_key: Uint8Array }).adapter_public_key);
}
