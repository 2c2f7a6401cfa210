/**
 * @module Public surface of the AIR layer: canonical CBOR, hashing, def schemas, typed
 * values and the loader. Named re-exports only.
 */
export { encodeCanonical, encodeStored, compareBytes } from "./cbor/encode.js";
export { decodeCanonical, decodeStored } from "./cbor/decode.js";
export { CborTag, DEC128_TAG, SELF_DESCRIBE_PREFIX, isCborObject } from "./cbor/value.js";
export type { CborValue, CborObject, CborMap } from "./cbor/value.js";
export { encodeDec128, decodeDec128, parseDecimal } from "./cbor/dec128.js";
export { sha256, hashBytes, hashValue, hashTypedValue, hashToBytes, bytesToHash, toHex, fromHex, HASH_PATTERN } from "./hash.js";
export type { HashText } from "./hash.js";
export { AirError, jsonPath } from "./errors.js";
export type { AirErrorCode, AirIssue } from "./errors.js";
