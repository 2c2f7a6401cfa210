/**
 * @module Authority findings of a proposal (issue 21): every change to what a world may do —
 * caps, grants and their budgets, policies (rules, approvers, threshold), effects, modules and
 * their limits, slot bindings, routing, secrets, the default policy — computed from the manifest
 * in force and the patched one alone, so a patch that widens a grant shows in its shadow report
 * even when no replayed event exercises it. Each finding names the thing (`kind`, `name`), the
 * JSON path inside it, the values before and after, and `widens`: true when the change may let
 * the world do more than before (a host, model or approver added, a ceiling, budget, limit or
 * expiry raised or removed, a threshold lowered, a deny rule dropped…), false when it can only
 * restrict or is neutral, null when its direction depends on what it means (new code, another
 * grant in a slot, a rule needing approval). Pure and deterministic: findings come in canonical
 * order (kind, then name, then path as generated from sorted keys). Schemas are not listed
 * (immutable once defined; a changed state schema shows as the module's change).
 */
import { jsonPath } from "../../air/errors.js";
import type { AirCatalog } from "../../air/loader.js";
import type {
  AnyDef,
  CapGrant,
  DefCap,
  DefPolicy,
  Manifest,
  PolicyRule,
  Subscription,
} from "../../air/schemas/defs.js";
import { DEFAULT_INTENT_TTL_NS } from "../transition/flags.js";
import { DEFAULT_LIMITS } from "./modules.js";

/** What a finding is about. */
export type AuthorityKind =
  | "default_policy"
  | "policy"
  | "grant"
  | "budget"
  | "binding"
  | "cap"
  | "effect"
  | "module"
  | "limits"
  | "routing"
  | "secret";

/** One change of authority between two manifests, as the shadow report lists it (`authority_changes`). */
export interface AuthorityFinding {
  kind: AuthorityKind;
  /** The def, grant (also for `budget`), module (`binding`, `limits`), route or policy it is about. */
  name: string;
  /** What happened to the value at `path`: it appeared, disappeared or changed. */
  change: "added" | "removed" | "changed";
  /** JSON path inside the def, grant, binding or route (`$` for the whole of it). */
  path: string;
  /** The value before (null when absent). */
  before: unknown;
  /** The value after (null when absent). */
  after: unknown;
  /** True when the change may let the world do more, false when it cannot, null when that depends on what it means. */
  widens: boolean | null;
}

/** The catalog parts the diff reads: the manifest and the defs taking part. */
export type AuthoritySide = Pick<AirCatalog, "manifest" | "sources">;

/** The order kinds are listed in: who decides first, then what is granted, then what runs. */
const KIND_ORDER: readonly AuthorityKind[] = [
  "default_policy",
  "policy",
  "grant",
  "budget",
  "binding",
  "cap",
  "effect",
  "module",
  "limits",
  "routing",
  "secret",
];

type Seg = string | number;
type Widens = boolean | null;
type Emit = (
  kind: AuthorityKind,
  name: string,
  segs: readonly Seg[],
  before: unknown,
  after: unknown,
  widens: Widens,
) => void;

/** Every authority change from `before` (the manifest in force) to `after` (the patched one), in canonical order. */
export function authorityChanges(before: AuthoritySide, after: AuthoritySide): AuthorityFinding[] {
  const out: AuthorityFinding[] = [];
  const emit: Emit = (kind, name, segs, b, a, widens) =>
    out.push({
      kind,
      name,
      change: b === undefined ? "added" : a === undefined ? "removed" : "changed",
      path: jsonPath(segs),
      before: b === undefined ? null : structuredClone(b),
      after: a === undefined ? null : structuredClone(a),
      widens,
    });
  defaultPolicy(before.manifest, after.manifest, emit);
  defs(before.sources, after.sources, emit);
  grants(before, after, emit);
  bindings(before.manifest, after.manifest, emit);
  routing(before.manifest, after.manifest, emit);
  const rank = (f: AuthorityFinding) => KIND_ORDER.indexOf(f.kind);
  return out
    .map((f, i) => ({ f, i }))
    .sort((x, y) => rank(x.f) - rank(y.f) || cmp(x.f.name, y.f.name) || x.i - y.i)
    .map(({ f }) => f);
}

