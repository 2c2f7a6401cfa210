/**
 * @module The patch compiler: applies a patch document (add/replace/remove defs, manifest
 * refs, defaults, routing, bindings, secrets) to a catalog's defs and returns the new def
 * set, which the loader then resolves and validates in full. Optimistic `pre_hash` checks
 * make a patch written against other defs fail instead of silently overwriting. Pure.
 */
import { jsonPath, type AirIssue } from "./errors.js";
import { hashDef, parseDef, stripComments } from "./defs.js";
import { hashValue, type HashText } from "./hash.js";
import { jsonToCbor } from "./json.js";
import type { AnyDef, Manifest } from "./schemas/defs.js";
import type { DefKind } from "./schemas/common.js";
import type { PatchDocument } from "./schemas/patch.js";

/** Result of compiling a patch: the new defs (manifest refs without hashes), or every issue. */
export type PatchResult = { ok: true; defs: AnyDef[] } | { ok: false; issues: AirIssue[] };

const LISTS: Record<Exclude<DefKind, "manifest">, keyof Manifest> = {
  defschema: "schemas",
  defmodule: "modules",
  defeffect: "effects",
  defcap: "caps",
  defpolicy: "policies",
  defsecret: "secrets",
};

/** The `pre_hash` of a manifest block (routing, bindings, secrets): hash of its JSON as it stands. */
export function blockHash(block: unknown): HashText {
  return hashValue(jsonToCbor(block ?? null));
}

