/**
 * @module Policy conditions: a CEL expression (`when.condition` of a policy rule) compiled once
 * and evaluated per gate decision by @bufbuild/cel, pinned at 0.6.1 by the kernel flag
 * `policy-cel-v1`. Compiling parses, checks what can be checked before any intent exists (the
 * variables named, a result that cannot be a bool, functions whose answer depends on the host)
 * and plans; evaluating maps the intent to CEL values (air/cel-values.ts) and never throws.
 */
import { celEnv, isCelError, parse, plan } from "@bufbuild/cel";
import type { CborValue } from "./cbor/value.js";
import { CelInputFault, toCel, type CelIn } from "./cel-values.js";

/** The variables a condition may name. */
export const CONDITION_VARIABLES = [
  "params",
  "origin",
  "key",
  "effect_kind",
  "cap_name",
  "cap_type",
  "module",
  "estimate",
] as const;

/** What a condition sees of an intent (canonical params, the emitting cell, the gate's estimate). */
export interface ConditionSubject {
  params: CborValue;
  originKind: string;
  originName: string;
  key: null | string | Uint8Array;
  effectKind: string;
  capName: string;
  capType: string;
  module: string;
  estimate: { tokens: number; cents: number };
}

/** A condition's outcome: a bool, or why it could not give one (deterministic text). */
export type ConditionResult = { ok: true; value: boolean } | { ok: false; message: string };

/** A compiled condition: evaluate it per decision. */
export interface CompiledCondition {
  source: string;
  evaluate(s: ConditionSubject): ConditionResult;
}

/** Compile outcome: the condition, or the first reason it is refused. */
export type CompileResult = { ok: true; condition: CompiledCondition } | { ok: false; message: string };

/** The longest condition accepted, in UTF-16 code units: a policy is a rule, not a program. */
export const MAX_CONDITION_LENGTH = 4096;

/**
 * Nesting bounds. The parser, the planner and the evaluator recurse, and where a recursion
 * overflows the stack depends on the host (stack size, how deep the caller already is): a
 * condition that loads on one machine must load, and decide, on every other. So nesting is
 * bounded far below any stack: at most MAX_OPENERS opening brackets `(`, `[`, `{` in the whole
 * text (counted before parsing, string literals included, so the bound never depends on lexing),
 * and an expression tree at most MAX_DEPTH deep (measured without recursion before anything
 * else walks it).
 */
export const MAX_OPENERS = 64;
export const MAX_DEPTH = 100;

/**
 * Timestamp accessors answer in a time zone: without one, the host's local zone (whose DST
 * rules shift an hour); with an IANA name, the host's ICU data. Either way two machines can
 * disagree, so a replayed decision could too: conditions may not call them.
 */
const HOST_DEPENDENT = new Set([
  "getFullYear",
  "getMonth",
  "getDate",
  "getDayOfMonth",
  "getDayOfWeek",
  "getDayOfYear",
  "getHours",
  "getMinutes",
  "getSeconds",
  "getMilliseconds",
]);

/** Functions whose result is never a bool, to refuse a condition such as `params.amount + 1`. */
const NOT_BOOL = new Set([
  "_+_",
  "_-_",
  "_*_",
  "_/_",
  "_%_",
  "-_",
  "size",
  "int",
  "uint",
  "double",
  "string",
  "bytes",
  "timestamp",
  "duration",
  "type",
]);

/** CEL's built-in type names, which are values too (`type(params.a) == int`). */
const TYPE_NAMES = new Set(["int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type"]);

type Expr = ReturnType<typeof parse>["expr"];

const ENV = celEnv();
const cache = new Map<string, CompileResult>();
const CACHE_LIMIT = 4096;

/** Compiles a condition (cached by its text, so each distinct condition is parsed and planned once per process). */
export function compileCondition(source: string): CompileResult {
  const hit = cache.get(source);
  if (hit) return hit;
  const r = compile(source);
  // The cache only saves work: dropping it changes no answer.
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(source, r);
  return r;
}

function compile(source: string): CompileResult {
  if (source.length > MAX_CONDITION_LENGTH)
    return { ok: false, message: `a condition is at most ${MAX_CONDITION_LENGTH} characters` };
  let openers = 0;
  for (const ch of source) if (ch === "(" || ch === "[" || ch === "{") openers++;
  if (openers > MAX_OPENERS)
    return { ok: false, message: `a condition has at most ${MAX_OPENERS} opening brackets ( [ {, this one ${openers}` };
  // Ternaries nest by recursion in the parser without brackets: bound them the same way.
  let ternaries = 0;
  for (const ch of source) if (ch === "?") ternaries++;
  if (ternaries > MAX_OPENERS)
    return { ok: false, message: `a condition has at most ${MAX_OPENERS} "?", this one ${ternaries}` };
  let ast: ReturnType<typeof parse>;
  try {
    ast = parse(source);
  } catch (e) {
    return { ok: false, message: `CEL syntax error: ${(e as Error).message}` };
  }
  const depth = depthOf(ast.expr);
  if (depth > MAX_DEPTH)
    return { ok: false, message: `a condition nests at most ${MAX_DEPTH} deep, this one ${depth}` };
  const problem = staticProblem(ast.expr);
  if (problem) return { ok: false, message: problem };
  let program: ReturnType<typeof plan>;
  try {
    program = plan(ENV, ast);
  } catch (e) {
    return { ok: false, message: `CEL cannot plan this condition: ${(e as Error).message}` };
  }
  return {
    ok: true,
    condition: {
      source,
      evaluate(s) {
        let vars: Record<string, CelIn>;
        try {
          vars = bindings(s);
        } catch (e) {
          if (e instanceof CelInputFault) return { ok: false, message: `${e.path}: ${e.message}` };
          throw e;
        }
        let out: unknown;
        try {
          out = program(vars);
        } catch (e) {
          // The evaluator returns its errors; this is for one it throws, so a decision is still made.
          return { ok: false, message: `CEL evaluation failed: ${(e as Error).message}` };
        }
        if (isCelError(out)) return { ok: false, message: out.message };
        if (typeof out !== "boolean")
          return { ok: false, message: `the condition gave ${celTypeName(out)}, not a bool` };
        return { ok: true, value: out };
      },
    },
  };
}

