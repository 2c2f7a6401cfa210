/**
 * @module The bytes a checkpoint signature covers — one definition for the journal that signs
 * them, the offline bundle verifier and `wk state`'s sealed-head check.
 */
import { encodeCanonical } from "../../air/cbor/encode.js";
import type { HashText } from "../../air/hash.js";

/** The checkpoint fields the world key signs. */
export interface SignedCheckpointFields {
  tree_size: number;
  root: Uint8Array;
  head_hash: Uint8Array;
  state_root: HashText | string;
  manifest_hash: HashText | string;
}

/** Canonical CBOR (no 55799 prefix) of the five signed checkpoint fields, nothing else. */
export function checkpointSigningPayload(f: SignedCheckpointFields): Uint8Array {
  return encodeCanonical({
    tree_size: f.tree_size,
    root: f.root,
    head_hash: f.head_hash,
    state_root: f.state_root,
    manifest_hash: f.manifest_hash,
  });
}
