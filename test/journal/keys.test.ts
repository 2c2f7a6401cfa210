/**
 * @module Key files: created 0600, refused when group/world-readable, public-key-only
 * form, no overwrite, and a KeyPair that never prints its secret.
 */
import { chmodSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { generateKeyPair, loadKeyPair, loadPublicKey, saveKeyPair, savePublicKey } from "../../kernel/crypto/keys.js";
import { verify } from "../../kernel/crypto/sign.js";
import { codeOf, tempDir } from "./helpers.js";

describe("ed25519 key files", () => {
  it("round-trips a key pair through a 0600 file and signs with it", () => {
    const { dir } = tempDir();
    const file = join(dir, "world.key");
    const key = generateKeyPair();
    saveKeyPair(file, key);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const json = JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
    expect(Object.keys(json).sort()).toEqual(["kind", "public_key", "secret_key"]);
    expect(json.kind).toBe("ed25519");
    const loaded = loadKeyPair(file);
    expect(loaded.publicKeyHex).toBe(key.publicKeyHex);
    expect(verify(key.publicKey, "approval", Uint8Array.of(1), loaded.sign("approval", Uint8Array.of(1)))).toBe(true);
  });

  it("refuses a secret key readable by group or others, naming the file", () => {
    const { dir } = tempDir();
    const file = join(dir, "world.key");
    saveKeyPair(file, generateKeyPair());
    for (const mode of [0o640, 0o604, 0o644]) {
      chmodSync(file, mode);
      expect(codeOf(() => loadKeyPair(file))).toBe("crypto.key_permissions");
    }
    chmodSync(file, 0o400);
    expect(codeOf(() => loadKeyPair(file))).toBe("no error");
  });

  it("loads the public half from either form; a public-only file has no secret", () => {
    const { dir } = tempDir();
    const key = generateKeyPair();
    const pub = join(dir, "world.pub");
    savePublicKey(pub, key.publicKey);
    expect(Buffer.from(loadPublicKey(pub)).toString("hex")).toBe(key.publicKeyHex);
    expect(codeOf(() => loadKeyPair(pub))).toBe("crypto.no_secret_key");
    expect(JSON.parse(readFileSync(pub, "utf8"))).toEqual({ kind: "ed25519", public_key: key.publicKeyHex });
  });

  it("refuses to overwrite, and rejects missing, malformed or inconsistent files", () => {
    const { dir } = tempDir();
    const file = join(dir, "k.key");
    saveKeyPair(file, generateKeyPair());
    expect(codeOf(() => saveKeyPair(file, generateKeyPair()))).toBe("crypto.key_exists");
    expect(codeOf(() => loadKeyPair(join(dir, "missing.key")))).toBe("crypto.key_not_found");
    const bad = join(dir, "bad.key");
    writeFileSync(bad, "{not json", { mode: 0o600 });
    expect(codeOf(() => loadKeyPair(bad))).toBe("crypto.bad_key_file");
    const a = generateKeyPair();
    const b = generateKeyPair();
    const mixed = join(dir, "mixed.key");
    writeFileSync(
      mixed,
      JSON.stringify({
        kind: "ed25519",
        public_key: b.publicKeyHex,
        secret_key: Buffer.from(a.secretKeyBytes()).toString("hex"),
      }),
      { mode: 0o600 },
    );
    expect(codeOf(() => loadKeyPair(mixed))).toBe("crypto.bad_key_file");
  });

  it("never prints the secret key", () => {
    const key = generateKeyPair();
    const secretHex = Buffer.from(key.secretKeyBytes()).toString("hex");
    expect(inspect(key)).not.toContain(secretHex);
    expect(JSON.stringify(key)).not.toContain(secretHex);
    expect(String(key)).not.toContain(secretHex);
    expect(inspect({ nested: key }, { depth: 5 })).not.toContain(secretHex);
  });
});
