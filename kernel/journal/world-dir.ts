/**
 * @module The fixed layout of a world directory, which the kernel and the CLI share:
 * `journal.db` (the SQLite journal), `keys/world.key` (0600), `keys/adapter.key`,
 * `config.json`. Also the fallback state provider the CLI uses for on-demand checkpoints
 * until the kernel supplies real state roots.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { ZERO_STATE_ROOT, type StateRefs } from "./checkpoint.js";
import { parseEntryBody, type EntryKind } from "./entries.js";
import { JournalError } from "./errors.js";
import type { JournalEntry } from "./store.js";

export { worldPaths, type WorldPaths } from "./world-paths.js";

/**
 * The three members of the SQLite store `stateFromJournal` reads (a port, so this file does
 * not import `sqlite-store.ts`, which imports it).
 */
export interface JournalTail {
  readonly path: string;
  latestOfKind(kind: EntryKind): JournalEntry | null;
  getSync(seq: number): JournalEntry | null;
}

/**
 * State refs from the journal alone: the latest snapshot's state root and manifest hash,
 * else the genesis manifest hash with the all-zero state root. The kernel replaces this
 * with its live state provider.
 */
export function stateFromJournal(store: JournalTail): StateRefs {
  const snap = store.latestOfKind("snapshot");
  if (snap !== null) {
    const s = parseEntryBody("snapshot", decodeStored(snap.body), snap.seq);
    return {
      state_root: s.state_root as StateRefs["state_root"],
      manifest_hash: s.manifest_hash as StateRefs["manifest_hash"],
    };
  }
  const g = store.getSync(0);
  if (g === null) throw new JournalError("journal.bad_sequence", "journal has no genesis", { path: store.path });
  return {
    state_root: ZERO_STATE_ROOT,
    manifest_hash: parseEntryBody("genesis", decodeStored(g.body), 0).manifest_hash as StateRefs["manifest_hash"],
  };
}
