/**
 * @module The AIR loader: from def sources (files already read, or a stored bundle) to a
 * resolved, canonical catalog. It checks every reference (schemas, effects, caps, policies,
 * modules, grants, bindings, routing) and reports every problem at once, each with its
 * file and JSON path. Pure: reading files is the caller's job.
 */
import { AirError, jsonPath, type AirIssue } from "./errors.js";
import { parseDef, defToCbor, hashDef, stripComments } from "./defs.js";
import type {
  AnyDef,
  CapGrant,
  DefCap,
  DefEffect,
  DefModule,
  DefPolicy,
  DefSchema,
  DefSecret,
  Manifest,
} from "./schemas/defs.js";
import type { DefKind, TypeExpr } from "./schemas/common.js";
import { expandType, schemaHash } from "./values/types.js";
import { canonicalizeJson } from "./values/canonicalize.js";
import { hashValue, type HashText } from "./hash.js";
import { jsonToCbor } from "./json.js";
import type { CborValue, CborObject } from "./cbor/value.js";
import { BUILTIN_SOURCES } from "./builtins/index.js";
import { compileCondition } from "./policy-condition.js";
import { findInvalidText, hasInvalidText, invalidUnicode } from "./unicode.js";

/** One def with its identity and where it came from. */
export interface Entry<D> {
  def: D;
  hash: HashText;
  file: string;
  path: string;
}

/** A schema entry with its fully expanded type and schema hash. */
export interface SchemaEntry extends Entry<DefSchema> {
  expanded: TypeExpr;
  schemaHash: HashText;
}

/** A cap grant resolved against its defcap: canonical params and cap type. */
export interface ResolvedGrant {
  grant: CapGrant;
  capType: string;
  params: CborValue;
}

/** The resolved control plane of a world. */
export interface AirCatalog {
  manifest: Manifest;
  manifestHash: HashText;
  schemas: Map<string, SchemaEntry>;
  modules: Map<string, Entry<DefModule>>;
  effects: Map<string, Entry<DefEffect>>; // by effect kind
  caps: Map<string, Entry<DefCap> & { expanded: TypeExpr }>;
  policies: Map<string, Entry<DefPolicy>>;
  secrets: Map<string, Entry<DefSecret>>;
  grants: Map<string, ResolvedGrant>;
  /** Every def that takes part, by `kind:name`, as normalized JSON (what a bundle stores). */
  sources: AnyDef[];
}

/** Load result: the catalog, or every issue found. */
export type LoadResult = { ok: true; catalog: AirCatalog } | { ok: false; issues: AirIssue[] };

type Source = { file: string; value: unknown };
type Found = { def: AnyDef; file: string; path: (string | number)[]; builtin: boolean };

/** Builds a catalog from def sources (each a def or an array of defs) plus the built-ins. */
export function buildCatalog(sources: readonly Source[], opts: { builtins?: boolean } = {}): LoadResult {
  const issues: AirIssue[] = [];
  const found: Found[] = [];
  const all = [
    ...(opts.builtins === false ? [] : BUILTIN_SOURCES.map((s) => ({ ...s, builtin: true }))),
    ...sources.map((s) => ({ ...s, builtin: false })),
  ];
  const textIssues: AirIssue[] = [];
  for (const src of all) {
    const items = Array.isArray(src.value) ? src.value.map((v, i) => [v, [i]] as const) : [[src.value, []] as const];
    for (const [v, base] of items) {
      // A def with a lone surrogate anywhere (even in a $comment) has no UTF-8 form, so no identity: report it, skip it.
      const bad = hasInvalidText(v) ? findInvalidText(v, base) : undefined;
      if (bad) {
        const e = invalidUnicode(bad.text, jsonPath(bad.path), bad.what);
        textIssues.push({ code: e.code, message: e.message.replace(/ \(at .*\)$/, ""), path: e.path, file: src.file });
        continue;
      }
      const r = parseDef(v, [...base], src.file);
      if (r.ok) found.push({ def: r.def, file: src.file, path: [...base], builtin: src.builtin });
      else issues.push(...r.issues);
    }
  }
  // Skipped defs would only cascade into unknown-ref noise: stop at what can be checked.
  if (textIssues.length) return { ok: false, issues: [...textIssues, ...issues] };
  const manifests = found.filter((f) => f.def.$kind === "manifest");
  if (manifests.length !== 1) {
    issues.push({
      code: "air.schema_violation",
      message: `a world needs exactly one manifest, found ${manifests.length}${manifests.length ? ` (${manifests.map((m) => m.file).join(", ")})` : ""}`,
      path: "$",
    });
    return { ok: false, issues };
  }
  const byKind = indexDefs(found, issues);
  const r = new Resolver(byKind, issues);
  const catalog = r.resolve(manifests[0]!);
  return issues.length ? { ok: false, issues: dedupe(issues) } : { ok: true, catalog: catalog! };
}

