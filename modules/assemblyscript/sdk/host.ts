/**
 * @module Host calls for worldkernel AssemblyScript modules (`extism:host/user`). Import
 * only what you use: a module is linked with exactly the host calls its bound cap slots
 * grant (`blob_get` needs a slot of cap type `blob`), and AssemblyScript imports a host
 * function only when the module calls it. Kept out of `index.ts` on purpose.
 */
import { Memory } from "@extism/as-pdk";

/** Raw `blob_get`: Extism block offset of the UTF-8 `sha256:<hex>` in, block offset of the bytes out. */
@external("extism:host/user", "blob_get")
export declare function blob_get(offs: u64): u64;

/** Raw Extism `length` of a block. */
@external("extism:host/env", "length")
export declare function block_length(offs: u64): u64;

const HEX = "0123456789abcdef";

/** `sha256:<hex>` text of a 32-byte hash (the form `blob_get` and the CAS speak). */
export function hashText(hash: Uint8Array): string {
  let s = "sha256:";
  for (let i = 0; i < hash.length; i++) {
    s += HEX.charAt(hash[i] >> 4) + HEX.charAt(hash[i] & 15);
  }
  return s;
}

/** The bytes of a CAS blob (`ref` = `sha256:<hex>`); the host traps if the blob is absent. */
export function blobGet(ref: string): Uint8Array {
  const input = Memory.allocateString(ref);
  const out = blob_get(input.offset);
  input.free();
  const m = new Memory(out, block_length(out));
  const bytes = m.toUint8Array();
  m.free();
  return bytes;
}

/** A CAS blob decoded as UTF-8 text. */
export function blobGetText(ref: string): string {
  return String.UTF8.decode(blobGet(ref).buffer);
}
