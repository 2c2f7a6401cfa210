/**
 * @module A world's keys as the kernel holds them: the check that the adapter key on disk is
 * one the journal declared (and config.json agrees with genesis), and adapter key rotation,
 * a fresh key file plus a `keys` entry signed by the world key.
 */
import { renameSync } from "node:fs";
import { generateKeyPair, saveKeyPair, type KeyPair } from "../crypto/keys.js";
import { decodeEntry, signKeysEntry, worldPaths, type EntryBodies } from "../journal/index.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { KernelError } from "../core/errors.js";
import type { WorldConfig } from "./config.js";
import type { KernelState } from "../transition/state.js";
import type { Writer } from "./writer.js";

/** The id under which genesis declares the world's adapter key. */
export const ADAPTER_KEY_ID = "adapter";

/**
 * Refuses a config.json or an adapter key file that contradicts genesis: behaviour is fixed
 * by the journal, and a replaced adapter key would sign receipts `wk verify` rejects.
 */
export function checkAgainstGenesis(
  genesis: EntryBodies["genesis"],
  config: WorldConfig,
  adapterKey: KeyPair,
  store: WorldJournal,
): void {
  if (config.world_id !== genesis.world_id)
    throw new KernelError(
      "kernel.config_mismatch",
      `config.json names world ${config.world_id}; the journal's genesis says ${genesis.world_id}`,
      { path: "$.world_id" },
    );
  if (genesis.format_version === 1) return;
  if (config.checkpoint_every !== genesis.checkpoint_every) {
    throw new KernelError(
      "kernel.config_mismatch",
      `config.json sets checkpoint_every ${config.checkpoint_every}; genesis fixed it at ${genesis.checkpoint_every}`,
      { path: "$.checkpoint_every" },
    );
  }
  const rotation = store.latestOfKind("keys");
  const declared =
    rotation?.kind === "keys"
      ? decodeEntry({ ...rotation, kind: rotation.kind }).body.adapter_keys
      : genesis.adapter_keys;
  if (!declared.some((k) => Buffer.compare(k.public_key, adapterKey.publicKey) === 0)) {
    throw new KernelError(
      "kernel.undeclared_key",
      `keys/adapter.key (${adapterKey.publicKeyHex.slice(0, 16)}…) is not an adapter key this world declared${rotation ? ` (latest rotation at seq ${rotation.seq})` : " in genesis"}: its receipts would not verify`,
    );
  }
}

/** What a rotation works with: the world's id (in its state), journal, world key and writer. */
export interface KeyParts {
  readonly state: Pick<KernelState, "worldId">;
  readonly store: WorldJournal;
  readonly worldKey: KeyPair;
  readonly writer: Writer;
}

/**
 * Rotates the adapter key of the world in `dir` (run under the writer): a fresh key pair
 * replaces keys/adapter.key (0600; the old file is kept as adapter.key.<seq>.old) and a `keys`
 * entry signed by the world key declares it from the next seq on; `adopt` takes the new key.
 */
export async function rotateAdapterKey(
  dir: string,
  w: KeyParts,
  adopt: (key: KeyPair) => void,
): Promise<{ seq: number; publicKey: string }> {
  const next = generateKeyPair();
  const seq = w.writer.height;
  const paths = worldPaths(dir);
  const a = await w.store.append(
    "keys",
    signKeysEntry(w.state.worldId, seq, [{ id: ADAPTER_KEY_ID, public_key: next.publicKey }], w.worldKey),
  );
  renameSync(paths.adapterKey, `${paths.adapterKey}.${a.seq}.old`);
  saveKeyPair(paths.adapterKey, next);
  adopt(next);
  w.writer.synced();
  return { seq: a.seq, publicKey: next.publicKeyHex };
}
