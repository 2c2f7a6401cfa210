/**
 * @module Signed checkpoints. A checkpoint entry at seq s covers the entries before it:
 * tree_size = s, root = Merkle root of those s entries, head_hash = hash of entry s−1,
 * plus the world's state root and manifest hash. The world key signs the canonical CBOR
 * of those five fields (purpose `checkpoint`). The state comes from a provider the
 * kernel supplies, so the journal never needs to know how state roots are computed.
 */
import type { HashText } from "../../air/hash.js";
import type { KeyPair } from "../crypto/keys.js";
import { checkpointSigningPayload } from "../crypto/checkpoint-payload.js";
import { verify, verifyPure } from "../crypto/sign.js";
import type { CheckpointBody } from "./entries.js";
import { JournalError } from "./errors.js";
import type { Appended, JournalStore } from "./store.js";

/** The state a checkpoint attests besides the tree. */
export interface StateRefs {
  state_root: HashText;
  manifest_hash: HashText;
}

/** Supplies the current state root and manifest hash when a checkpoint is written. */
export type StateProvider = () => StateRefs;

/** The all-zero hash, for a world with no state root yet. */
export const ZERO_STATE_ROOT: HashText = `sha256:${"0".repeat(64)}`;

/** The fields a checkpoint signature covers. */
export type CheckpointFields = Omit<CheckpointBody, "signature">;

/** The bytes the world key signs: canonical CBOR of the five checkpoint fields. */
export function checkpointPayload(f: CheckpointFields): Uint8Array {
  return checkpointSigningPayload(f);
}

/** Builds and signs a checkpoint body. */
export function signCheckpoint(f: CheckpointFields, key: KeyPair): CheckpointBody {
  const fields: CheckpointFields = {
    tree_size: f.tree_size,
    root: f.root,
    head_hash: f.head_hash,
    state_root: f.state_root,
    manifest_hash: f.manifest_hash,
  };
  return { ...fields, signature: key.sign("checkpoint", checkpointPayload(fields)) };
}

/** True when the world key signed this checkpoint; `pure` uses @noble/curves only. */
export function verifyCheckpointSignature(body: CheckpointBody, worldPublicKey: Uint8Array, pure = false): boolean {
  const payload = checkpointPayload(body);
  return pure
    ? verifyPure(worldPublicKey, "checkpoint", payload, body.signature)
    : verify(worldPublicKey, "checkpoint", payload, body.signature);
}

/**
 * Appends a checkpoint over every entry so far, through the generic store interface
 * (the SQLite store also writes them itself every N entries inside the append).
 * Single-writer stores make head, root and append consistent.
 */
export async function appendCheckpoint(store: JournalStore, key: KeyPair, state: StateProvider): Promise<Appended> {
  const head = await store.head();
  if (head === null) throw new JournalError("journal.bad_sequence", "cannot checkpoint an empty journal");
  const size = head.seq + 1;
  const body = signCheckpoint({ tree_size: size, root: await store.root(size), head_hash: head.hash, ...state() }, key);
  return store.append("checkpoint", body);
}
