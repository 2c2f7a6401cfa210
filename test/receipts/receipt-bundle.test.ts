/**
 * Offline receipt bundles, end to end: a real SQLite journal, a real adapter outcome, a
 * real signed checkpoint, exported, then verified in-process and in a FRESH process with
 * no world directory. Every byte of every hex field, and a character of every string
 * field, is tampered with: verification must fail with the fault that field guards.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeStored, encodeStored, type CborValue } from "../../air/index.js";
import {
  bundleEntryHash,
  checkpointSigningPayload,
  findReceiptSeq,
  generateKeyPair,
  signReceipt,
  verifyBundle,
  verifyBundleFile,
  type BundleFault,
  type ReceiptBundle,
} from "../../kernel/crypto/index.js";
import { checkpointPayload, entryHash } from "../../kernel/journal/index.js";
import { makeBundleFixture, type BundleFixture } from "./fixture.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const run = promisify(execFile);
let fx: BundleFixture;
beforeAll(async () => {
  fx = await makeBundleFixture();
});

const clone = (b: ReceiptBundle): ReceiptBundle => JSON.parse(JSON.stringify(b)) as ReceiptBundle;
const flipHex = (hex: string, i: number, mask: number): string => {
  const b = Buffer.from(hex, "hex");
  b[i] = b[i]! ^ mask;
  return b.toString("hex");
};
const flipChar = (s: string, i: number): string => {
  const c = s[i]!;
  const r = /[0-9a-f]/.test(c) ? (c === "0" ? "1" : "0") : c === "x" ? "y" : "x";
  return s.slice(0, i) + r + s.slice(i + 1);
};

/** Every hex field as [path, getter, setter, the fault tampering must produce]. */
type Field = [string, (b: ReceiptBundle) => string, (b: ReceiptBundle, v: string) => void, BundleFault];
function hexFields(b: ReceiptBundle): Field[] {
  const f: Field[] = [
    [
      "world_public_key",
      (x) => x.world_public_key,
      (x, v) => void (x.world_public_key = v),
      "bad_checkpoint_signature",
    ],
    ["entry.body_cbor", (x) => x.entry.body_cbor, (x, v) => void (x.entry.body_cbor = v), "entry_hash_mismatch"],
    ["entry.prev_hash", (x) => x.entry.prev_hash, (x, v) => void (x.entry.prev_hash = v), "entry_hash_mismatch"],
    ["entry.hash", (x) => x.entry.hash, (x, v) => void (x.entry.hash = v), "entry_hash_mismatch"],
    ["payload_cbor", (x) => x.payload_cbor!, (x, v) => void (x.payload_cbor = v), "payload_mismatch"],
    ["checkpoint.root", (x) => x.checkpoint.root, (x, v) => void (x.checkpoint.root = v), "bad_inclusion_proof"],
    [
      "checkpoint.head_hash",
      (x) => x.checkpoint.head_hash,
      (x, v) => void (x.checkpoint.head_hash = v),
      "bad_checkpoint_signature",
    ],
    [
      "checkpoint.signature",
      (x) => x.checkpoint.signature,
      (x, v) => void (x.checkpoint.signature = v),
      "bad_checkpoint_signature",
    ],
  ];
  b.inclusion.path.forEach((_, i) =>
    f.push([
      `inclusion.path[${i}]`,
      (x) => x.inclusion.path[i]!,
      (x, v) => void (x.inclusion.path[i] = v),
      "bad_inclusion_proof",
    ]),
  );
  return f;
}

