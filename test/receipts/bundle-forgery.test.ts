/**
 * @module Receipts re-signed by a key the world never declared for its adapters — the
 * world key itself, or a fresh key — are refused offline even when the checkpoint over them
 * carries the real world key's signature: the bundle proves the genesis that declares the
 * adapter keys, and the verifier holds the receipt to it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { verifyBundle } from "../../kernel/crypto/index.js";
import { verifyBundleFile } from "../../kernel/crypto/verify-bundle-main.js";
import { makeBundleFixture } from "./fixture.js";

describe("receipt bundles: the signer must be a declared adapter key", () => {
  it("an honest bundle verifies with the world key pinned", async () => {
    const f = await makeBundleFixture();
    expect(verifyBundle(f.bundle, { worldPublicKey: f.worldKey.publicKeyHex })).toMatchObject({ ok: true });
  });

  for (const resign of ["world", "fresh"] as const) {
    it(`a receipt re-signed with the ${resign} key fails wk receipt verify --world-key with undeclared_signer`, async () => {
      const f = await makeBundleFixture({ resign });
      const file = join(f.dir, "forged.json");
      writeFileSync(file, JSON.stringify(f.bundle));
      const r = verifyBundleFile(file, { worldPublicKey: f.worldKey.publicKeyHex, json: true });
      expect(r.exitCode).toBe(1);
      expect(r.verdict).toMatchObject({ ok: false, fault: "undeclared_signer" });
    });
  }

  it("a declaration swapped for another world's genesis, or not proven under the checkpoint, is bad_declaration", async () => {
    const f = await makeBundleFixture();
    const other = await makeBundleFixture();
    expect(verifyBundle({ ...f.bundle, declaration: other.bundle.declaration })).toMatchObject({
      ok: false,
      fault: "bad_declaration",
    });
    const d = structuredClone(f.bundle.declaration!);
    d.inclusion.path[0] = "00".repeat(32);
    expect(verifyBundle({ ...f.bundle, declaration: d })).toMatchObject({ ok: false, fault: "bad_declaration" });
  });
});