/** How many findings widen authority (`widens: true`). */
export function wideningCount(findings: readonly Pick<AuthorityFinding, "widens">[]): number {
  return findings.filter((f) => f.widens === true).length;
}

/**
 * One line for a finding, its mark in a column of its own — `WIDENS` (may let the world do more),
 * `REVIEW` (depends on what it means) or blank: `WIDENS grant web $.params.hosts: ["a"] → ["a","b"]`;
 * long values are cut.
 */
export function authorityLine(f: AuthorityFinding): string {
  const mark = f.widens === true ? "WIDENS " : f.widens === null ? "REVIEW " : "       ";
  const what =
    f.change === "added"
      ? `added ${show(f.after)}`
      : f.change === "removed"
        ? `removed ${show(f.before)}`
        : `${show(f.before)} → ${show(f.after)}`;
  return `${mark}${f.kind} ${f.name} ${f.path}: ${what}`;
}

/** A value as compact JSON (bigints as digits), cut to 120 characters. */
function show(v: unknown): string {
  const s = JSON.stringify(v, (_k, x: unknown) => (typeof x === "bigint" ? x.toString() : x)) ?? "null";
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** A canonical text of a JSON value (keys sorted, `$comment`s dropped, safe bigints as numbers) for equality. */
function stable(v: unknown): string {
  if (v === undefined) return "undefined";
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? String(Number(v)) : v.toString();
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o)
      .filter((k) => k !== "$comment" && o[k] !== undefined)
      .sort(cmp);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stable(o[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

const same = (a: unknown, b: unknown): boolean => stable(a) === stable(b);
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/**
 * Walks two values in parallel: objects (or an object with fields and nothing) field by field in
 * sorted key order, anything else as one leaf; `leaf` gets each differing leaf's path, before and after
 * (undefined when absent). Fields in `skip` (at the top level) are left to the caller.
 */
function walk(
  b: unknown,
  a: unknown,
  segs: readonly Seg[],
  leaf: (segs: readonly Seg[], b: unknown, a: unknown) => void,
  skip: readonly string[] = [],
): void {
  const nonEmpty = (v: unknown) => isObject(v) && Object.keys(v).length > 0;
  if ((isObject(b) && isObject(a)) || (b === undefined && nonEmpty(a)) || (a === undefined && nonEmpty(b))) {
    const bo = (b ?? {}) as Record<string, unknown>;
    const ao = (a ?? {}) as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(bo), ...Object.keys(ao)])].sort(cmp);
    for (const k of keys) {
      if (k === "$comment" || (segs.length === 0 && skip.includes(k))) continue;
      walk(bo[k], ao[k], [...segs, k], leaf);
    }
    return;
  }
  if (!same(b, a)) leaf(segs, b, a);
}

// ---- widening rules ------------------------------------------------------------------------

/** An integer value as a bigint; null when absent or not an integer. */
function int(v: unknown): bigint | null {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isInteger(v)) return BigInt(v);
  return null;
}

/**
 * A ceiling (absent: `dflt`, or none at all when no default): raising or removing it widens.
 * Null when a side is not an integer.
 */
function ceiling(b: unknown, a: unknown, dflt?: bigint): Widens {
  const eb = b === undefined || b === null ? (dflt ?? null) : int(b);
  const ea = a === undefined || a === null ? (dflt ?? null) : int(a);
  if ((b !== undefined && b !== null && eb === null) || (a !== undefined && a !== null && ea === null)) return null;
  if (ea === null) return eb !== null; // no ceiling now
  if (eb === null) return false; // a ceiling where there was none
  return ea > eb;
}

