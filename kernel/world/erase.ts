/**
 * @module What `wk erase` may delete. Erasure removes data (an HTTP body, a prompt, a
 * completion), never structure: an AIR bundle, a module binary, a patch or shadow report,
 * a snapshot's state blob or a cell state in it are what the kernel needs to run, replay
 * and verify, so erasing one is refused with the reason. Found from the indexed rare
 * entries and the bundles and snapshots they name, not by scanning the log.
 */
import type { WorldJournal } from "../journal/world-journal.js";
import { decodeStored } from "../../air/cbor/decode.js";
import type { HashText } from "../../air/hash.js";
import { decodeEntry } from "../journal/index.js";
import { snapshotCells } from "./snapshot-blob.js";
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
  for (const raw of [...store.rareEntriesSync()]) {
    const e = decodeEntry(raw);
    if (e.kind === "genesis") bundle(e.body.air_ref, e.body.manifest_hash, "of genesis");
    if (e.kind === "proposal" || e.kind === "apply")
      bundle(e.body.bundle_ref, e.body.new_manifest_hash, `of the ${e.kind} at seq ${e.seq}`);
    if (e.kind === "proposal") note(e.body.patch_ref, `it is the patch of the proposal at seq ${e.seq}`);
    if (e.kind === "shadow_report") note(e.body.report_ref, `it is the shadow report at seq ${e.seq}`);
    if (e.kind === "snapshot") {
      const ref = e.body.cells_ref as HashText;
      note(ref, `it is the state of the snapshot at seq ${e.seq}`);
      if (!store.hasBlobSync(ref)) continue;
      for (const [module, key, hash] of snapshotCells(decodeStored(store.getBlobSync(ref))) ?? [])
        note(
          hash,
          `it is the state of cell ${String(module)} ${key === null ? "" : String(key)} in the snapshot at seq ${e.seq}`,
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
