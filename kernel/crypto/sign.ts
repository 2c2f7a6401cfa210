/**
 * @module Domain-separated ed25519 signatures. Every signed message is
 * `"worldkernel/v1/" + purpose + "\0"` ‖ payload, so a signature made for one purpose
 * (a checkpoint) can never be replayed as another (a receipt or an approval).
 * Signing and hot-path verification use node:crypto (≈ 10× faster than noble here);
 * `verifyPure`/`signPure` use @noble/curves alone for the offline verifier. Both
 * produce byte-identical signatures (RFC 8032 ed25519 is deterministic), pinned by
 * `test/journal/rfc8032-ed25519.test.ts`.
 */
import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { CryptoError } from "./errors.js";
import { SPKI_PREFIX, signingMessage, type SigningPurpose } from "./signing-message.js";

export { SIGNING_PURPOSES, signingMessage, type SigningPurpose } from "./signing-message.js";

// DER wrapper that lets node:crypto take a raw 32-byte ed25519 secret (RFC 8410).
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

function checkLength(b: Uint8Array, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== 32)
    throw new CryptoError("crypto.bad_key", `an ed25519 ${what} has 32 bytes`);
}

/** A node:crypto private key object from a raw 32-byte ed25519 secret (seed). */
export function privateKeyObject(secretKey: Uint8Array): KeyObject {
  checkLength(secretKey, "secret key");
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, secretKey]), format: "der", type: "pkcs8" });
}

/**
 * True for a canonical encoding of a point that is not of small order. A small-order key
 * (the all-zero encoding, say) lets anyone forge signatures that OpenSSL accepts, and the
 * two backends must agree on every verdict, so both refuse such keys up front.
 */
export function isStrongPublicKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  try {
    return !ed25519.Point.fromBytes(publicKey, false).isSmallOrder();
  } catch {
    return false;
  }
}

const publicCache = new Map<string, KeyObject>();

/** A node:crypto public key object from raw 32 bytes (cached: verification is a hot path). */
export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  checkLength(publicKey, "public key");
  const id = Buffer.from(publicKey).toString("hex");
  let k = publicCache.get(id);
  if (k === undefined) {
    if (!isStrongPublicKey(publicKey))
      throw new CryptoError("crypto.bad_key", "ed25519 public key is not a canonical point of large order");
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
    if (publicCache.size > 1024) publicCache.clear();
    publicCache.set(id, k);
  }
  return k;
}

/** Signs `payload` for `purpose` with node:crypto; the key is a KeyObject or raw 32-byte secret. */
export function sign(secretKey: KeyObject | Uint8Array, purpose: SigningPurpose, payload: Uint8Array): Uint8Array {
  const key = secretKey instanceof Uint8Array ? privateKeyObject(secretKey) : secretKey;
  return new Uint8Array(nodeSign(null, signingMessage(purpose, payload), key));
}

/** Verifies a signature with node:crypto (fast path); false for any malformed input. */
export function verify(
  publicKey: Uint8Array,
  purpose: SigningPurpose,
  payload: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return nodeVerify(null, signingMessage(purpose, payload), publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}

/** Signs with @noble/curves only (no node:crypto); same bytes as `sign`. */
export function signPure(secretKey: Uint8Array, purpose: SigningPurpose, payload: Uint8Array): Uint8Array {
  checkLength(secretKey, "secret key");
  return ed25519.sign(signingMessage(purpose, payload), secretKey);
}

/** Verifies with @noble/curves only: what an offline verifier with no native code uses. */
export function verifyPure(
  publicKey: Uint8Array,
  purpose: SigningPurpose,
  payload: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64 || !isStrongPublicKey(publicKey)) return false;
  try {
    // Strict RFC 8032 decoding (not ZIP 215), like OpenSSL, so both backends agree.
    return ed25519.verify(signature, signingMessage(purpose, payload), publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** The raw public key of a raw 32-byte ed25519 secret key. */
export function publicKeyOf(secretKey: Uint8Array): Uint8Array {
  checkLength(secretKey, "secret key");
  return ed25519.getPublicKey(secretKey);
}