/**
 * A set-valued field: `absent: "all"` for an allowlist (absent or null allows everything),
 * `"none"` for a list of grants (absent allows nothing). Widens when it now admits something it
 * did not; null when a side is not a list.
 */
function setField(b: unknown, a: unknown, absent: "all" | "none"): Widens {
  const list = (v: unknown): unknown[] | null | "bad" =>
    v === undefined || v === null ? null : Array.isArray(v) ? v : "bad";
  const lb = list(b);
  const la = list(a);
  if (lb === "bad" || la === "bad") return null;
  if (absent === "all") {
    if (la === null) return lb !== null;
    if (lb === null) return false;
  } else {
    if (la === null) return false;
    if (lb === null) return la.length > 0;
  }
  const had = new Set(lb.map(stable));
  return la.some((x) => !had.has(stable(x)));
}

/** A thing added (may be used: widens) or removed (cannot widen); null for a change of it. */
const presence = (b: unknown, a: unknown): Widens => (b === undefined ? true : a === undefined ? false : null);

/** What the built-in cap types' grant params mean: allowlists (absent: all), lists of grants (absent: none), ceilings (absent: none). */
const PARAM_MEANING: Record<string, Record<string, "allowlist" | "grantlist" | "ceiling">> = {
  "http.out": {
    hosts: "allowlist",
    schemes: "allowlist",
    methods: "allowlist",
    ports: "allowlist",
    path_prefixes: "allowlist",
    allow_private: "grantlist",
  },
  "llm.basic": { providers: "allowlist", models: "allowlist", max_tokens: "ceiling" },
  blob: { namespaces: "allowlist" },
  compile: { languages: "allowlist" },
  // An mcp grant's `servers` map is walked server by server: see grantLeaf.
  mcp: { allow_private: "grantlist" },
};

/** Whether a grant param change widens, by what the cap type's param means; null for a cap type or param of unknown meaning. */
function paramWidens(capType: string | null, field: Seg | undefined, depth: number, b: unknown, a: unknown): Widens {
  const meaning =
    capType === null || typeof field !== "string" || depth !== 2 ? undefined : PARAM_MEANING[capType]?.[field];
  if (meaning === "allowlist") return setField(b, a, "all");
  if (meaning === "grantlist") return setField(b, a, "none");
  if (meaning === "ceiling") return ceiling(b, a);
  return null;
}

/** Module limits and their defaults (absent: the kernel's default, so an absent limit is that ceiling). */
const LIMIT_DEFAULTS: Record<string, number> = {
  memory_pages: DEFAULT_LIMITS.memoryPages,
  fuel_per_step: DEFAULT_LIMITS.fuelPerStep,
  max_output_bytes: DEFAULT_LIMITS.maxOutputBytes,
};

const DECISION_RANK: Record<PolicyRule["decision"], number> = { deny: 0, require_approval: 1, allow: 2 };

/** An added rule widens when it allows, narrows when it denies; a rule needing approval depends on what it shadows. */
function ruleAdded(r: PolicyRule): Widens {
  return r.decision === "allow" ? true : r.decision === "deny" ? false : null;
}

/** A removed rule: what it matched falls through to later rules, so dropping a deny may widen. */
function ruleRemoved(r: PolicyRule): Widens {
  return r.decision === "deny" ? true : r.decision === "allow" ? false : null;
}

/** True when match `x` holds wherever match `y` does (its fields are a subset of `y`'s, with equal values). */
function matchesMore(x: PolicyRule["when"], y: PolicyRule["when"]): boolean {
  const xo = x as Record<string, unknown>;
  const yo = y as Record<string, unknown>;
  return Object.keys(xo).every((k) => xo[k] === undefined || (k in yo && same(xo[k], yo[k])));
}

/** A rule changed in place: a decision moving toward allow, or an allow matching more (a deny matching less), widens. */
function ruleChanged(b: PolicyRule, a: PolicyRule): Widens {
  if (same(b.when, a.when)) return DECISION_RANK[a.decision] > DECISION_RANK[b.decision];
  if (a.decision !== b.decision || a.decision === "require_approval") return null;
  const broader = matchesMore(a.when, b.when);
  const narrower = matchesMore(b.when, a.when);
  if (broader === narrower) return null;
  return a.decision === "allow" ? broader : narrower;
}

