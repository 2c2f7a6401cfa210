/**
 * @module The `llm.generate` adapter: reads the messages blob, calls the named provider
 * (`openai`-compatible or the deterministic `local` one), stores prompt and completion in
 * the CAS and reports tokens and cents. Price table: cents per million tokens, rounded up.
 */
import { CborTag, DEC128_TAG, type CborValue } from "../../../air/cbor/value.js";
import { decodeDec128, parseDecimal } from "../../../air/cbor/dec128.js";
import { encodeStored } from "../../../air/cbor/encode.js";
import { AdapterError } from "../errors.js";
import {
  failed,
  finish,
  type EffectAdapter,
  type EffectOutcome,
  type EffectRequest,
  type GrantView,
} from "../adapter.js";
import { hash, hashOut, nat, readParams, text } from "../params.js";
import { checkLlmAllowed } from "./allow.js";
import { localComplete, type Completion } from "./local-provider.js";
import { messagesValue, parseMessages, wordCount } from "./messages.js";
import { openAiComplete, type OpenAiConfig } from "./openai-provider.js";
import { NO_SECRETS, type ResolvedSecret } from "../secrets/access.js";
import { secretFailure } from "../secrets/outcome.js";
import { redactor } from "../secrets/redact.js";

/** Per-model prices in cents per million tokens. */
export interface ModelPrice {
  inputCentsPerMTok: number;
  outputCentsPerMTok: number;
}

/** Configuration of the LLM adapter (operator-supplied, never journaled). */
export interface LlmAdapterConfig {
  openai?: OpenAiConfig;
  prices?: Record<string, ModelPrice>;
}

/** Cents for a call, rounded up so a nonzero price never rounds to free. */
export function priceCents(price: ModelPrice | undefined, tokensIn: number, tokensOut: number): number {
  if (!price) return 0;
  const micro = tokensIn * price.inputCentsPerMTok + tokensOut * price.outputCentsPerMTok;
  return Math.ceil(micro / 1_000_000);
}

/** A grant's prices per 1,000 tokens as a price per million. */
function grantPrice(p: GrantView["prices"]): ModelPrice | undefined {
  if (!p) return undefined;
  return {
    inputCentsPerMTok: Number(p.input_cents_per_1k_tokens) * 1000,
    outputCentsPerMTok: Number(p.output_cents_per_1k_tokens) * 1000,
  };
}

/** Creates the `llm.generate` adapter. */
export function createLlmAdapter(config: LlmAdapterConfig = {}): EffectAdapter {
  return {
    id: "worldkernel.llm",
    version: "1.0.0",
    kinds: ["llm.generate"],
    perform: (req) => performLlm(req, config),
  };
}

async function performLlm(req: EffectRequest, config: LlmAdapterConfig): Promise<EffectOutcome> {
  const started = req.nowNs();
  const denial = checkLlmAllowed(req.params, req.grant.params);
  if (denial) return failed(req, started, denial.code, denial.message);
  const read = readParams(req.kind, req.params, (p) => ({
    provider: text(req.kind, p, "provider"),
    model: text(req.kind, p, "model"),
    messagesRef: hash(req.kind, p, "messages_ref"),
    maxTokens: nat(req.kind, p, "max_tokens"),
    temperature: readTemperature(p.temperature),
  }));
  if (!read.ok) return failed(req, started, "invalid_params", read.message);
  const { provider, model, messagesRef, maxTokens, temperature } = read.value;
  let blob: Uint8Array;
  try {
    blob = req.blobs.get(messagesRef);
  } catch (e) {
    return failed(
      req,
      started,
      "blob_not_found",
      `messages ${messagesRef} are not in the CAS: ${(e as Error).message}`,
    );
  }
  const parsed = parseMessages(blob);
  if (!parsed.ok) return failed(req, started, "invalid_messages", parsed.message);
  // The gate reserved the grant's input bound; a longer prompt would spend past the estimate.
  const bound = req.grant.prices?.max_input_tokens;
  if (bound !== undefined) {
    const words = parsed.messages.reduce((n, m) => n + wordCount(m.content), 0);
    if (words > Number(bound))
      return failed(
        req,
        started,
        "input_too_large",
        `the prompt has ${words} tokens (whitespace words, counted before the call), over the grant's max_input_tokens ${String(bound)}`,
      );
  }

  let completion: Completion;
  if (provider === "local") {
    completion = localComplete(model, parsed.messages, maxTokens);
  } else if (provider === "openai") {
    if (!config.openai)
      return failed(req, started, "provider_not_configured", "no openai base URL is configured for this kernel");
    // The grant's api_key secret, resolved now, wins over an operator key from config.
    const secretName = req.grant.secrets?.api_key;
    let key: ResolvedSecret | undefined;
    if (secretName !== undefined) {
      try {
        key = (req.secrets ?? NO_SECRETS).resolve(secretName);
      } catch (e) {
        return secretFailure(req, started, e);
      }
    }
    const operatorKey = config.openai.apiKey;
    const redact = redactor(key ? [key] : operatorKey ? [{ name: "llm_api_key", value: operatorKey }] : []);
    const r = await openAiComplete(
      key ? { ...config.openai, apiKey: key.value } : config.openai,
      { model, messages: parsed.messages, maxTokens, temperature, idempotencyKey: req.idempotencyKey },
      req.signal,
    );
    if (!r.ok) {
      const details: Record<string, CborValue> = r.httpStatus === undefined ? {} : { http_status: r.httpStatus };
      return finish(req, started, r.status, {
        ...details,
        code: r.code,
        message: redact.text(r.message),
        provider,
        model,
      });
    }
    // A provider that echoes the key back (in any encoding the redactor knows) does not get it into the CAS.
    completion = { ...r.completion, text: redact.text(r.completion.text) };
  } else {
    return failed(req, started, "unknown_provider", `provider ${JSON.stringify(provider)} is not one of local, openai`);
  }

  const promptRef = req.blobs.put(encodeStored(messagesValue(parsed.messages)));
  const outputRef = req.blobs.put(new TextEncoder().encode(completion.text));
  const payload: CborValue = {
    output_ref: hashOut(outputRef),
    prompt_ref: hashOut(promptRef),
    model,
    finish_reason: completion.finishReason,
    usage: { prompt_tokens: completion.promptTokens, completion_tokens: completion.completionTokens },
  };
  const cost = {
    tokens_in: completion.promptTokens,
    tokens_out: completion.completionTokens,
    // The operator's price table first; else the grant's declared prices, the ones the gate estimated with.
    cents: priceCents(
      config.prices?.[model] ?? grantPrice(req.grant.prices),
      completion.promptTokens,
      completion.completionTokens,
    ),
  };
  return finish(req, started, "ok", payload, cost);
}

/**
 * The temperature as a number: dec128 arrives as text ("0.7") or, from a typed value, as
 * the canonical tag-2000 decimal128 bytes; both are accepted.
 */
function readTemperature(v: CborValue | undefined): number | null {
  if (v === undefined || v === null) return null;
  let t: string | null = null;
  try {
    if (typeof v === "string") t = v;
    else if (v instanceof CborTag && v.tag === DEC128_TAG && v.value instanceof Uint8Array) t = decodeDec128(v.value);
    if (t !== null) parseDecimal(t);
  } catch (e) {
    throw new AdapterError("adapter.invalid_params", "llm.generate", `temperature is not a decimal`, "$.temperature", {
      cause: e,
    });
  }
  if (t === null)
    throw new AdapterError(
      "adapter.invalid_params",
      "llm.generate",
      "temperature must be a dec128 (text or tag 2000)",
      "$.temperature",
    );
  return Number(t);
}
