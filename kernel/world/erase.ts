/**
 * @module What `wk erase` may delete. Erasure removes data (an HTTP body, a prompt, a
 * completion), never structure: an AIR bundle, a module binary, a patch or shadow report,
 * a snapshot's state blob or a cell state in it are what the kernel needs to run, replay
 * and verify, so erasing one is refused with the reason. Found from the indexed rare
 * entries and the bundles and snapshots they name, not by scanning the log.
 */
import type { WorldJournal } from "../journal/world-journal.js";
import { decodeStored } from "../../air/cbor/decode.js";
import { isCborObject, type CborObject, type CborValue } from "../../air/cbor/value.js";
import type { HashText } from "../../air/hash.js";
import type {} from "../journal/index.js";
import { KernelError } from "../core/errors.js";
import { catalogFromBundle } from "../../air/bundle.js";

/** Blobs the kernel needs, each with why. */
export function structuralBlobs(store: WorldJournal): Map<string, string> {
  const out = new Map<string, string>();
  const note = (h: unknown, why: string) => {
    if (typeof h === "string" && !out.has(h)) out.set(h, why);
  };
  const bundle = (ref: unknown, manifest: unknown, where: string) => {
    note(ref, `it is the AIR bundle ${where}`);
    if (typeof ref !== "string" || !store.hasBlobSync(ref as HashText)) return;
    const catalog = catalogFromBundle(store.getBlobSync(ref as HashText), String(manifest));
    for (const [name, m] of catalog.modules) note(m.def.wasm_hash, `it is the binary of module ${name} (${where})`);
  };
  for (const e of [...store.rareEntriesSync()]) {
    const b = decodeStored(e.body) as CborObject;
    if (e.kind === "genesis") bundle(b.air_ref, b.manifest_hash, "of genesis");
    if (e.kind === "proposal" || e.kind === "apply")
      bundle(b.bundle_ref, b.new_manifest_hash, `of the ${e.kind} at seq ${e.seq}`);
    if (e.kind === "proposal") note(b.patch_ref, `it is the patch of the proposal at seq ${e.seq}`);
    if (e.kind === "shadow_report") note(b.report_ref, `it is the shadow report at seq ${e.seq}`);
    if (e.kind === "snapshot") {
      note(b.cells_ref, `it is the state of the snapshot at seq ${e.seq}`);
      if (!store.hasBlobSync(b.cells_ref as HashText)) continue;
      const s = decodeStored(store.getBlobSync(b.cells_ref as HashText));
      if (!isCborObject(s) || !Array.isArray(s.cells)) continue;
      for (const c of s.cells as CborValue[][])
        note(
          c[2],
          `it is the state of cell ${String(c[0])} ${c[1] === null ? "" : String(c[1])} in the snapshot at seq ${e.seq}`,
        );
    }
  }
  return out;
}

/** Throws `kernel.erase_refused` when `hash` is a blob the kernel needs. */
export function checkErasable(store: WorldJournal, hash: HashText): void {
  const why = structuralBlobs(store).get(hash);
  if (why !== undefined) {
    throw new KernelError(
      "kernel.erase_refused",
      `blob ${hash} cannot be erased: ${why}, which the kernel needs to run, replay and verify the world. Erasure removes data (payloads, prompts, bodies), never structure.`,
      { blob_hash: hash },
    );
  }
}