// ---- the parts of a world ------------------------------------------------------------------

/** The default policy named by the manifest: setting one may allow, dropping it denies everything. */
function defaultPolicy(mb: Manifest, ma: Manifest, emit: Emit): void {
  const b = mb.defaults?.policy;
  const a = ma.defaults?.policy;
  if (b === a) return;
  emit("default_policy", a ?? b ?? "", [], b, a, presence(b, a));
}

const DEF_KINDS: Partial<Record<AnyDef["$kind"], AuthorityKind>> = {
  defcap: "cap",
  defeffect: "effect",
  defmodule: "module",
  defpolicy: "policy",
  defsecret: "secret",
};

/** Added, removed and changed defs of the authority-bearing kinds. */
function defs(before: readonly AnyDef[], after: readonly AnyDef[], emit: Emit): void {
  const index = (list: readonly AnyDef[]) => {
    const m = new Map<string, AnyDef>();
    for (const d of list) if (d.$kind !== "manifest" && DEF_KINDS[d.$kind]) m.set(`${d.$kind}:${d.name}`, d);
    return m;
  };
  const bm = index(before);
  const am = index(after);
  for (const key of [...new Set([...bm.keys(), ...am.keys()])].sort(cmp)) {
    const b = bm.get(key);
    const a = am.get(key);
    const d = (a ?? b)! as Exclude<AnyDef, Manifest>;
    const kind = DEF_KINDS[d.$kind]!;
    if (b === undefined || a === undefined) {
      emit(kind, d.name, [], b, a, presence(b, a));
      continue;
    }
    if (same(b, a)) continue;
    if (d.$kind === "defpolicy") policy(b as DefPolicy, a as DefPolicy, emit);
    else
      walk(b, a, [], (segs, x, y) => {
        const k = d.$kind === "defmodule" && segs[0] === "limits" ? "limits" : kind;
        emit(k, d.name, segs, x, y, defLeaf(d.$kind, segs, x, y));
      });
  }
}

/** Whether a changed field of a cap, effect, module or secret widens. */
function defLeaf(kind: AnyDef["$kind"], segs: readonly Seg[], b: unknown, a: unknown): Widens {
  const at = segs.join(".");
  switch (kind) {
    case "defmodule": {
      if (segs[0] === "limits" && segs.length === 2) {
        const dflt = LIMIT_DEFAULTS[String(segs[1])];
        return dflt === undefined ? null : ceiling(b, a, BigInt(dflt));
      }
      if (at === "abi.workflow.effects_emitted") return setField(b, a, "none");
      if (segs.length === 4 && at.startsWith("abi.workflow.cap_slots.")) return presence(b, a);
      return null; // new code, another state or event schema: what it may do depends on it
    }
    case "defeffect":
      if (at === "description") return false;
      if (at === "origin_scope") return a === "both" ? true : b === "both" ? false : null;
      return null;
    case "defcap":
      // An enforcer checks a grant's use: dropping it may widen, adding one only restricts.
      if (segs[0] === "enforcer") return b === undefined ? false : a === undefined ? true : null;
      return null;
    case "defsecret":
      if (at === "allowed_caps") return setField(b, a, "all");
      return null;
    default:
      return null;
  }
}

