/**
 * @module Test plumbing for adapter suites: an in-memory CAS behind the `BlobAccess` port
 * (the CAS is not under test here) and a request builder with a real wall clock.
 */
import { bytesToHash, hashBytes, type CborValue, type HashText } from "../../air/index.js";
import type { BlobAccess, EffectRequest } from "../../kernel/adapters/index.js";

/** A Map-backed CAS. */
export class MemoryBlobs implements BlobAccess {
  readonly map = new Map<string, Uint8Array>();
  put(bytes: Uint8Array): HashText {
    const h = hashBytes(bytes);
    this.map.set(h, Uint8Array.from(bytes));
    return h;
  }
  get(hash: HashText): Uint8Array {
    const b = this.map.get(hash);
    if (!b) throw Object.assign(new Error(`no blob ${hash}`), { code: "journal.blob_not_found" });
    return b;
  }
}

/** Wall-clock nanoseconds. */
export const wallNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

let n = 0;

/** An effect request with sensible defaults. */
export function request(
  kind: string,
  params: CborValue,
  grantParams: CborValue = null,
  over: Partial<EffectRequest> = {},
): EffectRequest {
  n++;
  return {
    intentId: `intent-${n}`,
    idempotencyKey: `sha256:${n.toString(16).padStart(64, "0")}`,
    kind,
    params,
    grant: { name: "g", capType: kind, params: grantParams },
    blobs: new MemoryBlobs(),
    signal: new AbortController().signal,
    nowNs: wallNs,
    ...over,
  };
}

/** A payload's hash field (32 raw bytes, the canonical AIR form) as `sha256:<hex>`. */
export function ref(payload: CborValue, key: string): HashText {
  return bytesToHash((payload as Record<string, CborValue>)[key] as Uint8Array);
}

/** The `code` of an error payload (or undefined). */
export function errorCode(payload: CborValue): string | undefined {
  return payload !== null &&
    typeof payload === "object" &&
    !Array.isArray(payload) &&
    !(payload instanceof Uint8Array) &&
    "code" in payload
    ? String((payload as Record<string, CborValue>).code)
    : undefined;
}