/** Like `buildCatalog` but throws an `AirError` carrying every issue. */
export function buildCatalogOrThrow(sources: readonly Source[], opts: { builtins?: boolean } = {}): AirCatalog {
  const r = buildCatalog(sources, opts);
  if (!r.ok) {
    const first = r.issues[0]!;
    const more = r.issues.length > 1 ? ` (+${r.issues.length - 1} more)` : "";
    throw new AirError(
      first.code,
      `${first.file ? first.file + ": " : ""}${first.message}${more}`,
      first.path,
      r.issues,
    );
  }
  return r.catalog;
}

/** The same problem can be reached along two reference paths; report it once. */
function dedupe(issues: AirIssue[]): AirIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const k = `${i.file}|${i.path}|${i.code}|${i.message}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

function indexDefs(found: Found[], issues: AirIssue[]): Map<DefKind, Map<string, Found>> {
  const byKind = new Map<DefKind, Map<string, Found>>();
  for (const f of found) {
    if (f.def.$kind === "manifest") continue;
    const m = byKind.get(f.def.$kind) ?? new Map<string, Found>();
    byKind.set(f.def.$kind, m);
    const prev = m.get(f.def.name);
    // The same def twice (same identity) is harmless: the AgentOS reference bundle does it.
    if (prev && hashDef(prev.def) === hashDef(f.def)) continue;
    if (prev && !prev.builtin) {
      issues.push({
        code: "air.duplicate_name",
        message: `${f.def.$kind} ${f.def.name} is defined twice (also in ${prev.file})`,
        path: jsonPath([...f.path, "name"]),
        file: f.file,
      });
    } else if (prev?.builtin && !f.builtin && f.def.name.startsWith("sys/")) {
      // The reference AIR bundle redefines sys/* names; a world file may not.
      issues.push({
        code: "air.duplicate_name",
        message: `${f.def.name}: sys/* defs are built in and cannot be redefined`,
        path: jsonPath([...f.path, "name"]),
        file: f.file,
      });
    } else {
      m.set(f.def.name, f);
    }
  }
  return byKind;
}

class Resolver {
  constructor(
    private readonly byKind: Map<DefKind, Map<string, Found>>,
    private readonly issues: AirIssue[],
  ) {}

  private get<K extends DefKind>(kind: K, name: string): Found | undefined {
    return this.byKind.get(kind)?.get(name);
  }

  private issue(code: AirIssue["code"], message: string, at: Found, path: (string | number)[]): void {
    this.issues.push({ code, message, path: jsonPath([...at.path, ...path]), file: at.file });
  }

  private typeResolver = (name: string): TypeExpr | undefined =>
    (this.get("defschema", name)?.def as DefSchema | undefined)?.type;

  /** Expands a type, recording an issue (and returning undefined) when it does not resolve. */
  private expand(t: TypeExpr, at: Found, path: (string | number)[]): TypeExpr | undefined {
    try {
      return expandType(t, this.typeResolver, [...at.path, ...path]);
    } catch (e) {
      const err = e as AirError;
      this.issues.push({
        code: err.code,
        message: err.message.replace(/ \(at .*\)$/, ""),
        path: err.path,
        file: at.file,
      });
      return undefined;
    }
  }

  resolve(mf: Found): AirCatalog | undefined {
    const m = mf.def as Manifest;
    const used = new Map<string, Found>(); // kind:name → def, everything the manifest pulls in
    const use = (kind: DefKind, name: string, path: (string | number)[], hash?: string): Found | undefined => {
      const f = this.get(kind, name);
      if (!f) {
        this.issue("air.unknown_ref", `unknown ${kind} ${name}`, mf, path);
        return undefined;
      }
      if (hash !== undefined && hash !== hashDef(f.def))
        this.issue("air.unknown_ref", `${kind} ${name}: hash ${hash} does not match its def (${hashDef(f.def)})`, mf, [
          ...path.slice(0, -1),
          "hash",
        ]);
      used.set(`${kind}:${name}`, f);
      return f;
    };
    const lists: [keyof Manifest & ("schemas" | "modules" | "effects" | "caps" | "policies" | "secrets"), DefKind][] = [
      ["schemas", "defschema"],
      ["modules", "defmodule"],
      ["effects", "defeffect"],
      ["caps", "defcap"],
      ["policies", "defpolicy"],
      ["secrets", "defsecret"],
    ];
    for (const [field, kind] of lists)
      (m[field] ?? []).forEach((ref, i) => use(kind, ref.name, [field, i, "name"], ref.hash));

    // Pull in everything referenced transitively (built-in sys/* defs may be referenced without listing them).
    const schemas = new Map<string, SchemaEntry>();
    const addSchema = (name: string, at: Found, path: (string | number)[]): SchemaEntry | undefined => {
      const known = schemas.get(name);
      if (known) return known;
      const f = this.get("defschema", name);
      if (!f) {
        this.issue("air.unknown_ref", `unknown schema ${name}`, at, path);
        return undefined;
      }
      used.set(`defschema:${name}`, f);
      const def = f.def as DefSchema;
      const expanded = this.expand(def.type, f, ["type"]);
      if (!expanded) return undefined;
      for (const r of refsOf(def.type)) addSchema(r, f, ["type"]);
      const e: SchemaEntry = {
        def,
        hash: hashDef(def),
        file: f.file,
        path: jsonPath(f.path),
        expanded,
        schemaHash: schemaHash(expanded),
      };
      schemas.set(name, e);
      return e;
    };
    for (const ref of m.schemas) addSchema(ref.name, mf, ["schemas"]);

    const modules = new Map<string, Entry<DefModule>>();
    for (const [key, f] of [...used])
      if (key.startsWith("defmodule:")) modules.set((f.def as DefModule).name, entry(f) as Entry<DefModule>);

    const effects = new Map<string, Entry<DefEffect>>();
    for (const [key, f] of [...used]) {
      if (!key.startsWith("defeffect:")) continue;
      const e = f.def as DefEffect;
      if (effects.has(e.kind)) this.issue("air.duplicate_name", `effect kind ${e.kind} is declared twice`, f, ["kind"]);
      effects.set(e.kind, entry(f) as Entry<DefEffect>);
      addSchema(e.params_schema, f, ["params_schema"]);
      addSchema(e.receipt_schema, f, ["receipt_schema"]);
    }

    const caps = new Map<string, Entry<DefCap> & { expanded: TypeExpr }>();
    const addCap = (name: string, at: Found, path: (string | number)[]) => {
      if (caps.has(name)) return caps.get(name);
      const f = this.get("defcap", name);
      if (!f) return void this.issue("air.unknown_ref", `unknown defcap ${name}`, at, path);
      used.set(`defcap:${name}`, f);
      const def = f.def as DefCap;
      for (const r of refsOf(def.schema)) addSchema(r, f, ["schema"]);
      const expanded = this.expand(def.schema, f, ["schema"]);
      if (def.enforcer && !this.get("defmodule", def.enforcer.module))
        this.issue("air.unknown_ref", `unknown enforcer module ${def.enforcer.module}`, f, ["enforcer", "module"]);
      if (!expanded) return undefined;
      const e = { ...(entry(f) as Entry<DefCap>), expanded };
      caps.set(name, e);
      return e;
    };
    for (const ref of m.caps) addCap(ref.name, mf, ["caps"]);

    // Modules: ABI schemas, effect kinds, cap slots.
    for (const e of modules.values()) {
      const f = { def: e.def, file: e.file, path: pathOf(e.path), builtin: false } as Found;
      const wf = e.def.abi.workflow;
      const pure = e.def.abi.pure;
      for (const [k, name] of Object.entries({
        state: wf?.state,
        event: wf?.event,
        context: wf?.context,
        annotations: wf?.annotations,
      })) {
        if (name) addSchema(name, f, ["abi", "workflow", k]);
      }
      for (const [k, name] of Object.entries({ input: pure?.input, output: pure?.output, context: pure?.context }))
        if (name) addSchema(name, f, ["abi", "pure", k]);
      if (e.def.key_schema) addSchema(e.def.key_schema, f, ["key_schema"]);
      (wf?.effects_emitted ?? []).forEach((k, i) => {
        if (!effects.has(k))
          this.issue("air.unknown_ref", `effect kind ${k} is not declared in the manifest's effects`, f, [
            "abi",
            "workflow",
            "effects_emitted",
            i,
          ]);
      });
    }

    // Grants: defcap exists, params conform to its schema.
    const grants = new Map<string, ResolvedGrant>();
    (m.defaults?.cap_grants ?? []).forEach((g, i) => {
      const path = ["defaults", "cap_grants", i];
      if (grants.has(g.name))
        return this.issue("air.duplicate_name", `cap grant ${g.name} is defined twice`, mf, [...path, "name"]);
      const cap = addCap(g.cap, mf, [...path, "cap"]);
      if (!cap) return;
      try {
        grants.set(g.name, {
          grant: g,
          capType: cap.def.cap_type,
          params: canonicalizeJson(cap.expanded, g.params ?? {}, [...mf.path, ...path, "params"]),
        });
      } catch (err) {
        const a = err as AirError;
        this.issues.push({ code: a.code, message: a.message.replace(/ \(at .*\)$/, ""), path: a.path, file: mf.file });
      }
    });

    // Bindings: module exists, slot declared, grant exists with the slot's cap type.
    for (const [modName, binding] of Object.entries(m.module_bindings ?? {})) {
      const mod = modules.get(modName);
      if (!mod) {
        this.issue("air.unknown_ref", `module_bindings names ${modName}, which is not in the manifest's modules`, mf, [
          "module_bindings",
          modName,
        ]);
        continue;
      }
      const slots = mod.def.abi.workflow?.cap_slots ?? {};
      for (const [slot, grantName] of Object.entries(binding.slots)) {
        const p = ["module_bindings", modName, "slots", slot];
        const g = grants.get(grantName);
        if (!(slot in slots)) this.issue("air.unknown_ref", `${modName} declares no cap slot "${slot}"`, mf, p);
        else if (!g) this.issue("air.unknown_ref", `unknown cap grant ${grantName}`, mf, p);
        else if (g.capType !== slots[slot])
          this.issue(
            "air.type_mismatch",
            `slot "${slot}" needs cap type ${slots[slot]}, grant ${grantName} is ${g.capType}`,
            mf,
            p,
          );
      }
    }

    const policies = new Map<string, Entry<DefPolicy>>();
    for (const [key, f] of used)
      if (key.startsWith("defpolicy:")) policies.set((f.def as DefPolicy).name, entry(f) as Entry<DefPolicy>);
    if (m.defaults?.policy !== undefined && !policies.has(m.defaults.policy)) {
      this.issue("air.unknown_ref", `default policy ${m.defaults.policy} is not in the manifest's policies`, mf, [
        "defaults",
        "policy",
      ]);
    }
    for (const p of policies.values()) {
      const f = { def: p.def, file: p.file, path: pathOf(p.path), builtin: false } as Found;
      p.def.rules.forEach((r, i) => {
        if (r.when.effect_kind && !effects.has(r.when.effect_kind))
          this.issue("air.unknown_ref", `effect kind ${r.when.effect_kind} is not declared`, f, [
            "rules",
            i,
            "when",
            "effect_kind",
          ]);
        if (r.when.condition !== undefined) {
          const c = compileCondition(r.when.condition);
          if (!c.ok) this.issue("air.bad_condition", c.message, f, ["rules", i, "when", "condition"]);
        }
        if (r.when.cap_name && !grants.has(r.when.cap_name))
          this.issue("air.unknown_ref", `unknown cap grant ${r.when.cap_name}`, f, ["rules", i, "when", "cap_name"]);
        const mod = r.when.module ?? r.when.origin_name;
        if (mod && !modules.has(mod))
          this.issue("air.unknown_ref", `unknown module ${mod}`, f, [
            "rules",
            i,
            "when",
            r.when.module ? "module" : "origin_name",
          ]);
      });
      if (p.def.threshold !== undefined && p.def.threshold > (p.def.approvers?.length ?? 0)) {
        this.issue(
          "air.out_of_range",
          `threshold ${p.def.threshold} exceeds the ${p.def.approvers?.length ?? 0} approver(s)`,
          f,
          ["threshold"],
        );
      }
    }

    (m.effect_bindings ?? []).forEach((b, i) => {
      if (!effects.has(b.kind))
        this.issue("air.unknown_ref", `effect binding for undeclared kind ${b.kind}`, mf, [
          "effect_bindings",
          i,
          "kind",
        ]);
    });

    this.checkRouting(m, mf, schemas, modules);

    const secrets = new Map<string, Entry<DefSecret>>();
    for (const [key, f] of used)
      if (key.startsWith("defsecret:")) secrets.set((f.def as DefSecret).name, entry(f) as Entry<DefSecret>);
    this.checkGrantSecrets(m, mf, secrets);

    if (this.issues.length) return undefined;
    const canonical = canonicalManifest(m, used, grants);
    return {
      manifest: canonical.manifest,
      manifestHash: hashValue(canonical.cbor),
      schemas,
      modules,
      effects,
      caps,
      policies,
      secrets,
      grants,
      sources: [...[...used.values()].map((f) => stripComments(f.def) as AnyDef), canonical.manifest],
    };
  }

  /** A grant may only name secrets the manifest declares, and only those whose allowed_caps admit it. */
  private checkGrantSecrets(m: Manifest, mf: Found, secrets: Map<string, Entry<DefSecret>>): void {
    (m.defaults?.cap_grants ?? []).forEach((g, i) => {
      const at = ["defaults", "cap_grants", i, "secrets"];
      const named: [string, (string | number)[]][] = [
        ...Object.entries(g.secrets?.headers ?? {}).flatMap(([h, names]) =>
          names.map((n, j): [string, (string | number)[]] => [n, [...at, "headers", h, j]]),
        ),
        ...(g.secrets?.api_key === undefined ? [] : [[g.secrets.api_key, [...at, "api_key"]] as [string, string[]]]),
      ];
      for (const [name, path] of named) {
        const s = secrets.get(name);
        if (!s) this.issue("air.unknown_ref", `secret ${name} is not declared in the manifest's secrets`, mf, path);
        else if (s.def.allowed_caps && !s.def.allowed_caps.includes(g.name))
          this.issue(
            "air.schema_violation",
            `secret ${name} does not list grant ${g.name} in its allowed_caps`,
            mf,
            path,
          );
      }
    });
  }

  private checkRouting(
    m: Manifest,
    mf: Found,
    schemas: Map<string, SchemaEntry>,
    modules: Map<string, Entry<DefModule>>,
  ): void {
    (m.routing?.subscriptions ?? []).forEach((s, i) => {
      const p = ["routing", "subscriptions", i];
      const ev = schemas.get(s.event);
      const mod = modules.get(s.module);
      if (!ev)
        this.issue("air.unknown_ref", `routed event schema ${s.event} is not in the manifest's schemas`, mf, [
          ...p,
          "event",
        ]);
      if (!mod)
        return this.issue("air.unknown_ref", `routed module ${s.module} is not in the manifest's modules`, mf, [
          ...p,
          "module",
        ]);
      const wf = mod.def.abi.workflow;
      if (!wf)
        return this.issue("air.type_mismatch", `${s.module} is a pure module and cannot be routed events`, mf, [
          ...p,
          "module",
        ]);
      if (ev && wf.event !== s.event) {
        const modEvent = schemas.get(wf.event);
        const alts = modEvent && "variant" in modEvent.def.type ? Object.values(modEvent.def.type.variant) : [];
        if (!alts.some((a) => "ref" in a && a.ref === s.event)) {
          this.issue(
            "air.type_mismatch",
            `${s.module} takes ${wf.event}, not ${s.event} (use a variant to accept several)`,
            mf,
            [...p, "event"],
          );
        }
      }
      if (s.key_field !== undefined && ev && keyFieldType(ev.expanded, s.key_field) === undefined) {
        this.issue("air.unknown_ref", `key_field "${s.key_field}" is not a text/nat/int field of ${s.event}`, mf, [
          ...p,
          "key_field",
        ]);
      }
    });
  }
}

