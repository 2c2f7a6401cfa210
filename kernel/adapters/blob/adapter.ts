/**
 * @module The `blob.put` / `blob.get` adapters over the world's CAS. A grant may confine
 * a module to `namespaces: set<text>`; the namespace is a label checked against the grant
 * (the CAS itself is content-addressed and shared within the world).
 */
import type { CborValue } from "../../../air/cbor/value.js";
import { AdapterError } from "../errors.js";
import { failed, finish, type EffectAdapter, type EffectOutcome, type EffectRequest } from "../adapter.js";
import { allowlist, bytes, hash, hashOut, record, text } from "../params.js";

/** Checks the namespace against the grant's `namespaces`; null = allowed. */
export function checkBlobAllowed(
  kind: string,
  params: CborValue,
  grantParams: CborValue,
): { code: string; message: string } | null {
  try {
    const ns = text(kind, record(kind, params), "namespace");
    const allowed = allowlist(kind, grantParams, "namespaces", "string");
    if (allowed && !allowed.includes(ns))
      return {
        code: "namespace_not_allowed",
        message: `namespace ${JSON.stringify(ns)} is not in the grant's namespaces`,
      };
    return null;
  } catch (e) {
    if (e instanceof AdapterError) return { code: "invalid_params", message: e.message };
    throw e;
  }
}

/** Creates the blob adapter (kinds `blob.put` and `blob.get`). */
export function createBlobAdapter(config: { maxBytes?: number } = {}): EffectAdapter {
  const maxBytes = config.maxBytes ?? 64 << 20;
  return {
    id: "worldkernel.blob",
    version: "1.0.0",
    kinds: ["blob.put", "blob.get"],
    perform: async (req) => performBlob(req, maxBytes),
  };
}

function performBlob(req: EffectRequest, maxBytes: number): EffectOutcome {
  const started = req.nowNs();
  const denial = checkBlobAllowed(req.kind, req.params, req.grant.params);
  if (denial) return failed(req, started, denial.code, denial.message);
  try {
    const p = record(req.kind, req.params);
    if (req.kind === "blob.put") {
      const b = bytes(req.kind, p, "bytes");
      if (b.length > maxBytes)
        return failed(req, started, "blob_too_large", `blob is ${b.length} bytes; the limit is ${maxBytes}`);
      return finish(req, started, "ok", { blob_ref: hashOut(req.blobs.put(b)), size: b.length });
    }
    if (req.kind === "blob.get") {
      const ref = hash(req.kind, p, "blob_ref");
      let b: Uint8Array;
      try {
        b = req.blobs.get(ref);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        return failed(
          req,
          started,
          "blob_not_found",
          `${ref}: ${(e as Error).message}`,
          typeof code === "string" ? { cause: code } : {},
        );
      }
      return finish(req, started, "ok", { blob_ref: hashOut(ref), size: b.length, bytes: b });
    }
    throw new AdapterError("adapter.unknown_kind", req.kind, "the blob adapter performs blob.put and blob.get only");
  } catch (e) {
    if (e instanceof AdapterError && e.code === "adapter.invalid_params")
      return failed(req, started, "invalid_params", e.message);
    throw e;
  }
}
