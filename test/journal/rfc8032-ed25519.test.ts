/**
 * @module RFC 8032 ed25519: the RFC's test vectors through both backends (node:crypto and
 * @noble/curves), byte-identical signatures and cross-verification for random keys and
 * payloads, pinned domain-separated signatures, and purposes that never cross.
 */
import { readFileSync } from "node:fs";
import { sign as rawNodeSign, verify as rawNodeVerify } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  privateKeyObject,
  publicKeyObject,
  publicKeyOf,
  sign,
  signingMessage,
  signPure,
  SIGNING_PURPOSES,
  verify,
  verifyPure,
  type SigningPurpose,
} from "../../kernel/crypto/sign.js";

interface Vectors {
  rfc8032: { label: string; secret_key: string; public_key: string; message: string; signature: string }[];
  domain_separated: { purpose: SigningPurpose; payload: string; signature: string }[];
}
const V = JSON.parse(readFileSync(new URL("../vectors/ed25519-rfc8032.json", import.meta.url), "utf8")) as Vectors;
const h = (s: string) => Uint8Array.from(Buffer.from(s, "hex"));
const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("RFC 8032 §7.1 vectors", () => {
  for (const v of V.rfc8032) {
    it(`${v.label}: both backends derive the key, sign byte-identically and verify`, () => {
      expect(hex(publicKeyOf(h(v.secret_key)))).toBe(v.public_key);
      expect(hex(ed25519.sign(h(v.message), h(v.secret_key)))).toBe(v.signature);
      expect(hex(rawNodeSign(null, h(v.message), privateKeyObject(h(v.secret_key))))).toBe(v.signature);
      expect(ed25519.verify(h(v.signature), h(v.message), h(v.public_key))).toBe(true);
      expect(rawNodeVerify(null, h(v.message), publicKeyObject(h(v.public_key)), h(v.signature))).toBe(true);
    });
  }
});

describe("domain-separated signatures", () => {
  const sk = h(V.rfc8032[0]!.secret_key);
  const pk = h(V.rfc8032[0]!.public_key);

  it("the signed message is the purpose prefix and the payload", () => {
    expect(Buffer.from(signingMessage("checkpoint", Uint8Array.of(1, 2))).toString("latin1")).toBe(
      "worldkernel/v1/checkpoint\0\x01\x02",
    );
  });

  it("pinned vectors under the RFC TEST 1 key, for every purpose", () => {
    expect(V.domain_separated.map((d) => d.purpose).sort()).toEqual([...SIGNING_PURPOSES].sort());
    for (const d of V.domain_separated) {
      expect(hex(sign(sk, d.purpose, h(d.payload)))).toBe(d.signature);
      expect(hex(signPure(sk, d.purpose, h(d.payload)))).toBe(d.signature);
      expect(verify(pk, d.purpose, h(d.payload), h(d.signature))).toBe(true);
      expect(verifyPure(pk, d.purpose, h(d.payload), h(d.signature))).toBe(true);
    }
  });

  it("a signature for one purpose never verifies for another", () => {
    for (const a of SIGNING_PURPOSES) {
      const sig = sign(sk, a, Uint8Array.of(7));
      for (const b of SIGNING_PURPOSES) {
        expect(verify(pk, b, Uint8Array.of(7), sig)).toBe(a === b);
        expect(verifyPure(pk, b, Uint8Array.of(7), sig)).toBe(a === b);
      }
    }
  });

  it("property: node:crypto and noble sign byte-identically and cross-verify; a flipped bit fails both", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(...SIGNING_PURPOSES),
        fc.nat(),
        (secret, payload, purpose, bit) => {
          const pub = publicKeyOf(secret);
          const a = sign(secret, purpose, payload);
          const b = signPure(secret, purpose, payload);
          if (hex(a) !== hex(b)) return false;
          if (!verify(pub, purpose, payload, b) || !verifyPure(pub, purpose, payload, a)) return false;
          const bad = Uint8Array.from(a);
          bad[bit % 64]! ^= 1 << (bit % 8);
          return !verify(pub, purpose, payload, bad) && !verifyPure(pub, purpose, payload, bad);
        },
      ),
      { numRuns: 200 },
    );
  });

  it("malformed signatures and keys are rejected, not thrown", () => {
    expect(verify(pk, "receipt", new Uint8Array(0), new Uint8Array(63))).toBe(false);
    expect(verifyPure(pk, "receipt", new Uint8Array(0), new Uint8Array(64))).toBe(false);
    expect(verify(new Uint8Array(32), "receipt", new Uint8Array(0), new Uint8Array(64))).toBe(false);
    expect(verifyPure(new Uint8Array(31), "receipt", new Uint8Array(0), new Uint8Array(64))).toBe(false);
  });
});

describe("small-order public keys", () => {
  it("are refused by both backends (OpenSSL alone would accept a forged all-zero signature)", () => {
    const zeroKey = new Uint8Array(32);
    const identity = Uint8Array.of(1, ...new Uint8Array(31));
    for (const pk of [zeroKey, identity]) {
      const forged = Uint8Array.from([...pk, ...new Uint8Array(32)]);
      expect(verify(pk, "receipt", Uint8Array.of(1, 2, 3), forged)).toBe(false);
      expect(verifyPure(pk, "receipt", Uint8Array.of(1, 2, 3), forged)).toBe(false);
    }
  });
});
