/**
 * @module A real receipt bundle for the bundle suites and the benchmark: a SQLite journal
 * in a temp dir, a real adapter outcome (local LLM), a real signed receipt, more entries
 * after it, a checkpoint signed by the world key, and the exported bundle.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeStored, hashBytes, hashValue, type HashText } from "../../air/index.js";
import { createLlmAdapter } from "../../kernel/adapters/index.js";
import {
  buildEffectReceiptBody,
  exportBundle,
  generateKeyPair,
  type KeyPair,
  type ReceiptBundle,
} from "../../kernel/crypto/index.js";
import { appendCheckpoint, SqliteJournalStore, ZERO_STATE_ROOT } from "../../kernel/journal/index.js";

/** What the fixture made. */
export interface BundleFixture {
  dir: string;
  bundle: ReceiptBundle;
  worldKey: KeyPair;
  adapterKey: KeyPair;
  receiptSeq: number;
}

const fresh = generateKeyPair();
/** Who signs the receipt: the declared adapter key, or (a forgery) the world key or a fresh key. */
function signerOf(resign: "world" | "fresh" | undefined, worldKey: KeyPair, adapterKey: KeyPair): KeyPair {
  return resign === "world" ? worldKey : resign === "fresh" ? fresh : adapterKey;
}

/** Builds a journal with one effect_receipt at seq 3 of 9 entries, checkpointed, and exports it. */
export async function makeBundleFixture(opts: { resign?: "world" | "fresh" } = {}): Promise<BundleFixture> {
  const dir = mkdtempSync(join(tmpdir(), "wk-bundle-"));
  const worldKey = generateKeyPair();
  const adapterKey = generateKeyPair();
  const store = SqliteJournalStore.open(join(dir, "journal.db"), { create: true, synchronous: "NORMAL" });
  const manifest = hashValue({ manifest: "test" }) as HashText;
  await store.append("genesis", {
    format_version: 2,
    world_id: "world-test",
    world_public_key: worldKey.publicKey,
    adapter_keys: [{ id: "adapter", public_key: adapterKey.publicKey }],
    manifest_hash: manifest,
    created_ns: 1n,
    kernel_flags: [],
    fork: null,
    checkpoint_every: 0,
  });
  const ev = (i: number) => ({ schema: "demo/Note@1", value: { n: i }, key: null, ctx: {}, origin: {} });
  await store.append("event", ev(1));
  const intentFields = {
    idempotency_key: `sha256:${"22".repeat(32)}`,
    cap_slot: "llm",
    grant: "llm",
    module: "demo/m@1",
    key: null,
    cause_seq: 1,
    index: 0,
  };
  await store.append("effect_intent", {
    intent_id: "intent-1",
    kind: "llm.generate",
    params: { provider: "local" },
    params_hash: hashValue({ provider: "local" }),
    ...intentFields,
  });

  // A real effect: the local LLM provider through the adapter port; its blobs go to the journal's CAS afterwards.
  const messagesRef = await store.putBlob(
    encodeStored([{ role: "user", content: "Receipts make effects auditable. Bundles make them portable." }]),
  );
  const blobs = new Map<string, Uint8Array>([[messagesRef, await store.getBlob(messagesRef)]]);
  const cas = {
    put: (b: Uint8Array): HashText => (blobs.set(hashBytes(b), b), hashBytes(b)),
    get: (h: HashText): Uint8Array => blobs.get(h)!,
  };
  const params = { provider: "local", model: "echo-1", messages_ref: messagesRef, max_tokens: 8, temperature: null };
  const adapter = createLlmAdapter();
  const outcome = await adapter.perform({
    intentId: "intent-1",
    idempotencyKey: `sha256:${"22".repeat(32)}`,
    kind: "llm.generate",
    params,
    grant: { name: "llm", capType: "llm.basic", params: null },
    blobs: cas,
    signal: new AbortController().signal,
    nowNs: () => 1_763_900_000_000_000_000n,
  });
  const body = buildEffectReceiptBody(
    {
      worldId: "world-test",
      intentId: "intent-1",
      effectKind: "llm.generate",
      params,
      idempotencyKey: `sha256:${"22".repeat(32)}`,
      status: outcome.status,
      payload: outcome.payload,
      adapter,
      startedNs: outcome.startedNs,
      finishedNs: outcome.finishedNs,
      cost: outcome.cost,
    },
    signerOf(opts.resign, worldKey, adapterKey),
    signerOf(opts.resign, worldKey, adapterKey).publicKey,
  );
  for (const b of blobs.values()) await store.putBlob(b);
  const { seq: receiptSeq } = await store.append("effect_receipt", body);
  for (let i = 2; i < 7; i++) await store.append("event", ev(i));
  await appendCheckpoint(store, worldKey, () => ({ state_root: ZERO_STATE_ROOT, manifest_hash: manifest }));
  const r = await exportBundle(store, receiptSeq, { includePayload: true });
  await store.close();
  if (!r.ok) throw new Error(`export failed: ${r.message}`);
  return { dir, bundle: r.bundle, worldKey, adapterKey, receiptSeq };
}
