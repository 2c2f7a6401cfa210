/**
 * @module At most one receipt per intent, enforced by the store: a second effect_receipt
 * for the same intent is refused with `journal.duplicate_receipt`, and the whole append
 * (every entry of its batch) rolls back.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { SqliteJournalStore } from "../../kernel/journal/index.js";

describe("receipts are unique per intent", () => {
  it("refuses a second receipt for the same intent and writes nothing of that batch", () => {
    const path = join(mkdtempSync(join(tmpdir(), "wk-rcpt-uniq-")), "journal.db");
    const store = SqliteJournalStore.open(path, { create: true });
    const key = generateKeyPair();
    store.appendSync("genesis", {
      format_version: 1,
      world_id: "w",
      world_public_key: key.publicKey,
      manifest_hash: `sha256:${"0".repeat(64)}`,
      created_ns: 1n,
      kernel_flags: [],
      fork: null,
    });
    store.appendSync("effect_receipt", { intent_id: "sha256:aa" });
    expect(store.receiptSeq("sha256:aa")).toBe(1);
    const before = store.countSync();
    expect(() =>
      store.appendManySync([
        { kind: "effect_receipt", body: { intent_id: "sha256:bb" } },
        { kind: "effect_receipt", body: { intent_id: "sha256:aa" } },
      ]),
    ).toThrow(expect.objectContaining({ code: "journal.duplicate_receipt" }));
    expect(store.countSync()).toBe(before);
    expect(store.receiptSeq("sha256:bb")).toBeNull();
    store.appendSync("effect_receipt", { intent_id: "sha256:bb" });
    expect(store.receiptSeq("sha256:bb")).toBe(2);
    store.closeSync();
  });
});
