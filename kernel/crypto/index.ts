/**
 * @module Public surface of kernel/crypto: keys, domain-separated signatures, Merkle proof
 * verification, receipt envelopes and the offline receipt-bundle verifier. Named
 * re-exports only; nothing here depends on SQLite or WASM.
 */
export { CryptoError } from "./errors.js";
export type { CryptoErrorCode } from "./errors.js";
export {
  KeyFileSchema,
  KeyPair,
  generateKeyPair,
  saveKeyPair,
  savePublicKey,
  loadKeyPair,
  loadPublicKey,
} from "./keys.js";
export type { KeyFile } from "./keys.js";
export {
  SIGNING_PURPOSES,
  signingMessage,
  privateKeyObject,
  publicKeyObject,
  sign,
  verify,
  signPure,
  verifyPure,
  publicKeyOf,
} from "./sign.js";
export type { SigningPurpose } from "./sign.js";
export {
  EMPTY_ROOT,
  leafHash,
  nodeHash,
  bytesEqual,
  rootOfLeafHashes,
  rootFromInclusionProof,
  verifyInclusion,
  verifyEntryInclusion,
  verifyConsistency,
} from "./merkle-verify.js";
export {
  ReceiptStatusSchema,
  ReceiptEnvelopeSchema,
  EffectReceiptBodySchema,
  receiptSigningPayload,
  signReceipt,
  verifyReceipt,
  buildReceiptEnvelope,
  buildEffectReceiptBody,
  checkEffectReceiptBody,
} from "./receipt.js";
export type { ReceiptStatus, ReceiptEnvelope, EffectReceiptBody, ReceiptSigner, ReceiptInput } from "./receipt.js";
export {
  BUNDLE_FORMAT,
  ReceiptBundleSchema,
  bundleEntryHash,
  checkpointSigningPayload,
  buildBundle,
  exportBundle,
  findReceiptSeq,
} from "./bundle.js";
export type {
  ReceiptBundle,
  BundleInput,
  SignedCheckpointFields,
  BundleSource,
  BundleSourceEntry,
  ExportFailure,
} from "./bundle.js";
export { verifyBundle } from "./verify-bundle.js";
export type { BundleFault, BundleVerdict, VerifyBundleOptions } from "./verify-bundle.js";
export { verifyBundleFile } from "./verify-bundle-main.js";
export type { VerifyFileResult } from "./verify-bundle-main.js";
