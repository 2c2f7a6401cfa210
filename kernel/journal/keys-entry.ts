/**
 * @module `keys` entries: a rotation of the adapter keys a world declares. The world key
 * signs (purpose `keys`) the world id, the entry's seq and the new key set, so a rotation
 * cannot be replayed into another world or at another place in the log. From that seq on,
 * a receipt verifies only under a key of the new set.
 */
import type { KeyPair } from "../crypto/keys.js";
import { keysPayload, keysSignatureValid } from "../crypto/key-declaration.js";
import type { DeclaredKey, KeysBody } from "./entries.js";

export { keysPayload };

/** A signed `keys` body declaring `adapterKeys` from `seq` on. */
export function signKeysEntry(
  worldId: string,
  seq: number,
  adapterKeys: readonly DeclaredKey[],
  worldKey: KeyPair,
): KeysBody {
  return {
    adapter_keys: adapterKeys.map((k) => ({ id: k.id, public_key: k.public_key })),
    signature: worldKey.sign("keys", keysPayload(worldId, seq, adapterKeys)),
  };
}

/** True when the world key signed this rotation at `seq`. */
export function verifyKeysSignature(
  body: KeysBody,
  worldId: string,
  seq: number,
  worldPublicKey: Uint8Array,
  pure = false,
): boolean {
  return keysSignatureValid(worldId, seq, body.adapter_keys, body.signature, worldPublicKey, pure);
}
