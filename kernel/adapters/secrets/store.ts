/**
 * @module Where secret values live: a defsecret's `binding_id` names them, `env:VAR` (a variable
 * of the kernel's environment) or `file:KEY` (a key of the world's `secrets.json`, a JSON object
 * of text values in a file of mode 0600). Read at each use, so a rotated value applies at once;
 * only the adapter shell reads them, at dispatch, never the transition or replay.
 */
import { constants, fstatSync, openSync, readFileSync, closeSync } from "node:fs";
import { z } from "zod";
import { SecretError } from "../errors.js";

/** Reads secret values by binding id; throws a `SecretError` (naming the binding, never a value). */
export interface SecretStore {
  read(bindingId: string): string;
}

/** Where a store looks: the world's secrets file and an environment. */
export interface SecretStoreOptions {
  /** The secrets file (`<world>/secrets.json`); absent: `file:` bindings are unavailable. */
  file?: string;
  /** The environment `env:` bindings read. */
  env?: Readonly<Record<string, string | undefined>>;
}

const SecretsFileSchema = z.record(z.string(), z.string());

/** The env-and-file secret store. */
export function secretStore(opts: SecretStoreOptions): SecretStore {
  return {
    read(bindingId) {
      const m = /^(env|file):(.+)$/.exec(bindingId);
      if (!m) throw new SecretError("secret.bad_binding", bindingId, "a binding_id is env:VAR or file:KEY");
      const [, scheme, key] = m as unknown as [string, "env" | "file", string];
      const value = scheme === "env" ? opts.env?.[key] : readSecretsFile(opts.file, bindingId)[key];
      if (value === undefined || value === "")
        throw new SecretError(
          "secret.unavailable",
          bindingId,
          scheme === "env" ? `the environment has no ${key}` : `the secrets file has no key ${JSON.stringify(key)}`,
        );
      return value;
    },
  };
}

/**
 * The secrets file's values. Refused like a key file: a symlink (the path must stay the
 * world's own file), anything but a regular file, or a mode group or others can read.
 */
export function readSecretsFile(file: string | undefined, bindingId: string): Record<string, string> {
  if (file === undefined) throw new SecretError("secret.unavailable", bindingId, "this kernel has no secrets file");
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT")
      throw new SecretError("secret.unavailable", bindingId, "there is no secrets file", { path: file });
    if (code === "ELOOP")
      throw new SecretError("secret.bad_file", bindingId, "the secrets file is a symlink; it must be a regular file", {
        path: file,
      });
    throw new SecretError("secret.bad_file", bindingId, `the secrets file cannot be opened (${code ?? "error"})`, {
      path: file,
    });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new SecretError("secret.bad_file", bindingId, "the secrets file is not a regular file", { path: file });
    const mode = st.mode & 0o777;
    if ((mode & 0o077) !== 0)
      throw new SecretError(
        "secret.file_permissions",
        bindingId,
        `the secrets file has mode ${mode.toString(8).padStart(4, "0")}; it must not be readable by group or others (chmod 600)`,
        { path: file },
      );
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(fd, "utf8"));
    } catch {
      // Never echo the parser's message: it quotes the file's text, which is secret.
      throw new SecretError("secret.bad_file", bindingId, "the secrets file is not JSON", { path: file });
    }
    const r = SecretsFileSchema.safeParse(json);
    if (!r.success)
      throw new SecretError("secret.bad_file", bindingId, "the secrets file must be a JSON object of text values", {
        path: file,
      });
    return r.data;
  } finally {
    closeSync(fd);
  }
}
