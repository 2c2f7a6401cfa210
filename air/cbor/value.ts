/**
 * @module The CBOR data model shared by the canonical encoder and the strict decoder.
 * Integers are `number` when safe and `bigint` beyond 2^53; text-keyed maps are plain
 * objects, maps with any other key type are `Map`s; tags are `CborTag`.
 */

/** A CBOR data item in worldkernel's data model. */
export type CborValue =
  null | boolean | number | bigint | string | Uint8Array | CborValue[] | CborMap | CborObject | CborTag | CborRaw;

/** A map with text keys, the common case (records, envelopes, JSON objects). */
export interface CborObject {
  [key: string]: CborValue;
}

/** A map whose keys are not all text (int, nat, bytes keys of typed maps). */
export type CborMap = Map<CborValue, CborValue>;

/** A tagged data item (major type 6). */
export class CborTag {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

/** The self-describe tag 55799 that prefixes every stored or hashed canonical item. */
export const SELF_DESCRIBE_PREFIX = Uint8Array.of(0xd9, 0xd9, 0xf7);

/** The tag that carries an IEEE 754 decimal128 payload (16 bytes, big-endian BID). */
export const DEC128_TAG = 2000;

/** True for a plain object used as a text-keyed map (not an array, bytes, Map or tag). */
export function isCborObject(v: unknown): v is CborObject {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * Bytes that are already one canonical CBOR item, spliced verbatim by the encoder.
 * The kernel uses it to put stored cell states and event values into envelopes without
 * decoding and re-encoding them; the decoder never produces it.
 */
export class CborRaw {
  constructor(readonly bytes: Uint8Array) {}
}
