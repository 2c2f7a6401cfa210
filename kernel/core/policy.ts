/**
 * @module Policy evaluation: ordered rules, first match wins, no match denies. A rule
 * matches when every field it names holds for the intent (effect kind, grant, cap type,
 * origin, module, an estimated cost above a ceiling, and a CEL condition over its params).
 * A condition that cannot be evaluated stops evaluation and denies: falling through to a
 * later rule would let a malformed intent slip past the rule meant to hold it.
 */
import { compileCondition, type ConditionSubject } from "../../air/policy-condition.js";
import type { DefPolicy, PolicyMatch } from "../../air/schemas/defs.js";

/** What a policy can see of an intent. */
export interface PolicySubject {
  effectKind: string;
  capName: string;
  capType: string;
  originKind: "workflow" | "system" | "governance";
  originName: string;
  estimatedCents: number;
  /** What a condition sees; undefined when conditions are off (a journal without policy-cel-v1). */
  condition?: ConditionSubject | undefined;
}

/** The outcome of evaluating a policy. */
export interface PolicyVerdict {
  decision: "allow" | "deny" | "require_approval";
  policy: string | null;
  ruleIndex: number | null;
  /** Set when a rule's condition could not be evaluated (the verdict is then `deny` at that rule). */
  fault?: { code: "policy.condition_error" | "policy.condition_unsupported"; message: string };
}

type Match = { ok: true; value: boolean } | { ok: false; fault: NonNullable<PolicyVerdict["fault"]> };

function matches(m: PolicyMatch, s: PolicySubject): Match {
  const no = { ok: true, value: false } as const;
  if (m.effect_kind !== undefined && m.effect_kind !== s.effectKind) return no;
  if (m.cap_name !== undefined && m.cap_name !== s.capName) return no;
  if (m.cap_type !== undefined && m.cap_type !== s.capType) return no;
  if (m.origin_kind !== undefined && m.origin_kind !== s.originKind) return no;
  if (m.origin_name !== undefined && m.origin_name !== s.originName) return no;
  if (m.module !== undefined && (s.originKind !== "workflow" || m.module !== s.originName)) return no;
  if (m.cost_over_cents !== undefined && !(s.estimatedCents > Number(m.cost_over_cents))) return no;
  // The condition comes last: the cheap fields decide most intents without it.
  if (m.condition === undefined) return { ok: true, value: true };
  if (!s.condition)
    return {
      ok: false,
      fault: {
        code: "policy.condition_unsupported",
        message: "this world's kernel flags do not include policy-cel-v1, so its conditions are not evaluated",
      },
    };
  const c = compileCondition(m.condition);
  if (!c.ok) return { ok: false, fault: { code: "policy.condition_error", message: c.message } };
  const r = c.condition.evaluate(s.condition);
  return r.ok ? r : { ok: false, fault: { code: "policy.condition_error", message: r.message } };
}

/** First matching rule's decision; deny when no policy or no rule matches, or a condition fails to evaluate. */
export function evaluatePolicy(policy: DefPolicy | undefined, s: PolicySubject): PolicyVerdict {
  if (!policy) return { decision: "deny", policy: null, ruleIndex: null };
  for (let i = 0; i < policy.rules.length; i++) {
    const m = matches(policy.rules[i]!.when, s);
    if (!m.ok) return { decision: "deny", policy: policy.name, ruleIndex: i, fault: m.fault };
    if (m.value) return { decision: policy.rules[i]!.decision, policy: policy.name, ruleIndex: i };
  }
  return { decision: "deny", policy: policy.name, ruleIndex: null };
}