/** A policy's changes: rules aligned as a sequence, approvers by key, and its governance settings. */
function policy(b: DefPolicy, a: DefPolicy, emit: Emit): void {
  const name = a.name;
  rules(b.rules, a.rules, (segs, x, y, w) => emit("policy", name, segs, x, y, w));
  const bk = new Map((b.approvers ?? []).map((x, i) => [x.public_key, i]));
  const ak = new Map((a.approvers ?? []).map((x, i) => [x.public_key, i]));
  (b.approvers ?? []).forEach((x, i) => {
    if (!ak.has(x.public_key)) emit("policy", name, ["approvers", i], x, undefined, false);
  });
  (a.approvers ?? []).forEach((x, i) => {
    const j = bk.get(x.public_key);
    if (j === undefined) emit("policy", name, ["approvers", i], undefined, x, true);
    else if (!same(b.approvers![j], x)) emit("policy", name, ["approvers", i], b.approvers![j], x, false);
  });
  walk(
    b,
    a,
    [],
    (segs, x, y) => {
      const field = segs[0];
      const widens: Widens =
        field === "threshold"
          ? ceiling(y, x, 1n) // lower is wider: compare the other way round
          : field === "allow_unsigned_proposals"
            ? y === true && x !== true
            : field === "shadow_invariants" && segs.length === 1
              ? setField(y, x, "none") // an invariant dropped is a check fewer
              : null;
      emit("policy", name, segs, x, y, widens);
    },
    ["rules", "approvers"],
  );
}

/**
 * Rules in order (first match wins): aligned by their longest common subsequence, the rest
 * added or removed — a removed and an added rule in the same gap pair up as a rule changed in place.
 */
