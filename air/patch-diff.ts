/**
 * @module The inverse of the patch compiler: from two def sets (the world's current defs and
 * the defs it should have) to the patch document that turns one into the other, written with
 * exactly the operations of `air/schemas/patch.ts` and every `pre_hash` filled in. Used by
 * `wk propose --from-air` (an edited AIR folder) and `wk revert` (the defs before an apply).
 * The result is checked before it is returned: compiling it against the current defs must
 * yield exactly the next manifest hash, or the difference is reported as one no patch
 * operation expresses (`air.patch_inexpressible`). Pure.
 */
import { AirError } from "./errors.js";
import { hashDef } from "./defs.js";
import { buildCatalog, type AirCatalog } from "./loader.js";
import { blockHash, compilePatch } from "./patch.js";
import type { HashText } from "./hash.js";
import type { AnyDef, Manifest } from "./schemas/defs.js";
import type { DefKind } from "./schemas/common.js";
import type { PatchDocument, PatchOp } from "./schemas/patch.js";

type RefKind = Exclude<DefKind, "manifest">;

/** The order operations are written in, kind by kind (schemas before the modules using them). */
const KIND_ORDER: readonly RefKind[] = ["defschema", "defeffect", "defcap", "defsecret", "defmodule", "defpolicy"];

/** The catalog parts a diff needs: its manifest, hash and normalized defs (what a bundle stores). */
export type DiffSide = Pick<AirCatalog, "manifest" | "manifestHash" | "sources">;

/** A computed patch plus a summary of what it changes (for a description or a dry run). */
export interface PatchDiff {
  /** The patch document; `patches` is empty when the two sides have the same manifest hash. */
  doc: PatchDocument;
  /** Def keys (`kind:name`) added, replaced and removed; manifest blocks set. */
  added: string[];
  replaced: string[];
  removed: string[];
  blocks: string[];
  /** The manifest hash the patch yields: `next`'s, unless `emptied` is not empty. */
  manifestHash: HashText;
  /**
   * Manifest blocks `next` does not have that the patch leaves empty instead (no operation
   * removes a block): the same definitions as `next`, under another manifest hash.
   */
  emptied: ("defaults" | "routing" | "module_bindings" | "secrets")[];
}

function defsByKey(defs: readonly AnyDef[]): Map<string, Exclude<AnyDef, Manifest>> {
  const out = new Map<string, Exclude<AnyDef, Manifest>>();
  for (const d of defs) if (d.$kind !== "manifest") out.set(`${d.$kind}:${d.name}`, d);
  return out;
}

const kindOf = (key: string): RefKind => key.slice(0, key.indexOf(":")) as RefKind;
const sortKeys = (keys: Iterable<string>): string[] =>
  [...keys].sort(
    (a, b) => KIND_ORDER.indexOf(kindOf(a)) - KIND_ORDER.indexOf(kindOf(b)) || (a < b ? -1 : a > b ? 1 : 0),
  );
const same = (a: unknown, b: unknown): boolean => blockHash(a) === blockHash(b);
/** A def as a patch node: plain JSON (the defs are already normalized, `$comment`s dropped). */
const nodeOf = (d: AnyDef): Record<string, unknown> => structuredClone(d) as unknown as Record<string, unknown>;

/**
 * The patch from `current` to `next`. Defs: `add_def` / `replace_def` (with `pre_hash`) /
 * `remove_def` for the world's own defs, `set_manifest_refs` for built-in `sys/*` defs listed or
 * unlisted; manifest blocks: `set_defaults`, `set_routing_events`, `set_routing_inboxes`,
 * `set_module_bindings` (secret refs follow the defsecret defs). Compiling the result against
 * `current` yields exactly `next` — except a manifest block `next` lacks, which no operation
 * removes: the patch empties it (listed in `emptied`, with the hash it yields). Throws
 * `air.patch_inexpressible` for what no operation changes (a built-in def, `effect_bindings`).
 */
