/**
 * @module Receipt benchmarks: envelopes signed/s and verified/s against raw node:crypto
 * ed25519 on a message of the same size, and offline bundle verifications/s (pure
 * @noble, two signatures plus hashing and a Merkle path) against one raw @noble verify.
 */
import { generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import {
  buildReceiptEnvelope,
  generateKeyPair,
  receiptSigningPayload,
  signReceipt,
  signingMessage,
  verifyBundle,
  verifyReceipt,
} from "../../kernel/crypto/index.js";
import { makeBundleFixture } from "../../test/receipts/fixture.js";
import { measure, type Bench } from "./harness.js";

const envelope = buildReceiptEnvelope({
  worldId: "world-bench",
  intentId: "intent-0001",
  effectKind: "http.request",
  params: {
    method: "GET",
    url: "https://api.example.com/v1/items?page=2",
    headers: { accept: "application/json" },
    body_ref: null,
  },
  idempotencyKey: `sha256:${"42".repeat(32)}`,
  status: "ok",
  payload: { status: 200, body_ref: `sha256:${"17".repeat(32)}`, body_size: 1234 },
  adapter: { id: "worldkernel.http", version: "1.0.0" },
  startedNs: 1_763_900_000_000_000_000n,
  finishedNs: 1_763_900_000_250_000_000n,
  cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
});

export const benchmarks: Bench[] = [
  {
    name: "receipt envelope sign (canonical CBOR + domain-separated ed25519, node:crypto)",
    async run() {
      const key = generateKeyPair();
      const raw = generateKeyPairSync("ed25519");
      const msg = signingMessage("receipt", receiptSigningPayload(envelope));
      const figure = await measure("signReceipt", () => signReceipt(envelope, key), { minMs: 1000 });
      const baseline = await measure(
        `raw node:crypto sign (${msg.length} B)`,
        () => nodeSign(null, msg, raw.privateKey),
        { minMs: 1000 },
      );
      return { name: this.name, figure, baseline, extra: { signed_bytes: msg.length } };
    },
  },
  {
    name: "receipt envelope verify (node:crypto)",
    async run() {
      const key = generateKeyPair();
      const sig = signReceipt(envelope, key);
      const raw = generateKeyPairSync("ed25519");
      const msg = signingMessage("receipt", receiptSigningPayload(envelope));
      const rawSig = nodeSign(null, msg, raw.privateKey);
      const figure = await measure("verifyReceipt", () => verifyReceipt(envelope, sig, key.publicKey), { minMs: 1000 });
      const baseline = await measure("raw node:crypto verify", () => nodeVerify(null, msg, raw.publicKey, rawSig), {
        minMs: 1000,
      });
      return { name: this.name, figure, baseline };
    },
  },
  {
    name: "offline bundle verification (pure @noble: receipt + checkpoint signatures, entry hash, Merkle path)",
    async run() {
      const fx = await makeBundleFixture();
      const text = JSON.stringify(fx.bundle);
      if (!verifyBundle(text).ok) throw new Error("fixture bundle does not verify");
      const sk = ed25519.utils.randomSecretKey();
      const pk = ed25519.getPublicKey(sk);
      const msg = signingMessage("receipt", receiptSigningPayload(envelope));
      const sig = ed25519.sign(msg, sk);
      const figure = await measure("verifyBundle (JSON text)", () => verifyBundle(text), { minMs: 1500, warmup: 5 });
      const baseline = await measure("one raw @noble ed25519 verify", () => ed25519.verify(sig, msg, pk), {
        minMs: 1500,
        warmup: 5,
      });
      return {
        name: this.name,
        figure,
        baseline,
        extra: {
          bundle_bytes: text.length,
          proof_nodes: fx.bundle.inclusion.path.length,
          expected_ratio: "≈0.5 (two verifies)",
        },
      };
    },
  },
];
