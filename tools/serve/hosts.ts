/**
 * @module Opening the worlds a long-running process hosts (`wk serve`, `wk mcp`): one
 * `WorldHost` per world id. A world that cannot be hosted — a copy of one already open (a
 * copied world keeps its id), a journal another writer holds (`journal.locked`) — is skipped
 * and reported, and the others are served; the caller decides what none at all means.
 */
import { readConfig } from "../../kernel/world/config.js";
import { worldPaths } from "../../kernel/journal/world-paths.js";
import { WorldHost, type HostOptions } from "./world-host.js";

/** A world directory that was not hosted, and why (a coded error). */
export interface Skipped {
  dir: string;
  code: string;
  message: string;
}

/** Opens a host for each of `dirs` by world id (`options` per world: each gets its own pool); reports the ones skipped through `skip`. */
export async function openHosts(
  dirs: readonly string[],
  options: () => HostOptions,
  skip: (s: Skipped) => void,
): Promise<Map<string, WorldHost>> {
  const hosts = new Map<string, WorldHost>();
  try {
    for (const dir of dirs) {
      const id = readConfig(worldPaths(dir).config).world_id;
      const other = hosts.get(id);
      if (other !== undefined) {
        skip({
          dir,
          code: "serve.duplicate_world",
          message: `world ${id} is already served from ${other.dir} (a copied world keeps its id)`,
        });
        continue;
      }
      try {
        hosts.set(id, await WorldHost.open(dir, options()));
      } catch (e) {
        skip({ dir, code: (e as { code?: string }).code ?? "kernel.internal", message: (e as Error).message });
      }
    }
  } catch (e) {
    for (const h of hosts.values()) await h.close().catch(() => undefined);
    throw e;
  }
  return hosts;
}
