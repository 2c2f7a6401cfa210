/**
 * @module Pure grant check for `llm.generate` (reused by the kernel's gate). Grant params:
 * `providers?: set<text>`, `models?: set<text>`, `max_tokens?: nat` (a ceiling);
 * `null` or absent = unconstrained.
 */
import type { CborValue } from "../../../air/cbor/value.js";
import { AdapterError } from "../errors.js";
import { allowlist, nat, record, text } from "../params.js";

const KIND = "llm.generate";

/** Why an LLM call is not allowed. */
export interface LlmDenial {
  code: "invalid_params" | "provider_not_allowed" | "model_not_allowed" | "max_tokens_exceeded";
  message: string;
}

/** Checks provider, model and max_tokens against the grant; null = allowed. */
export function checkLlmAllowed(params: CborValue, grantParams: CborValue): LlmDenial | null {
  try {
    const p = record(KIND, params);
    const provider = text(KIND, p, "provider");
    const model = text(KIND, p, "model");
    const maxTokens = nat(KIND, p, "max_tokens");
    const providers = allowlist(KIND, grantParams, "providers", "string");
    const models = allowlist(KIND, grantParams, "models", "string");
    if (providers && !providers.includes(provider))
      return { code: "provider_not_allowed", message: `provider ${provider} is not in the grant's providers` };
    if (models && !models.includes(model))
      return { code: "model_not_allowed", message: `model ${model} is not in the grant's models` };
    const g = grantParams === null ? null : record(KIND, grantParams, "$grant");
    const ceiling = g && g.max_tokens !== undefined && g.max_tokens !== null ? nat(KIND, g, "max_tokens") : null;
    if (ceiling !== null && maxTokens > ceiling)
      return { code: "max_tokens_exceeded", message: `max_tokens ${maxTokens} exceeds the grant's ceiling ${ceiling}` };
    return null;
  } catch (e) {
    if (e instanceof AdapterError) return { code: "invalid_params", message: e.message };
    throw e;
  }
}
