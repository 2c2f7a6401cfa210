/**
 * @module Authoring proposals instead of writing patch documents by hand: `proposeFromAir`
 * diffs an edited AIR folder against the world's current defs, `proposeRevert` diffs the
 * defs in force before an earlier apply against them (air/patch-diff.ts). Both end in the
 * ordinary `propose`: the proposal still needs a shadow run, approval and apply.
 */
import { diffCatalogs, type PatchDiff } from "../../air/patch-diff.js";
import { AirError } from "../../air/errors.js";
import { catalogFromBundle } from "../../air/bundle.js";
import type { AirCatalog } from "../../air/loader.js";
import type { HashText } from "../../air/hash.js";
import type { PatchDocument } from "../../air/schemas/patch.js";
import { loadAirDir } from "../air-dir.js";
import { KernelError } from "../core/errors.js";
import { decodeEntry } from "../journal/index.js";
import { propose, type ProposeOptions, type Proposed } from "./governance.js";
import type { World } from "./world.js";

/** A computed patch: the document, the binaries it needs, and what it changes. */
export interface AuthoredPatch extends PatchDiff {
  /** Module binaries the new defs name and the world's current defs do not. */
  wasm: Uint8Array[];
}

function summary(d: PatchDiff): string {
  const parts = [
    ...d.added.map((k) => `add ${k}`),
    ...d.replaced.map((k) => `replace ${k}`),
    ...d.removed.map((k) => `remove ${k}`),
    ...d.blocks.map((b) => `set ${b}`),
  ];
  const emptied = d.emptied.length
    ? ` (${d.emptied.join(", ")} left empty rather than absent, which no patch operation does: manifest ${d.manifestHash})`
    : "";
  return parts.join(", ") + emptied;
}

function noChange(what: string, hash: string): never {
  throw new KernelError(
    "governance.no_change",
    `${what} has the world's current manifest ${hash}: nothing to propose`,
    { manifest_hash: hash },
  );
}

/** The patch from the world's current defs to those of AIR folder `dir` (`"wasm": path` sugar resolved). */
export function patchFromAir(world: World, dir: string, opts: { description?: string } = {}): AuthoredPatch {
  const r = loadAirDir(dir);
  if (!r.ok)
    throw new AirError(
      r.issues[0]!.code,
      `${dir}: ${r.issues[0]!.file ? r.issues[0]!.file + ": " : ""}${r.issues[0]!.message}`,
      r.issues[0]!.path,
      r.issues,
    );
  const current = world.catalog;
  if (r.catalog.manifestHash === current.manifestHash) noChange(dir, current.manifestHash);
  const d = diffCatalogs(current, r.catalog);
  const description = opts.description ?? `from AIR folder ${dir}: ${summary(d)}`;
  const have = new Set([...current.modules.values()].map((m) => m.def.wasm_hash));
  const wasm = [...r.catalog.modules.values()]
    .filter((m) => !have.has(m.def.wasm_hash))
    .map((m) => r.wasm.get(m.def.wasm_hash as HashText))
    .filter((b): b is Uint8Array => b !== undefined);
  return { ...d, doc: { ...d.doc, description }, wasm };
}

/** Proposes the patch from the world's current defs to those of AIR folder `dir`. */
export async function proposeFromAir(
  world: World,
  dir: string,
  opts: ProposeOptions = {},
): Promise<Proposed & { patch: PatchDocument }> {
  const p = patchFromAir(world, dir, opts.description !== undefined ? { description: opts.description } : {});
  const r = await propose(world, p.doc, { ...opts, wasm: [...(opts.wasm ?? []), ...p.wasm] });
  return { ...r, patch: p.doc };
}

/** Where a revert goes: the apply reverted and the manifest in force before it. */
export interface RevertTarget {
  applySeq: number;
  proposalId: string;
  /** The manifest the apply replaced, and its catalog (from the genesis or earlier apply's bundle). */
  before: AirCatalog;
  /** The manifest the apply put in force. */
  appliedManifestHash: string;
  /** Applies after `applySeq`, by seq: when any, the world has moved on and the revert undoes them too. */
  laterApplies: number[];
}

