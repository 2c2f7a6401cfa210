/**
 * @module The patch behind `governance.upgrade`: a module names a module and a new binary, and
 * the kernel writes the `replace_def` (with its `pre_hash`) that swaps the binary, against the
 * manifest the module says it saw. A module cannot hash a def itself, so the kernel does it here;
 * the result is an ordinary patch document that goes through the same propose path as any other.
 */
import { hashDef } from "../../air/defs.js";
import { bytesToHash, type HashText } from "../../air/hash.js";
import type { AirCatalog } from "../../air/loader.js";
import type { CborObject } from "../../air/cbor/value.js";
import type { DefModule } from "../../air/schemas/defs.js";
import type { PatchDocument } from "../../air/schemas/patch.js";
import { KernelError } from "../core/errors.js";

/** The params of a `governance.upgrade` intent (`sys/GovUpgradeParams@1`), decoded. */
export interface UpgradeRequest {
  module: string;
  wasmHash: HashText;
  baseManifestHash: string;
  description: string | null;
}

/** Reads canonical `sys/GovUpgradeParams@1` params (the gate has checked them against the schema). */
export function upgradeRequestOf(params: CborObject): UpgradeRequest {
  const ref = params.wasm_ref;
  return {
    module: params.module as string,
    wasmHash: ref instanceof Uint8Array ? bytesToHash(ref) : (ref as HashText),
    baseManifestHash: params.base_manifest_hash as string,
    description: typeof params.description === "string" ? params.description : null,
  };
}

/** The description a proposal gets when the module gave none. */
function defaultDescription(r: UpgradeRequest): string {
  return `replace the binary of ${r.module} with ${r.wasmHash}`;
}

/**
 * The patch document that replaces `r.module`'s binary with `r.wasmHash` and keeps everything
 * else of its def, written against `catalog` — which must be the manifest the module saw
 * (`governance.stale_base` otherwise, as for any patch). Refuses a module the manifest does not
 * list (`kernel.unknown_module`) and a binary it already runs (`governance.no_change`).
 */
export function upgradePatch(catalog: AirCatalog, r: UpgradeRequest): PatchDocument {
  if (r.baseManifestHash !== catalog.manifestHash)
    throw new KernelError(
      "governance.stale_base",
      `the upgrade is based on ${r.baseManifestHash}, the world is at ${catalog.manifestHash} (stale)`,
      { base: r.baseManifestHash },
    );
  const current = catalog.modules.get(r.module)?.def;
  if (!current)
    throw new KernelError("kernel.unknown_module", `the manifest lists no module ${r.module}`, {
      module: r.module,
    });
  if (current.wasm_hash === r.wasmHash)
    throw new KernelError("governance.no_change", `${r.module} already runs ${r.wasmHash}`, { module: r.module });
  const next: DefModule = { ...current, wasm_hash: r.wasmHash };
  return {
    version: "1",
    base_manifest_hash: catalog.manifestHash,
    description: r.description ?? defaultDescription(r),
    patches: [{ replace_def: { kind: "defmodule", name: r.module, new_node: next, pre_hash: hashDef(current) } }],
  };
}
