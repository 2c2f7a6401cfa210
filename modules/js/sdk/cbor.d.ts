/** Types of the plain-JS canonical CBOR codec (cbor.js). */
export declare class Tag {
  constructor(tag: number | bigint, value: unknown);
  tag: number | bigint;
  value: unknown;
}
/** Canonical CBOR bytes of a value. */
export declare function encode(v: unknown): Uint8Array;
/** Decodes exactly one definite-length CBOR item filling `bytes`. */
export declare function decode(bytes: Uint8Array): unknown;