function bindings(s: ConditionSubject): Record<string, CelIn> {
  return {
    params: toCel(s.params),
    origin: new Map([
      ["kind", s.originKind],
      ["name", s.originName],
    ]),
    key: s.key,
    effect_kind: s.effectKind,
    cap_name: s.capName,
    cap_type: s.capType,
    module: s.module,
    estimate: new Map([
      ["tokens", BigInt(s.estimate.tokens)],
      ["cents", BigInt(s.estimate.cents)],
    ]),
  };
}

function celTypeName(v: unknown): string {
  if (v === null) return "null";
  if (typeof v === "bigint") return "an int";
  if (typeof v === "number") return "a double";
  if (typeof v === "string") return "a string";
  if (v instanceof Uint8Array) return "bytes";
  return "a non-bool value";
}

/** What the AST shows is wrong before any intent exists: an unknown variable, a host-dependent call, a non-bool result. */
function staticProblem(root: Expr): string | null {
  const declared = new Set<string>(CONDITION_VARIABLES);
  const walk = (e: Expr | undefined, scope: ReadonlySet<string>): string | null => {
    if (!e) return null;
    const k = e.exprKind;
    switch (k.case) {
      case "identExpr":
        return scope.has(k.value.name) || declared.has(k.value.name) || TYPE_NAMES.has(k.value.name)
          ? null
          : `unknown variable "${k.value.name}" (a condition may name ${CONDITION_VARIABLES.join(", ")})`;
      case "selectExpr":
        return walk(k.value.operand, scope);
      case "callExpr":
        if (HOST_DEPENDENT.has(k.value.function))
          return `${k.value.function}() depends on the host's time zone data, so a replayed decision could differ`;
        return first([k.value.target, ...k.value.args].map((a) => () => walk(a, scope)));
      case "listExpr":
        return first(k.value.elements.map((a) => () => walk(a, scope)));
      case "structExpr":
        return first(
          k.value.entries.flatMap((en) => [
            () => (en.keyKind.case === "mapKey" ? walk(en.keyKind.value, scope) : null),
            () => walk(en.value, scope),
          ]),
        );
      case "comprehensionExpr": {
        const c = k.value;
        const inner = new Set([...scope, c.iterVar, c.accuVar, ...(c.iterVar2 ? [c.iterVar2] : [])]);
        return first([
          () => walk(c.iterRange, scope),
          () => walk(c.accuInit, scope),
          () => walk(c.loopCondition, inner),
          () => walk(c.loopStep, inner),
          () => walk(c.result, inner),
        ]);
      }
      default:
        return null;
    }
  };
  return walk(root, new Set()) ?? resultProblem(root);
}

/** A root whose type is plainly not bool: a non-bool literal, a list or map literal, arithmetic or a conversion. */
function resultProblem(root: Expr): string | null {
  const k = root.exprKind;
  const not = (what: string): string => `a condition must give a bool; this one gives ${what}`;
  if (k.case === "constExpr" && k.value.constantKind.case !== "boolValue")
    return not(`a constant (${k.value.constantKind.case ?? "null"})`);
  if (k.case === "listExpr") return not("a list");
  if (k.case === "structExpr") return not(k.value.messageName ? k.value.messageName : "a map");
  if (k.case === "callExpr" && NOT_BOOL.has(k.value.function)) return not(`the result of ${k.value.function}`);
  return null;
}

/** The depth of an expression tree, by an explicit stack (so a deep tree cannot overflow this either). */
function depthOf(root: Expr): number {
  let max = 0;
  const todo: [Expr | undefined, number][] = [[root, 1]];
  while (todo.length > 0) {
    const [e, d] = todo.pop()!;
    if (!e) continue;
    if (d > max) max = d;
    if (max > MAX_DEPTH) return max;
    const k = e.exprKind;
    const kids: (Expr | undefined)[] =
      k.case === "selectExpr"
        ? [k.value.operand]
        : k.case === "callExpr"
          ? [k.value.target, ...k.value.args]
          : k.case === "listExpr"
            ? k.value.elements
            : k.case === "structExpr"
              ? k.value.entries.flatMap((en) => [en.keyKind.case === "mapKey" ? en.keyKind.value : undefined, en.value])
              : k.case === "comprehensionExpr"
                ? [k.value.iterRange, k.value.accuInit, k.value.loopCondition, k.value.loopStep, k.value.result]
                : [];
    for (const c of kids) todo.push([c, d + 1]);
  }
  return max;
}

function first(checks: (() => string | null)[]): string | null {
  for (const c of checks) {
    const r = c();
    if (r) return r;
  }
  return null;
}
