/**
 * @module A world's secret store: `env:VAR` bindings from the kernel's environment, `file:KEY`
 * bindings from the world's own `secrets.json` (mode 0600, never a symlink). Read by adapters
 * at dispatch only; replay, audit and verification never open it.
 */
import { secretStore, type SecretStore } from "../adapters/secrets/store.js";
import { worldPaths } from "../journal/world-paths.js";

/** The default secret store of the world at `dir`. */
export function worldSecretStore(
  dir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): SecretStore {
  return secretStore({ file: worldPaths(dir).secrets, env });
}