/** The type at a dotted key path (`note_id`, `$value.note_id`) if it can key a cell. */
export function keyFieldType(t: TypeExpr, field: string): TypeExpr | undefined {
  let cur: TypeExpr | undefined = t;
  for (const part of field.split(".")) {
    if (!cur) return undefined;
    if (part === "$value" && "variant" in cur) {
      const alts: TypeExpr[] = Object.values(cur.variant);
      cur = alts[0];
    } else if ("record" in cur) cur = cur.record[part];
    else return undefined;
  }
  if (cur && ("text" in cur || "nat" in cur || "int" in cur || "uuid" in cur || "hash" in cur)) return cur;
  return undefined;
}

function entry(f: Found): Entry<AnyDef> {
  return { def: f.def, hash: hashDef(f.def), file: f.file, path: jsonPath(f.path) };
}

function pathOf(p: string): (string | number)[] {
  return [...p.matchAll(/\[(\d+)\]|\.([A-Za-z_$][\w$]*)/g)].map((m) => (m[1] !== undefined ? Number(m[1]) : m[2]!));
}

function refsOf(t: TypeExpr): string[] {
  const out: string[] = [];
  const walk = (x: unknown): void => {
    if (typeof x !== "object" || x === null) return;
    for (const [k, v] of Object.entries(x)) {
      if (k === "ref" && typeof v === "string") out.push(v);
      else walk(v);
    }
  };
  walk(t);
  return out;
}