export function diffCatalogs(current: DiffSide, next: DiffSide, opts: { description?: string } = {}): PatchDiff {
  const cur = defsByKey(current.sources);
  const nxt = defsByKey(next.sources);
  const patches: PatchOp[] = [];
  const added: string[] = [];
  const replaced: string[] = [];
  const removed: string[] = [];
  const blocks: string[] = [];
  const refsAdd: { kind: RefKind; name: string; hash: HashText }[] = [];
  const refsRemove: { kind: RefKind; name: string }[] = [];

  for (const key of sortKeys(cur.keys())) {
    if (nxt.has(key)) continue;
    const d = cur.get(key)!;
    if (d.name.startsWith("sys/")) refsRemove.push({ kind: d.$kind, name: d.name });
    else {
      patches.push({ remove_def: { kind: d.$kind, name: d.name, pre_hash: hashDef(d) } });
      removed.push(key);
    }
  }
  for (const key of sortKeys(nxt.keys())) {
    const d = nxt.get(key)!;
    const prev = cur.get(key);
    if (prev && hashDef(prev) === hashDef(d)) continue;
    if (d.name.startsWith("sys/")) {
      // A built-in: listed, never patched (a changed built-in is caught by the check below).
      if (!prev) refsAdd.push({ kind: d.$kind, name: d.name, hash: hashDef(d) });
      continue;
    }
    if (prev) {
      patches.push({ replace_def: { kind: d.$kind, name: d.name, pre_hash: hashDef(prev), new_node: nodeOf(d) } });
      replaced.push(key);
    } else {
      patches.push({ add_def: { kind: d.$kind, node: nodeOf(d) } });
      added.push(key);
    }
  }
  if (refsAdd.length || refsRemove.length) {
    patches.push({
      set_manifest_refs: {
        ...(refsAdd.length ? { add: refsAdd } : {}),
        ...(refsRemove.length ? { remove: refsRemove } : {}),
      },
    });
    blocks.push("manifest refs");
  }

  const m = current.manifest;
  const n = next.manifest;
  const policyChanged = (m.defaults?.policy ?? null) !== (n.defaults?.policy ?? null);
  const grantsChanged = !same(m.defaults?.cap_grants, n.defaults?.cap_grants);
  if (policyChanged || grantsChanged) {
    patches.push({
      set_defaults: {
        ...(policyChanged ? { policy: n.defaults?.policy ?? null } : {}),
        ...(grantsChanged ? { cap_grants: structuredClone(n.defaults?.cap_grants ?? []) } : {}),
      },
    });
    blocks.push("defaults");
  }
  if (!same(m.routing?.subscriptions, n.routing?.subscriptions)) {
    patches.push({
      set_routing_events: {
        pre_hash: blockHash(m.routing?.subscriptions),
        subscriptions: structuredClone(n.routing?.subscriptions ?? []),
      },
    });
    blocks.push("routing.subscriptions");
  }
  if (!same(m.routing?.inboxes, n.routing?.inboxes)) {
    patches.push({
      set_routing_inboxes: {
        pre_hash: blockHash(m.routing?.inboxes),
        inboxes: structuredClone(n.routing?.inboxes ?? []),
      },
    });
    blocks.push("routing.inboxes");
  }
  if (!same(m.module_bindings, n.module_bindings)) {
    patches.push({
      set_module_bindings: {
        pre_hash: blockHash(m.module_bindings),
        bindings: structuredClone(n.module_bindings ?? {}),
      },
    });
    blocks.push("module_bindings");
  }

  const doc: PatchDocument = {
    version: "1",
    base_manifest_hash: current.manifestHash,
    ...(opts.description !== undefined ? { description: opts.description } : {}),
    patches,
  };
  const { manifestHash, emptied } = checkRoundTrip(current, next, doc);
  return { doc, added, replaced, removed, blocks, manifestHash, emptied };
}

