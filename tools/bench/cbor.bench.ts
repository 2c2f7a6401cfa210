/**
 * @module Canonical encode + hash of a typical ~300-byte record, against plain cbor-x
 * encode + node:crypto sha256 of the same object (not canonical, the speed floor); and our
 * sha256 of a journal-sized body against node:crypto's usual createHash().digest().
 */
import { createHash } from "node:crypto";
import { Encoder } from "cbor-x";
import { decodeStored, encodeStored, hashValue, sha256, type CborValue } from "../../air/index.js";
import { compare, measure, type Bench } from "./harness.js";

const record: CborValue = {
  id: "evt-000123",
  schema: "demo/CounterEvent@1",
  key: "alice",
  by: 5,
  tags: ["a", "b", "c"],
  meta: { source: "bench", attempt: 1, region: "eu-west", note: "a typical event body of about three hundred bytes" },
  ctx: {
    now_ns: 1795435200123456789n,
    logical_now: 42,
    journal_height: 1000,
    entropy: new Uint8Array(32).fill(7),
    manifest_hash: "sha256:" + "ab".repeat(32),
  },
};
const cborx = new Encoder({ useRecords: false, mapsAsObjects: true });

export const benchmarks: Bench[] = [
  {
    name: "canonical CBOR encode + sha256 (≈300-byte record)",
    async run() {
      const size = encodeStored(record).length;
      const baseline = await measure(
        "cbor-x encode + node:crypto sha256",
        () => createHash("sha256").update(cborx.encode(record)).digest(),
        { minMs: 1500 },
      );
      const figure = await measure("encodeStored + hashValue", () => hashValue(record), { minMs: 1500 });
      return { name: "canonical CBOR encode + sha256 (≈300-byte record)", figure, baseline, extra: { bytes: size } };
    },
  },
  {
    name: "strict canonical decode (≈300-byte record)",
    async run() {
      const bytes = encodeStored(record);
      const plain = cborx.encode(record);
      const baseline = await measure("cbor-x decode (not strict)", () => cborx.decode(plain), { minMs: 1000 });
      const figure = await measure("decodeStored (strict)", () => decodeStored(bytes), { minMs: 1000 });
      return { name: "strict canonical decode (≈300-byte record)", figure, baseline };
    },
  },
  {
    name: "sha256 of a journal-sized body (one-shot, string output)",
    async run() {
      const body = encodeStored(record);
      const [figure, baseline] = compare(
        { label: "sha256 (crypto.hash to a binary string, copied out)", fn: () => sha256(body) },
        { label: "createHash().update().digest()", fn: () => createHash("sha256").update(body).digest() },
        { rounds: 6, sliceMs: 200 },
      );
      return { name: this.name, figure, baseline, extra: { bytes: body.length } };
    },
  },
];