/** Finds the apply at `seq` and the defs in force just before it; refuses any other entry (`governance.not_an_apply`). */
export function revertTarget(world: World, seq: number): RevertTarget {
  const store = world.store;
  const entry = Number.isSafeInteger(seq) && seq >= 0 && seq < store.countSync() ? store.getSync(seq) : null;
  if (!entry || entry.kind !== "apply") {
    throw new KernelError(
      "governance.not_an_apply",
      entry
        ? `seq ${seq} is a ${entry.kind} entry, not an apply: only an apply can be reverted`
        : `seq ${seq} is not in the journal (head ${store.countSync() - 1})`,
      { seq },
    );
  }
  const apply = decodeEntry({ ...entry, kind: entry.kind }).body;
  // The manifest in force at each seq: genesis's bundle, then each apply's.
  let bundle: { ref: string; hash: string } | null = null;
  const laterApplies: number[] = [];
  let base: string | null = null;
  for (const raw of store.ruleEntriesSync(0)) {
    const e = decodeEntry(raw);
    if (e.kind === "genesis" && e.seq === 0) {
      if (e.body.air_ref) bundle = { ref: e.body.air_ref, hash: e.body.manifest_hash };
    } else if (e.kind === "proposal" && e.seq < seq) {
      if (e.body.proposal_id === apply.proposal_id) base = e.body.base_manifest_hash;
    } else if (e.kind === "apply" && e.seq < seq) bundle = { ref: e.body.bundle_ref, hash: e.body.new_manifest_hash };
    else if (e.kind === "apply" && e.seq > seq) laterApplies.push(e.seq);
  }
  if (!bundle) throw new KernelError("kernel.bad_world", "genesis names no AIR bundle (air_ref)");
  if (base !== null && base !== bundle.hash) {
    throw new KernelError(
      "kernel.bad_world",
      `the apply at seq ${seq} was based on ${base}, but the manifest in force before it was ${bundle.hash}`,
      { seq },
    );
  }
  const before = catalogFromBundle(store.getBlobSync(bundle.ref as HashText), bundle.hash);
  return {
    applySeq: seq,
    proposalId: apply.proposal_id,
    before,
    appliedManifestHash: apply.new_manifest_hash,
    laterApplies,
  };
}

/**
 * The inverse of the apply at `seq`: the patch from the current defs back to those in force
 * before that apply. When later applies changed the world since, it is still exactly that
 * (the defs before seq `seq`, diffed against the current manifest, so it undoes them too),
 * and the description says so.
 */
export function revertPatch(
  world: World,
  seq: number,
  opts: { description?: string } = {},
): AuthoredPatch & { target: RevertTarget } {
  const t = revertTarget(world, seq);
  const current = world.catalog;
  if (t.before.manifestHash === current.manifestHash)
    noChange(`the manifest before the apply at seq ${seq}`, current.manifestHash);
  const d = diffCatalogs(current, t.before);
  const moved = current.manifestHash !== t.appliedManifestHash;
  const description =
    opts.description ??
    `revert the apply at seq ${seq} (proposal ${t.proposalId}): back to manifest ${t.before.manifestHash}` +
      (moved
        ? `; the world has moved on since (now ${current.manifestHash}${t.laterApplies.length ? `, applies at seq ${t.laterApplies.join(", ")}` : ""}), so this restores the defs in force before seq ${seq} and undoes the later changes too`
        : "") +
      `: ${summary(d)}`;
  return { ...d, doc: { ...d.doc, description }, wasm: [], target: t };
}

/** Proposes the inverse of the apply at `seq` (see `revertPatch`); an ordinary proposal. */
export async function proposeRevert(
  world: World,
  seq: number,
  opts: ProposeOptions = {},
): Promise<Proposed & { patch: PatchDocument; target: RevertTarget }> {
  const p = revertPatch(world, seq, opts.description !== undefined ? { description: opts.description } : {});
  const r = await propose(world, p.doc, opts);
  return { ...r, patch: p.doc, target: p.target };
}
