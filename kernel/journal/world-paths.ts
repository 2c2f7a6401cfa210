/**
 * @module The fixed layout of a world directory, which the kernel and the CLI share:
 * `journal.db` (the SQLite journal), `keys/world.key` (0600), `keys/adapter.key`,
 * `config.json`, `secrets.json` (0600, optional: values of `file:` defsecret bindings). Dependency-free, so the fastest commands can find a world's files.
 */
import { join } from "node:path";

/** Paths inside a world directory. */
export interface WorldPaths {
  dir: string;
  journal: string;
  keysDir: string;
  worldKey: string;
  adapterKey: string;
  config: string;
  /** Values of `file:KEY` defsecret bindings (JSON object, mode 0600); never journaled or bundled. */
  secrets: string;
}

/** The fixed paths of the world at `dir`. */
export function worldPaths(dir: string): WorldPaths {
  return {
    dir,
    journal: join(dir, "journal.db"),
    keysDir: join(dir, "keys"),
    worldKey: join(dir, "keys", "world.key"),
    adapterKey: join(dir, "keys", "adapter.key"),
    config: join(dir, "config.json"),
    secrets: join(dir, "secrets.json"),
  };
}
