/**
 * @module The one way to build a `Processor`. A live world signs its gate denials with the
 * world key; every rebuild (replay, cold start, shadow, counterfactual) holds only the public
 * key and checks the recorded denials against it.
 */
import type { KeyPair } from "../crypto/keys.js";
import type { KernelState } from "../transition/state.js";
import type { ModuleHost } from "./modules.js";
import { Processor, gateDenySigner, unsignedDenySigner } from "./processor.js";

/** How gate denials are signed: with the world key (live), or checked against its public key (rebuilds). */
export type DenialKey = { signWith: KeyPair } | { publicKey: Uint8Array };

/** A processor stepping `state` (whose `worldId` the denials name) with `modules`. */
export function newProcessor(state: KernelState, modules: ModuleHost, key: DenialKey): Processor {
  const signer =
    "signWith" in key ? gateDenySigner(state.worldId, key.signWith) : unsignedDenySigner(state.worldId, key.publicKey);
  return new Processor(state, modules, signer);
}
