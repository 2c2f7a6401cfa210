/**
 * @module The bytes a worldkernel signature covers (`"worldkernel/v1/" + purpose + "\0"` ‖
 * payload), and a node:crypto verification for a key that was admitted elsewhere. Kept apart
 * from sign.ts, which loads @noble/curves (~30 ms), so `wk state` can check the head
 * checkpoint's signature in its start-up budget.
 */
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { CryptoError } from "./errors.js";

/** Every purpose a worldkernel signature may carry. */
export const SIGNING_PURPOSES = [
  "checkpoint",
  "receipt",
  "approval",
  "effect_approval",
  "anchor",
  "keys",
  "proposal",
] as const;

/** One signing purpose; part of the signed bytes. */
export type SigningPurpose = (typeof SIGNING_PURPOSES)[number];

const PREFIX = "worldkernel/v1/";
const utf8 = new TextEncoder();
const prefixes = new Map<string, Uint8Array>(SIGNING_PURPOSES.map((p) => [p, utf8.encode(`${PREFIX}${p}\0`)]));

/** The exact bytes an ed25519 signature for `purpose` covers. */
export function signingMessage(purpose: SigningPurpose, payload: Uint8Array): Uint8Array {
  const prefix = prefixes.get(purpose);
  if (prefix === undefined) throw new CryptoError("crypto.bad_purpose", `unknown signing purpose "${String(purpose)}"`);
  const out = new Uint8Array(prefix.length + payload.length);
  out.set(prefix, 0);
  out.set(payload, prefix.length);
  return out;
}

/** DER wrapper that lets node:crypto take a raw 32-byte ed25519 public key (RFC 8410). */
export const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/**
 * Verifies with node:crypto, trusting that `publicKey` is a strong point: it must come from
 * where it was admitted strictly (a genesis or keys entry, whose parse refuses small-order
 * keys). False for any malformed input. Everywhere else use sign.ts `verify`.
 */
export function verifyAdmittedKey(
  publicKey: Uint8Array,
  purpose: SigningPurpose,
  payload: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (
    !(publicKey instanceof Uint8Array) ||
    publicKey.length !== 32 ||
    !(signature instanceof Uint8Array) ||
    signature.length !== 64
  )
    return false;
  try {
    const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: "der", type: "spki" });
    return nodeVerify(null, signingMessage(purpose, payload), key, signature);
  } catch {
    return false;
  }
}
