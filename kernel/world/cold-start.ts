/**
 * @module Cold start of a world opened for writing: its config, keys and journal (checked
 * against genesis), the state booted from the latest covered snapshot, then the tail re-run,
 * and so re-verified, by the live processor before the world takes any input.
 */
import type { KeyPair } from "../crypto/keys.js";
import { loadKeyPair } from "../crypto/keys.js";
import { worldPaths } from "../journal/index.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { KernelError } from "../core/errors.js";
import { bootState, readGenesis } from "./boot.js";
import { readConfig, type WorldConfig } from "./config.js";
import { openWorldJournal, storeOptions } from "./journal-open.js";
import type { KernelState } from "../transition/state.js";
import { checkAgainstGenesis } from "./keys.js";
import { ModuleHost } from "./modules.js";
import type { OpenOptions } from "./open-options.js";
import type { Processor } from "./processor.js";
import { replayRange } from "./replay.js";
import { checkTailOnOpen, tailRefusal } from "./verify-world.js";

/** What a cold start hands the world it builds. */
export interface Booted {
  store: WorldJournal;
  state: KernelState;
  modules: ModuleHost;
  worldKey: KeyPair;
  adapterKey: KeyPair;
  config: WorldConfig;
}

/** Opens the world in `dir`, builds it with `build`, and re-runs the tail after its latest snapshot. */
export async function coldStart<W extends { readonly store: WorldJournal; readonly processor: Processor }>(
  dir: string,
  opts: OpenOptions,
  build: (b: Booted) => W,
): Promise<W> {
  const paths = worldPaths(dir);
  const config = readConfig(paths.config);
  const worldKey = loadKeyPair(paths.worldKey);
  const adapterKey = loadKeyPair(paths.adapterKey);
  const store = await openWorldJournal(dir, config, storeOptions(config, worldKey, opts));
  try {
    const { genesis, catalog } = readGenesis(store);
    checkAgainstGenesis(genesis, config, adapterKey, store);
    // Derive before trust: boot only from a snapshot a signed checkpoint covers; the rules check
    // everything after it against the state it implies, and re-execution derives that state again.
    const { state, from, snapshotSeq } = bootState(store, genesis, catalog, { snapshot: "latest" });
    await checkTailOnOpen(store, snapshotSeq);
    const modules = new ModuleHost((h) => store.getBlobSync(h));
    const world = build({ store, state, modules, worldKey, adapterKey, config });
    const r = await replayRange(world.store, world.processor, from, undefined);
    world.processor.adopted.length = 0;
    if (!r.ok) {
      await modules.close();
      const d = r.divergence!;
      // A recorded cache that disagrees with the derived state is the fault verify names.
      if (d.fault !== undefined) throw tailRefusal(store, { fault: d.fault, first_bad_seq: d.seq, message: d.reason });
      throw new KernelError("kernel.replay_divergence", `cold start diverged at seq ${d.seq}: ${d.reason}`, {
        divergence: d,
      });
    }
    return world;
  } catch (e) {
    await store.close();
    throw e;
  }
}