/** Applies `doc` to `defs` (one manifest plus the defs it uses). */
export function compilePatch(defs: readonly AnyDef[], doc: PatchDocument): PatchResult {
  const issues: AirIssue[] = [];
  const at = (...p: (string | number)[]) => jsonPath(["patches", ...p]);
  const issue = (code: AirIssue["code"], message: string, path: string): void => {
    issues.push({ code, message, path });
  };
  const byKey = new Map<string, AnyDef>();
  let manifest: Manifest | undefined;
  for (const d of defs) {
    if (d.$kind === "manifest") manifest = structuredClone(d);
    else byKey.set(`${d.$kind}:${d.name}`, d);
  }
  if (!manifest)
    return { ok: false, issues: [{ code: "air.schema_violation", message: "no manifest to patch", path: "$" }] };
  const m = manifest;
  const refs = (kind: Exclude<DefKind, "manifest">) => {
    const list = LISTS[kind] as "schemas";
    m[list] ??= [];
    return m[list];
  };

  doc.patches.forEach((op, i): void => {
    if ("add_def" in op || "replace_def" in op) {
      const { kind, node, name } =
        "add_def" in op
          ? { ...op.add_def, name: undefined }
          : { kind: op.replace_def.kind, node: op.replace_def.new_node, name: op.replace_def.name };
      const where = at(i, "add_def" in op ? "add_def" : "replace_def");
      if (kind === "manifest")
        return issue(
          "air.patch_conflict",
          "the manifest is changed through set_* operations, not add/replace_def",
          where,
        );
      const parsed = parseDef(node, [
        "patches",
        i,
        "add_def" in op ? "add_def" : "replace_def",
        "add_def" in op ? "node" : "new_node",
      ]);
      if (!parsed.ok) return void issues.push(...parsed.issues);
      const def = stripComments(parsed.def) as AnyDef;
      if (def.$kind !== kind)
        return issue("air.patch_conflict", `node is a ${def.$kind}, the operation says ${kind}`, where);
      if (def.name.startsWith("sys/"))
        return issue("air.patch_conflict", `${def.name}: sys/* defs are built in and cannot be patched`, where);
      const key = `${kind}:${def.name}`;
      if ("add_def" in op) {
        if (byKey.has(key))
          return issue("air.patch_conflict", `${kind} ${def.name} already exists (use replace_def)`, where);
        byKey.set(key, def);
        if (!refs(kind).some((r) => r.name === def.name)) refs(kind).push({ name: def.name });
        return;
      }
      if (def.name !== name) return issue("air.patch_conflict", `new_node is named ${def.name}, not ${name}`, where);
      const prev = byKey.get(key);
      if (!prev) return issue("air.patch_conflict", `no ${kind} ${name} to replace`, where);
      if (hashDef(prev) !== op.replace_def.pre_hash)
        return issue(
          "air.patch_conflict",
          `${name} changed since the patch was written (pre_hash ${op.replace_def.pre_hash}, now ${hashDef(prev)})`,
          `${where}.pre_hash`,
        );
      byKey.set(key, def);
      return;
    }
    if ("remove_def" in op) {
      const { kind, name, pre_hash } = op.remove_def;
      const where = at(i, "remove_def");
      if (kind === "manifest" || name.startsWith("sys/"))
        return issue("air.patch_conflict", `${name} cannot be removed`, where);
      const prev = byKey.get(`${kind}:${name}`);
      if (!prev) return issue("air.patch_conflict", `no ${kind} ${name} to remove`, where);
      if (hashDef(prev) !== pre_hash)
        return issue("air.patch_conflict", `${name} changed since the patch was written`, `${where}.pre_hash`);
      byKey.delete(`${kind}:${name}`);
      const list = refs(kind);
      list.splice(0, list.length, ...list.filter((r) => r.name !== name));
      return;
    }
    if ("set_manifest_refs" in op) {
      for (const r of op.set_manifest_refs.add ?? [])
        if (r.kind !== "manifest" && !refs(r.kind).some((x) => x.name === r.name))
          refs(r.kind).push({ name: r.name, hash: r.hash });
      for (const r of op.set_manifest_refs.remove ?? [])
        if (r.kind !== "manifest") {
          const list = refs(r.kind);
          list.splice(0, list.length, ...list.filter((x) => x.name !== r.name));
        }
      return;
    }
    if ("set_defaults" in op) {
      const d = { ...(m.defaults ?? {}) };
      if (op.set_defaults.policy === null) delete d.policy;
      else if (op.set_defaults.policy !== undefined) d.policy = op.set_defaults.policy;
      if (op.set_defaults.cap_grants !== undefined) d.cap_grants = op.set_defaults.cap_grants;
      m.defaults = d;
      return;
    }
    const block = (name: string, current: unknown, pre: string, set: () => void): void => {
      if (blockHash(current) !== pre)
        return issue(
          "air.patch_conflict",
          `${name} changed since the patch was written (pre_hash is ${blockHash(current)})`,
          at(i, name, "pre_hash"),
        );
      set();
    };
    if ("set_routing_events" in op)
      return block(
        "set_routing_events",
        m.routing?.subscriptions,
        op.set_routing_events.pre_hash,
        () => void (m.routing = { ...(m.routing ?? {}), subscriptions: op.set_routing_events.subscriptions }),
      );
    if ("set_routing_inboxes" in op)
      return block(
        "set_routing_inboxes",
        m.routing?.inboxes,
        op.set_routing_inboxes.pre_hash,
        () => void (m.routing = { ...(m.routing ?? {}), inboxes: op.set_routing_inboxes.inboxes }),
      );
    if ("set_module_bindings" in op)
      return block(
        "set_module_bindings",
        m.module_bindings,
        op.set_module_bindings.pre_hash,
        () => void (m.module_bindings = op.set_module_bindings.bindings),
      );
    if ("set_secrets" in op)
      return block("set_secrets", m.secrets, op.set_secrets.pre_hash, () => void (m.secrets = op.set_secrets.secrets));
  });
  if (issues.length) return { ok: false, issues };
  // Hashes are filled anew by the loader: a replaced def changes its ref's hash.
  for (const list of Object.values(LISTS)) {
    const l = m[list as "schemas"];
    if (l) m[list as "schemas"] = l.map((r) => ({ name: r.name }));
  }
  return { ok: true, defs: [...byKey.values(), m] };
}