function rules(
  b: readonly PolicyRule[],
  a: readonly PolicyRule[],
  emit: (segs: readonly Seg[], b: unknown, a: unknown, w: Widens) => void,
): void {
  const bs = b.map(stable);
  const as = a.map(stable);
  // lcs[i][j]: the longest common subsequence of bs[i..] and as[j..].
  const lcs = Array.from({ length: bs.length + 1 }, () => new Array<number>(as.length + 1).fill(0));
  for (let i = bs.length - 1; i >= 0; i--)
    for (let j = as.length - 1; j >= 0; j--)
      lcs[i]![j] = bs[i] === as[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  let i = 0;
  let j = 0;
  let gone: number[] = [];
  let come: number[] = [];
  const flush = () => {
    const paired = Math.min(gone.length, come.length);
    for (let k = 0; k < paired; k++)
      emit(["rules", come[k]!], b[gone[k]!], a[come[k]!], ruleChanged(b[gone[k]!]!, a[come[k]!]!));
    for (const x of gone.slice(paired)) emit(["rules", x], b[x], undefined, ruleRemoved(b[x]!));
    for (const y of come.slice(paired)) emit(["rules", y], undefined, a[y], ruleAdded(a[y]!));
    gone = [];
    come = [];
  };
  while (i < bs.length || j < as.length) {
    if (i < bs.length && j < as.length && bs[i] === as[j]) {
      flush();
      i++;
      j++;
    } else if (j >= as.length || (i < bs.length && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) gone.push(i++);
    else come.push(j++);
  }
  flush();
}

/** The cap type a grant's cap has on one side (null when the cap is not among its defs). */
function capTypeOf(side: AuthoritySide, cap: string): string | null {
  const d = side.sources.find((x) => x.$kind === "defcap" && x.name === cap) as DefCap | undefined;
  return d?.cap_type ?? null;
}

/** The manifest's cap grants by name: added, removed, and each changed field (budget fields as `budget`). */
function grants(before: AuthoritySide, after: AuthoritySide, emit: Emit): void {
  const byName = (m: Manifest) => new Map((m.defaults?.cap_grants ?? []).map((g) => [g.name, g]));
  const bm = byName(before.manifest);
  const am = byName(after.manifest);
  for (const name of [...new Set([...bm.keys(), ...am.keys()])].sort(cmp)) {
    const b = bm.get(name);
    const a = am.get(name);
    if (b === undefined || a === undefined) {
      emit("grant", name, [], b, a, presence(b, a));
      continue;
    }
    const tb = capTypeOf(before, b.cap);
    const ta = capTypeOf(after, a.cap);
    const capType = tb === ta ? ta : null; // another cap type: its params mean something else
    walk(
      b,
      a,
      [],
      (segs, x, y) => emit(segs[0] === "budget" ? "budget" : "grant", name, segs, x, y, grantLeaf(capType, segs, x, y)),
      ["name"],
    );
  }
}

/** Whether a changed field of a grant widens. */
function grantLeaf(capType: string | null, segs: readonly Seg[], b: unknown, a: unknown): Widens {
  const field = segs[0] as keyof CapGrant;
  switch (field) {
    case "params":
      // mcp: a server's tools are a list of grants (absent: none), so a server added, or a tool
      // added to one, widens; one removed narrows.
      if (capType === "mcp" && segs[1] === "servers" && segs.length === 4 && segs[3] === "tools")
        return setField(b, a, "none");
      return paramWidens(capType, segs[1], segs.length, b, a);
    case "expiry_ns":
      return ceiling(b, a); // later or none: usable for longer
    case "intent_ttl_ns":
      return ceiling(b, a, DEFAULT_INTENT_TTL_NS);
    case "budget":
      return segs.length === 2 ? ceiling(b, a) : null; // count, tokens, cents: absent is unlimited
    case "secrets":
      // Which secrets the grant may use: absent allows none, so a name added to a header's list
      // widens, and so does an api_key where there was none (another one: review it).
      if (segs[1] === "headers" && segs.length === 3) return setField(b, a, "none");
      if (segs[1] === "api_key" && segs.length === 2) return presence(b, a);
      return null;
    case "prices":
      // A lower price or input bound lowers the estimate, so budgets and cost_over_cents rules admit more.
      if (segs.length === 2) return ceiling(a, b, 0n);
      return a === undefined ? true : b === undefined ? false : null;
    default:
      return null; // another cap
  }
}

/** Module slot bindings, slot by slot: a slot bound may be used, one unbound cannot, another grant depends on it. */
function bindings(mb: Manifest, ma: Manifest, emit: Emit): void {
  const b = mb.module_bindings ?? {};
  const a = ma.module_bindings ?? {};
  for (const mod of [...new Set([...Object.keys(b), ...Object.keys(a)])].sort(cmp)) {
    const sb = b[mod]?.slots ?? {};
    const sa = a[mod]?.slots ?? {};
    for (const slot of [...new Set([...Object.keys(sb), ...Object.keys(sa)])].sort(cmp))
      if (sb[slot] !== sa[slot])
        emit("binding", mod, ["slots", slot], sb[slot], sa[slot], presence(sb[slot], sa[slot]));
  }
}

/** Routing: subscriptions by event and module (`key_field` changed in place), inboxes by source. */
function routing(mb: Manifest, ma: Manifest, emit: Emit): void {
  const subs = (m: Manifest) => {
    const out = new Map<string, Subscription>();
    for (const s of m.routing?.subscriptions ?? []) {
      let key = `${s.event} → ${s.module}`;
      for (let n = 2; out.has(key); n++) key = `${s.event} → ${s.module} #${n}`;
      out.set(key, s);
    }
    return out;
  };
  const sb = subs(mb);
  const sa = subs(ma);
  for (const key of [...new Set([...sb.keys(), ...sa.keys()])].sort(cmp)) {
    const b = sb.get(key);
    const a = sa.get(key);
    if (b === undefined || a === undefined) emit("routing", key, [], b, a, presence(b, a));
    else if (!same(b, a)) walk(b, a, [], (segs, x, y) => emit("routing", key, segs, x, y, null));
  }
  const inboxes = (m: Manifest) => new Map((m.routing?.inboxes ?? []).map((x) => [`inbox ${x.source}`, x]));
  const ib = inboxes(mb);
  const ia = inboxes(ma);
  for (const key of [...new Set([...ib.keys(), ...ia.keys()])].sort(cmp)) {
    const b = ib.get(key);
    const a = ia.get(key);
    if (b === undefined || a === undefined) emit("routing", key, [], b, a, presence(b, a));
    else if (!same(b, a)) walk(b, a, [], (segs, x, y) => emit("routing", key, segs, x, y, null));
  }
}
