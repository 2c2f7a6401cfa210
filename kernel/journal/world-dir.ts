/**
 * @module The fixed layout of a world directory, which the kernel and the CLI share:
 * `journal.db` (the SQLite journal), `keys/world.key` (0600), `keys/adapter.key`,
 * `config.json`. Also the fallback state provider the CLI uses for on-demand checkpoints
 * until the kernel supplies real state roots.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { ZERO_STATE_ROOT, type StateRefs } from "./checkpoint.js";
import { parseEntryBody } from "./entries.js";
import { JournalError } from "./errors.js";
import type { SqliteJournalStore } from "./sqlite-store.js";

export { worldPaths, type WorldPaths } from "./world-paths.js";

/**
 * State refs from the journal alone: the latest snapshot's state root and manifest hash,
 * else the genesis manifest hash with the all-zero state root. The kernel replaces this
 * with its live state provider.
 */
export function stateFromJournal(store: SqliteJournalStore): StateRefs {
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
