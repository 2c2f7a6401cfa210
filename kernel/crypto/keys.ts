/**
 * @module ed25519 key files. A key pair is JSON `{kind, public_key, secret_key}` (hex)
 * in a file of mode 0600; a public key alone is `{kind, public_key}`. Loading refuses a
 * secret key that group or others can read, and a `KeyPair` never prints its secret.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { inspect } from "node:util";
import type { KeyObject } from "node:crypto";
import { ed25519 } from "@noble/curves/ed25519.js";
import { z } from "zod";
import { CryptoError } from "./errors.js";
import { privateKeyObject, publicKeyOf, sign, type SigningPurpose } from "./sign.js";

const hex32 = z.string().regex(/^[0-9a-f]{64}$/, "64 lowercase hex digits");

/** A key file as stored on disk (the secret is optional: public-key-only files). */
export const KeyFileSchema = z.strictObject({
  kind: z.literal("ed25519"),
  public_key: hex32,
  secret_key: hex32.optional(),
});
export type KeyFile = z.infer<typeof KeyFileSchema>;

const fromHex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** An ed25519 key pair; the secret stays private and is redacted from logs and JSON. */
export class KeyPair {
  readonly publicKey: Uint8Array;
  readonly #secret: Uint8Array;
  #keyObject: KeyObject | undefined;

  constructor(secretKey: Uint8Array) {
    this.#secret = Uint8Array.from(secretKey);
    this.publicKey = publicKeyOf(this.#secret);
  }

  /** Signs `payload` for `purpose` (domain-separated, node:crypto). */
  sign(purpose: SigningPurpose, payload: Uint8Array): Uint8Array {
    this.#keyObject ??= privateKeyObject(this.#secret);
    return sign(this.#keyObject, purpose, payload);
  }

  /** The raw 32-byte secret; only for writing the key file or the pure signer. */
  secretKeyBytes(): Uint8Array {
    return Uint8Array.from(this.#secret);
  }

  /** Hex of the public key. */
  get publicKeyHex(): string {
    return toHex(this.publicKey);
  }

  toJSON(): { kind: "ed25519"; public_key: string } {
    return { kind: "ed25519", public_key: this.publicKeyHex };
  }

  [inspect.custom](): string {
    return `KeyPair(ed25519 public_key=${this.publicKeyHex}, secret_key=<redacted>)`;
  }
}

/** A fresh random ed25519 key pair. */
export function generateKeyPair(): KeyPair {
  return new KeyPair(ed25519.utils.randomSecretKey());
}

/** Writes a key pair as a new 0600 file; refuses to overwrite an existing file. */
export function saveKeyPair(file: string, key: KeyPair): void {
  const body: KeyFile = { kind: "ed25519", public_key: key.publicKeyHex, secret_key: toHex(key.secretKeyBytes()) };
  try {
    writeFileSync(file, JSON.stringify(body, null, 2) + "\n", { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST")
      throw new CryptoError("crypto.key_exists", "a key file already exists here; refusing to overwrite it", {
        path: file,
      });
    throw e;
  }
  chmodSync(file, 0o600); // the umask can only narrow the mode; make it exact anyway
}

/** Writes the public half only (mode 0644: it is meant to be shared). */
export function savePublicKey(file: string, publicKey: Uint8Array): void {
  const body: KeyFile = { kind: "ed25519", public_key: toHex(publicKey) };
  writeFileSync(file, JSON.stringify(body, null, 2) + "\n", { mode: 0o644, flag: "wx" });
}

function readKeyFile(file: string): KeyFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT")
      throw new CryptoError("crypto.key_not_found", "no key file", { path: file });
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CryptoError("crypto.bad_key_file", "key file is not JSON", { path: file });
  }
  const r = KeyFileSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new CryptoError(
      "crypto.bad_key_file",
      `key file is malformed at $.${issue?.path.join(".") ?? ""}: ${issue?.message ?? ""}`,
      { path: file },
    );
  }
  return r.data;
}

/** Loads a key pair; refuses group/world-readable files and a mismatched public key. */
export function loadKeyPair(file: string): KeyPair {
  const kf = readKeyFile(file);
  if (kf.secret_key === undefined)
    throw new CryptoError("crypto.no_secret_key", "key file holds a public key only", { path: file });
  const mode = statSync(file).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new CryptoError(
      "crypto.key_permissions",
      `secret key file has mode ${mode.toString(8).padStart(4, "0")}; it must not be readable by group or others (chmod 600)`,
      { path: file },
    );
  }
  const key = new KeyPair(fromHex(kf.secret_key));
  if (key.publicKeyHex !== kf.public_key)
    throw new CryptoError("crypto.bad_key_file", "public_key does not match secret_key", { path: file });
  return key;
}

/** Loads the public key from a key file (either form); never touches the secret. */
export function loadPublicKey(file: string): Uint8Array {
  return fromHex(readKeyFile(file).public_key);
}