/** The manifest with every ref's hash filled, lists sorted by name, built-ins it uses included. */
function canonicalManifest(
  m: Manifest,
  used: Map<string, Found>,
  grants: Map<string, ResolvedGrant>,
): { manifest: Manifest; cbor: CborValue } {
  const refs = (kind: DefKind) =>
    [...used.entries()]
      .filter(([k]) => k.startsWith(kind + ":"))
      .map(([, f]) => ({ name: (f.def as { name: string }).name, hash: hashDef(f.def) }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const manifest: Manifest = {
    ...(stripComments(m) as Manifest),
    schemas: refs("defschema"),
    modules: refs("defmodule"),
    effects: refs("defeffect"),
    caps: refs("defcap"),
    policies: refs("defpolicy"),
    ...(m.secrets || refs("defsecret").length ? { secrets: refs("defsecret") } : {}),
  };
  const cbor = defToCbor(manifest) as CborObject;
  // Grant params hash in their typed canonical form (sets sorted, hashes as bytes), not as authored.
  if (manifest.defaults?.cap_grants) {
    const d = cbor.defaults as CborObject;
    d.cap_grants = manifest.defaults.cap_grants.map((g) => ({
      ...(jsonToCbor(g) as CborObject),
      params: grants.get(g.name)!.params,
    }));
  }
  return { manifest, cbor };
}