/** `diffCatalogs` over bare def sets (each one manifest plus the defs it uses). */
export function diffDefs(
  current: readonly AnyDef[],
  next: readonly AnyDef[],
  opts: { description?: string } = {},
): PatchDiff {
  return diffCatalogs(catalogOf(current, "current"), catalogOf(next, "next"), opts);
}

function catalogOf(defs: readonly AnyDef[], side: string): AirCatalog {
  const r = buildCatalog([{ file: `<${side}>`, value: defs }]);
  if (!r.ok)
    throw new AirError(r.issues[0]!.code, `${side} defs: ${r.issues[0]!.message}`, r.issues[0]!.path, r.issues);
  return r.catalog;
}

type Block = "defaults" | "routing" | "module_bindings" | "secrets";
const BLOCKS: readonly Block[] = ["defaults", "routing", "module_bindings", "secrets"];

/** A manifest block with its empty parts dropped: what an absent block and an emptied one share. */
function hollow(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? v : undefined;
  if (typeof v !== "object" || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const h = k === "cap_grants" || k === "subscriptions" || k === "inboxes" ? hollow(x) : x;
    if (h !== undefined) out[k] = h;
  }
  return Object.keys(out).length ? out : undefined;
}

/**
 * Compiles `doc` against `current` and holds the result to `next`'s manifest hash. The one
 * difference accepted: a block `next` lacks that the patch can only empty (`module_bindings: {}`,
 * `cap_grants: []`, `subscriptions: []`) — the same world, another hash; it is returned.
 */
function checkRoundTrip(
  current: DiffSide,
  next: DiffSide,
  doc: PatchDocument,
): { manifestHash: HashText; emptied: Block[] } {
  if (current.manifestHash === next.manifestHash && doc.patches.length === 0)
    return { manifestHash: next.manifestHash, emptied: [] };
  const fail = (why: string): never => {
    throw new AirError(
      "air.patch_inexpressible",
      `no patch turns manifest ${current.manifestHash} into ${next.manifestHash}: ${why}`,
      "$",
      undefined,
      { expected: next.manifestHash },
    );
  };
  if (!same(current.manifest.effect_bindings, next.manifest.effect_bindings))
    fail("effect_bindings differ, and no patch operation sets them");
  const cur = defsByKey(current.sources);
  const builtins = [...defsByKey(next.sources).entries()].filter(
    ([k, d]) => d.name.startsWith("sys/") && cur.has(k) && hashDef(cur.get(k)!) !== hashDef(d),
  );
  if (builtins.length)
    fail(`built-in def(s) ${builtins.map(([k]) => k).join(", ")} differ, and built-ins cannot be patched`);
  const compiled = compilePatch(current.sources, doc);
  if (!compiled.ok) return fail(compiled.issues[0]!.message);
  const built = buildCatalog([{ file: "<patch>", value: compiled.defs }]);
  if (!built.ok) return fail(`the patched defs do not load: ${built.issues[0]!.message}`);
  const got = built.catalog;
  if (got.manifestHash === next.manifestHash) return { manifestHash: got.manifestHash, emptied: [] };
  const differ = BLOCKS.filter((k) => !same(got.manifest[k], next.manifest[k]));
  if (differ.some((k) => !same(hollow(got.manifest[k]), hollow(next.manifest[k])))) {
    fail(`the patched manifest still differs in ${differ.join(", ")}`);
  }
  // Only those blocks may differ: with next's blocks in place, the patched defs are next.
  const m = { ...got.manifest };
  for (const k of BLOCKS)
    if (next.manifest[k] === undefined) delete m[k];
    else (m as Record<string, unknown>)[k] = next.manifest[k];
  const swapped = buildCatalog([{ file: "<patch>", value: [...got.sources.filter((d) => d.$kind !== "manifest"), m] }]);
  if (!swapped.ok || swapped.catalog.manifestHash !== next.manifestHash)
    fail(`the patched manifest is ${got.manifestHash}`);
  return { manifestHash: got.manifestHash, emptied: differ };
}