describe("receipt bundle", () => {
  it("exports a bundle that verifies, pins the right keys, and agrees with the journal's formulas", () => {
    const b = fx.bundle;
    expect(b.entry.seq).toBe(fx.receiptSeq);
    expect(b.inclusion.path.length).toBeGreaterThan(0);
    const v = verifyBundle(b, { worldPublicKey: fx.worldKey.publicKey, adapterPublicKey: fx.adapterKey.publicKeyHex });
    expect(v).toMatchObject({
      ok: true,
      seq: fx.receiptSeq,
      world_id: "world-test",
      receipt: { effect_kind: "llm.generate", status: "ok", intent_id: "intent-1" },
    });
    expect(verifyBundle(JSON.stringify(b)).ok).toBe(true);
    const e = b.entry;
    const body = Buffer.from(e.body_cbor, "hex");
    expect(Buffer.from(bundleEntryHash(Buffer.from(e.prev_hash, "hex"), e.seq, e.kind, body)).toString("hex")).toBe(
      Buffer.from(entryHash(Buffer.from(e.prev_hash, "hex"), e.seq, e.kind, body)).toString("hex"),
    );
    const cp = {
      tree_size: 9,
      root: new Uint8Array(32).fill(7),
      head_hash: new Uint8Array(32).fill(9),
      state_root: `sha256:${"ab".repeat(32)}`,
      manifest_hash: `sha256:${"cd".repeat(32)}`,
    } as const;
    expect(checkpointSigningPayload(cp)).toEqual(checkpointPayload(cp));
  });

  it("verifies in a fresh process with nothing but the bundle file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wk-offline-"));
    writeFileSync(join(dir, "bundle.json"), JSON.stringify(fx.bundle, null, 2));
    const tsx = join(root, "node_modules", "tsx", "dist", "cli.mjs");
    const main = join(root, "kernel", "crypto", "verify-bundle-main.ts");
    const ok = await run(
      process.execPath,
      [tsx, main, "bundle.json", "--json", "--world-key", fx.worldKey.publicKeyHex],
      { cwd: dir },
    );
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, receipt: { intent_id: "intent-1" } });
    expect(verifyBundleFile(join(dir, "bundle.json")).output).toContain("VALID receipt for intent intent-1");
    const bad = clone(fx.bundle);
    bad.checkpoint.signature = flipHex(bad.checkpoint.signature, 0, 1);
    writeFileSync(join(dir, "bad.json"), JSON.stringify(bad));
    const r = await run(process.execPath, [tsx, main, "bad.json", "--json"], { cwd: dir }).then(
      () => ({ code: 0, stdout: "" }),
      (e: { code: number; stdout: string }) => e,
    );
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, fault: "bad_checkpoint_signature" });
    expect(verifyBundle(fx.bundle, { worldPublicKey: generateKeyPair().publicKeyHex })).toMatchObject({
      ok: false,
      fault: "world_key_mismatch",
    });
  }, 30_000);

  it("fails with the guarding fault when any byte of any hex field is flipped", () => {
    let checked = 0;
    for (const [name, get, set, fault] of hexFields(fx.bundle)) {
      const len = get(fx.bundle).length / 2;
      for (let i = 0; i < len; i++) {
        const t = clone(fx.bundle);
        set(t, flipHex(get(t), i, 0xff));
        const v = verifyBundle(t);
        expect(v.ok, `${name}[${i}]`).toBe(false);
        if (!v.ok) expect(v.fault, `${name}[${i}]: ${v.message}`).toBe(fault);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(500);
  });

  it("fails for any single-bit flip in any hex field (property)", () => {
    const fields = hexFields(fx.bundle);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: fields.length - 1 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (fi, pos, bit) => {
          const [, get, set, fault] = fields[fi]!;
          const t = clone(fx.bundle);
          const hex = get(t);
          set(t, flipHex(hex, pos % (hex.length / 2), 1 << bit));
          const v = verifyBundle(t);
          return !v.ok && v.fault === fault;
        },
      ),
      { numRuns: 150 },
    );
  });

  it("fails when a character of any string field, or any number, is changed", () => {
    const cases: [string, (b: ReceiptBundle) => void, BundleFault][] = [
      ["format", (b) => void (b.format = flipChar(b.format, 3) as never), "malformed_bundle"],
      ["world_id", (b) => void (b.world_id = flipChar(b.world_id, 0)), "world_id_mismatch"],
      ["entry.kind", (b) => void (b.entry.kind = flipChar(b.entry.kind, 0) as never), "malformed_bundle"],
      [
        "checkpoint.state_root",
        (b) => void (b.checkpoint.state_root = flipChar(b.checkpoint.state_root, 20)),
        "bad_checkpoint_signature",
      ],
      [
        "checkpoint.manifest_hash",
        (b) => void (b.checkpoint.manifest_hash = flipChar(b.checkpoint.manifest_hash, 40)),
        "bad_checkpoint_signature",
      ],
      [
        "checkpoint.state_root (not a hash)",
        (b) => void (b.checkpoint.state_root = flipChar(b.checkpoint.state_root, 2)),
        "malformed_bundle",
      ],
      ["entry.seq", (b) => void (b.entry.seq += 1), "entry_hash_mismatch"],
      ["inclusion.leaf_index", (b) => void (b.inclusion.leaf_index += 1), "bad_inclusion_proof"],
      ["inclusion.tree_size", (b) => void (b.inclusion.tree_size += 1), "bad_inclusion_proof"],
      ["checkpoint.tree_size", (b) => void (b.checkpoint.tree_size -= 1), "bad_inclusion_proof"],
      ["checkpoint.seq", (b) => void (b.checkpoint.seq += 1), "malformed_bundle"],
      ["inclusion.path (dropped)", (b) => void b.inclusion.path.pop(), "bad_inclusion_proof"],
      ["payload_cbor (odd hex)", (b) => void (b.payload_cbor = b.payload_cbor! + "0"), "malformed_bundle"],
      ["HEX in upper case", (b) => void (b.entry.hash = b.entry.hash.toUpperCase()), "malformed_bundle"],
      ["extra field", (b) => void ((b as unknown as Record<string, unknown>).note = "hi"), "malformed_bundle"],
    ];
    for (const [name, mutate, fault] of cases) {
      const t = clone(fx.bundle);
      mutate(t);
      const v = verifyBundle(t);
      expect(v.ok ? "ok" : v.fault, name).toBe(fault);
    }
    expect(verifyBundle("{not json").ok).toBe(false);
  });

  it("catches a re-hashed body edit by the receipt signature, and a re-signed receipt by the Merkle proof", () => {
    const edit = (f: (body: Record<string, CborValue>) => void): ReceiptBundle => {
      const t = clone(fx.bundle);
      const body = decodeStored(Buffer.from(t.entry.body_cbor, "hex")) as Record<string, CborValue>;
      f(body);
      const bytes = encodeStored(body);
      t.entry.body_cbor = Buffer.from(bytes).toString("hex");
      t.entry.hash = Buffer.from(
        bundleEntryHash(Buffer.from(t.entry.prev_hash, "hex"), t.entry.seq, t.entry.kind, bytes),
      ).toString("hex");
      delete t.payload_cbor;
      return t;
    };
    const forged = edit((b) => void ((b.receipt as Record<string, CborValue>).status = "error"));
    expect(verifyBundle(forged)).toMatchObject({ ok: false, fault: "bad_receipt_signature" });
    const mallory = generateKeyPair();
    const resigned = edit((b) => {
      (b.receipt as Record<string, CborValue>).status = "error";
      b.adapter_public_key = mallory.publicKey;
      b.signature = signReceipt(b.receipt as never, mallory);
    });
    expect(verifyBundle(resigned)).toMatchObject({ ok: false, fault: "bad_inclusion_proof" });
    expect(verifyBundle(fx.bundle, { adapterPublicKey: mallory.publicKey })).toMatchObject({
      ok: false,
      fault: "adapter_key_mismatch",
    });
    const noPayload = clone(fx.bundle);
    delete noPayload.payload_cbor;
    expect(verifyBundle(noPayload).ok).toBe(true);
  });

  it("never throws, whatever JSON it is given (fuzz)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (j) => {
        const v = verifyBundle(j);
        return !v.ok && typeof v.fault === "string";
      }),
      { numRuns: 200 },
    );
    // Structurally valid bundles with random field values.
    const hexOf = (n: number) =>
      fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString("hex"));
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat({ max: 64 }),
        hexOf(32),
        fc.array(hexOf(32), { maxLength: 6 }),
        fc.uint8Array({ maxLength: 64 }),
        (seq, size, h, path, body) => {
          const t = clone(fx.bundle);
          t.entry.seq = seq;
          t.inclusion = { leaf_index: seq, tree_size: size, path };
          t.checkpoint.root = h;
          t.entry.body_cbor = Buffer.from(body).toString("hex");
          return verifyBundle(t).ok === false;
        },
      ),
      { numRuns: 200 },
    );
  });

  it("finds a receipt's seq by intent id", async () => {
    const { SqliteJournalStore } = await import("../../kernel/journal/index.js");
    const store = SqliteJournalStore.open(join(fx.dir, "journal.db"), { readonly: true });
    try {
      expect(await findReceiptSeq(store, "intent-1")).toBe(fx.receiptSeq);
      expect(await findReceiptSeq(store, "intent-nope")).toBeNull();
    } finally {
      await store.close();
    }
  });

  it("the offline verifier's import graph holds no SQLite and no WASM runtime", () => {
    const seen = new Set<string>();
    const externals = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const src = readFileSync(file, "utf8");
      for (const m of src.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+"([^"]+)"/gms)) {
        const spec = m[1]!;
        if (spec.startsWith(".")) walk(resolve(dirname(file), spec.replace(/\.js$/, ".ts")));
        else externals.add(spec.replace(/^node:/, "node:"));
      }
    };
    walk(join(root, "kernel/crypto/verify-bundle-main.ts"));
    const files = [...seen].map((f) => f.slice(root.length + 1));
    expect(
      files.some(
        (f) => f.startsWith("kernel/journal") || f.startsWith("kernel/wasm") || f.startsWith("kernel/adapters"),
      ),
    ).toBe(false);
    for (const x of externals)
      expect(["zod", "@noble/curves/ed25519.js", "@noble/hashes/sha2.js"].includes(x) || x.startsWith("node:"), x).toBe(
        true,
      );
  });
});
