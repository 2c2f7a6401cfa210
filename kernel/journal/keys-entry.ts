/**
 * @module `keys` entries: a rotation of the adapter keys a world declares. The world key
 * signs (purpose `keys`) the world id, the entry's seq and the new key set, so a rotation
 * cannot be replayed into another world or at another place in the log. From that seq on,
 * a receipt verifies only under a key of the new set.
 */
import { encodeCanonical, type CborValue } from "../../air/index.js";
import type { KeyPair } from "../crypto/keys.js";
import { verify, verifyPure } from "../crypto/sign.js";
import type { DeclaredKey, KeysBody } from "./entries.js";

/** The bytes the world key signs for a rotation at `seq`. */
export function keysPayload(worldId: string, seq: number, adapterKeys: readonly DeclaredKey[]): Uint8Array {
  return encodeCanonical({ world_id: worldId, seq, adapter_keys: adapterKeys.map((k) => ({ id: k.id, public_key: k.public_key })) as unknown as CborValue });
}

/** A signed `keys` body declaring `adapterKeys` from `seq` on. */
export function signKeysEntry(worldId: string, seq: number, adapterKeys: readonly DeclaredKey[], worldKey: KeyPair): KeysBody {
  return { adapter_keys: adapterKeys.map((k) => ({ id: k.id, public_key: k.public_key })), signature: worldKey.sign("keys", keysPayload(worldId, seq, adapterKeys)) };
}

/** True when the world key signed this rotation at `seq`. */
export function verifyKeysSignature(body: KeysBody, worldId: string, seq: number, worldPublicKey: Uint8Array, pure = false): boolean {
  const payload = keysPayload(worldId, seq, body.adapter_keys);
  return pure ? verifyPure(worldPublicKey, "keys", payload, body.signature) : verify(worldPublicKey, "keys", payload, body.signature);
}
