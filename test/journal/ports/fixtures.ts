/**
 * @module What the port conformance suites share: the store under test (every store implements
 * all four ports and the async `JournalStore` they are checked against), the entry fixtures, and
 * `readAll` — everything a `JournalReader` and a `BlobStore` answer, as comparable text, so a
 * refused write or a reopen can be shown to change nothing.
 */
import { encodeStored, type HashText } from "../../../air/index.js";
import type { KeyPair } from "../../../kernel/crypto/keys.js";
import type { BlobStore, JournalReader, JournalWriter, Lease } from "../../../kernel/journal/ports.js";
import type { AppendInput, JournalStore } from "../../../kernel/journal/store.js";
import { eventBody, genesisBody, MANIFEST } from "../helpers.js";

/** A store under test: the four ports, checked against the async `JournalStore` reads of the record. */
export type PortsUnderTest = JournalReader &
  JournalWriter &
  BlobStore &
  Lease &
  JournalStore & { nodeAt: NonNullable<JournalStore["nodeAt"]> };

/** What a fresh journal may be created with. */
export interface CreateOptions {
  checkpointEvery?: number;
  worldKey?: KeyPair;
}

/** `create` returns a fresh, empty, writable journal. */
export type Create = (opts?: CreateOptions) => PortsUnderTest | Promise<PortsUnderTest>;

export const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
export const h = (c: string): HashText => `sha256:${c.repeat(64)}` as HashText;
export const ev = (from: number, n: number): AppendInput[] =>
  Array.from({ length: n }, (_, i) => ({ kind: "event" as const, body: eventBody(from + i) }));
export const ingress = (i: number, key: string) => ({
  ...eventBody(i),
  origin: { kind: "ingress", idempotency_key: key, request_hash: h(String(i % 10)) },
});
export const snapshot = (c: string) => ({ state_root: h(c), cells_ref: h("e"), height: 1, manifest_hash: MANIFEST });
export const shadow = { proposal_id: h("1"), report_ref: h("2"), report_hash: h("3") };
export const apply = { proposal_id: h("1"), new_manifest_hash: MANIFEST, bundle_ref: h("4"), approvals: [] };
export const seqsOf = (it: Iterable<{ seq: number; kind?: string }>) => [...it].map((e) => `${e.seq}:${e.kind}`);
export const bySeq = <T extends { seq: number }>(xs: Iterable<T>): T[] => [...xs].sort((a, b) => a.seq - b.seq);

/** Everything the kernel reads synchronously (reader and blob store), as comparable text. */
export function readAll(j: JournalReader & BlobStore): Record<string, unknown> {
  const n = j.countSync();
  return {
    head: j.headSync() && { seq: j.headSync()!.seq, hash: hex(j.headSync()!.hash) },
    entries: [...j.iterateSync()].map((e) => [e.seq, e.kind, hex(e.body), hex(e.prev_hash), hex(e.hash)]),
    rare: seqsOf(j.rareEntriesSync()),
    rules: seqsOf(j.ruleEntriesSync()),
    receipts: bySeq(j.iterateReceiptIndexSync()),
    ingress: bySeq(j.iterateIngressKeysSync()),
    blobs: [...j.iterateBlobsSync()].map((b) => [b.hash, hex(b.bytes)]).sort(),
    erasures: bySeq(j.iterateErasuresSync()),
    roots: Array.from({ length: n + 1 }, (_, s) => hex(j.rootSync(s))),
    genesis: n === 0 ? null : hex(encodeStored(j.genesis())),
    latestSnapshot: j.latestOfKind("snapshot")?.seq,
  };
}

/** Genesis, then receipts for sha256:aa (1) and sha256:bb (5) and ingress keys order-1 (2) and order-2 (4). */
export async function appendIndexed(j: JournalWriter, key: KeyPair): Promise<void> {
  await j.append("genesis", genesisBody(key));
  await j.appendMany([
    { kind: "effect_receipt", body: { intent_id: "sha256:aa" } }, // 1
    { kind: "event", body: ingress(2, "order-1") }, // 2
    { kind: "event", body: eventBody(3) }, // 3
  ]);
  await j.append("event", ingress(4, "order-2")); // 4
  await j.append("effect_receipt", { intent_id: "sha256:bb" }); // 5
}

/** Runs `fn` on a fresh journal from `create`, closing it after. */
export const withStore =
  (create: Create, fn: (j: PortsUnderTest) => Promise<void>, opts?: CreateOptions) => async (): Promise<void> => {
    const j = await create(opts);
    try {
      await fn(j);
    } finally {
      await j.close();
    }
  };
