/**
 * @module The bytes behind a world's adapter-key declarations, shared by the journal
 * (which signs and checks `keys` rotation entries) and the offline bundle verifier (which
 * checks the declaration a bundle carries). Leaf modules only: no AIR loader, no SQLite.
 */
import { encodeCanonical } from "../../air/cbor/encode.js";
import type { CborValue } from "../../air/cbor/value.js";
import { verify, verifyPure } from "./sign.js";

/** One declared key: an id and a raw 32-byte ed25519 public key. */
export interface DeclaredKeyBytes {
  id: string;
  public_key: Uint8Array;
}

/** The bytes the world key signs (purpose `keys`) for a rotation at `seq`. */
export function keysPayload(worldId: string, seq: number, adapterKeys: readonly DeclaredKeyBytes[]): Uint8Array {
  return encodeCanonical({
    world_id: worldId,
    seq,
    adapter_keys: adapterKeys.map((k) => ({ id: k.id, public_key: k.public_key })) as unknown as CborValue,
  });
}

/** True when the world key signed the rotation to `adapterKeys` at `seq`. */
export function keysSignatureValid(
  worldId: string,
  seq: number,
  adapterKeys: readonly DeclaredKeyBytes[],
  signature: Uint8Array,
  worldPublicKey: Uint8Array,
  pure = false,
): boolean {
  const payload = keysPayload(worldId, seq, adapterKeys);
  return pure
    ? verifyPure(worldPublicKey, "keys", payload, signature)
    : verify(worldPublicKey, "keys", payload, signature);
}
