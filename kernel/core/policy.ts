/**
 * @module Policy evaluation: ordered rules, first match wins, no match denies. A rule
 * matches when every field it names holds for the intent (effect kind, grant, cap type,
 * origin, module, and an estimated cost above a ceiling).
 */
import type { DefPolicy, PolicyMatch } from "../../air/schemas/defs.js";

/** What a policy can see of an intent. */
export interface PolicySubject {
  effectKind: string;
  capName: string;
  capType: string;
  originKind: "workflow" | "system" | "governance";
  originName: string;
  estimatedCents: number;
}

/** The outcome of evaluating a policy. */
export interface PolicyVerdict {
  decision: "allow" | "deny" | "require_approval";
  policy: string | null;
  ruleIndex: number | null;
}

function matches(m: PolicyMatch, s: PolicySubject): boolean {
  if (m.effect_kind !== undefined && m.effect_kind !== s.effectKind) return false;
  if (m.cap_name !== undefined && m.cap_name !== s.capName) return false;
  if (m.cap_type !== undefined && m.cap_type !== s.capType) return false;
  if (m.origin_kind !== undefined && m.origin_kind !== s.originKind) return false;
  if (m.origin_name !== undefined && m.origin_name !== s.originName) return false;
  if (m.module !== undefined && (s.originKind !== "workflow" || m.module !== s.originName)) return false;
  if (m.cost_over_cents !== undefined && !(s.estimatedCents > Number(m.cost_over_cents))) return false;
  return true;
}

/** First matching rule's decision; deny when no policy or no rule matches. */
export function evaluatePolicy(policy: DefPolicy | undefined, s: PolicySubject): PolicyVerdict {
  if (!policy) return { decision: "deny", policy: null, ruleIndex: null };
  const i = policy.rules.findIndex((r) => matches(r.when, s));
  if (i < 0) return { decision: "deny", policy: policy.name, ruleIndex: null };
  return { decision: policy.rules[i]!.decision, policy: policy.name, ruleIndex: i };
}
