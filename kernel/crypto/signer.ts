/**
 * @module Who signs an approval. A `KeyPair` signs with its secret key; a presigned signer
 * carries a signature made elsewhere (an approver's browser) and only checks it, so a server
 * that records approvals never holds an approver's secret key. Both meet the same `Signer`.
 */
import { CryptoError } from "./errors.js";
import { isStrongPublicKey, verify, type SigningPurpose } from "./sign.js";

/** What an approval needs from its signer: the public key it names and a signature over a payload. */
export interface Signer {
  readonly publicKeyHex: string;
  sign(purpose: SigningPurpose, payload: Uint8Array): Uint8Array;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;

/**
 * A signer that returns `signatureHex` for the one payload it signs, after checking it there
 * (`crypto.bad_signature` when it does not hold, so nothing unsigned is ever journaled).
 */
export function presignedSigner(publicKeyHex: string, signatureHex: string): Signer {
  if (!HEX64.test(publicKeyHex) || !isStrongPublicKey(Buffer.from(publicKeyHex, "hex")))
    throw new CryptoError("crypto.bad_key", "public_key must be an ed25519 public key as 64 lowercase hex digits", {
      path: "$.public_key",
    });
  if (!HEX128.test(signatureHex))
    throw new CryptoError("crypto.bad_signature", "signature must be 128 lowercase hex digits (64 bytes)", {
      path: "$.signature",
    });
  const pk = Uint8Array.from(Buffer.from(publicKeyHex, "hex"));
  const sig = Uint8Array.from(Buffer.from(signatureHex, "hex"));
  return {
    publicKeyHex,
    sign(purpose, payload) {
      if (!verify(pk, purpose, payload, sig))
        throw new CryptoError(
          "crypto.bad_signature",
          `the signature does not hold for key ${publicKeyHex.slice(0, 16)}… over this ${purpose} message`,
          { path: "$.signature" },
        );
      return sig;
    },
  };
}
