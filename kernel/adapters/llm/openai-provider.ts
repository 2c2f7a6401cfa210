/**
 * @module OpenAI-compatible chat completions client (`POST {baseUrl}/chat/completions`).
 * Works against any such server, including our local one. The API key goes only into the
 * Authorization header: it is scrubbed from every error text that could reach a receipt.
 */
import { wordCount, type ChatMessage } from "./messages.js";
import type { Completion } from "./local-provider.js";

/** Where the provider lives and how to authenticate. */
export interface OpenAiConfig {
  baseUrl: string;
  apiKey?: string;
  timeoutMs?: number;
}

/** A completion request in provider-neutral terms. */
export interface CompletionRequest {
  model: string;
  messages: readonly ChatMessage[];
  maxTokens: number;
  temperature: number | null;
  idempotencyKey: string;
}

/** Outcome of a provider call: a completion or a classified failure. */
export type ProviderResult =
  | { ok: true; completion: Completion }
  | { ok: false; status: "error" | "timeout"; code: string; message: string; httpStatus?: number };

const MAX_RESPONSE_BYTES = 8 << 20;

/** The body as text, or null past `max` bytes (the stream is cancelled there). */
async function readCapped(res: Response, max: number): Promise<string | null> {
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += c.length;
    if (size > max) {
      await res.body.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Calls the chat completions endpoint and maps its answer to a `Completion`. */
export async function openAiComplete(
  cfg: OpenAiConfig,
  r: CompletionRequest,
  signal: AbortSignal,
): Promise<ProviderResult> {
  const timeoutMs = cfg.timeoutMs ?? 60_000;
  const deadline = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  const scrub = (s: string) => (cfg.apiKey ? s.split(cfg.apiKey).join("[redacted]") : s).slice(0, 500);
  const body: Record<string, unknown> = { model: r.model, messages: r.messages, max_tokens: r.maxTokens };
  if (r.temperature !== null) body.temperature = r.temperature;
  const headers: Record<string, string> = { "content-type": "application/json", "idempotency-key": r.idempotencyKey };
  if (cfg.apiKey) headers.authorization = `Bearer ${cfg.apiKey}`;
  try {
    const res = await fetch(`${cfg.baseUrl.replace(/\/+$/, "")}/chat/completions`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
      signal: deadline,
    });
    const raw = await readCapped(res, MAX_RESPONSE_BYTES);
    if (raw === null)
      return {
        ok: false,
        status: "error",
        code: "response_too_large",
        message: `provider response exceeds ${MAX_RESPONSE_BYTES} bytes`,
      };
    if (!res.ok)
      return {
        ok: false,
        status: "error",
        code: "provider_error",
        message: scrub(`HTTP ${res.status}: ${raw}`),
        httpStatus: res.status,
      };
    const j = JSON.parse(raw) as {
      choices?: { message?: { content?: unknown }; finish_reason?: unknown }[];
      usage?: { prompt_tokens?: unknown; completion_tokens?: unknown };
    };
    const choice = j.choices?.[0];
    const text = choice?.message?.content;
    if (typeof text !== "string")
      return {
        ok: false,
        status: "error",
        code: "bad_provider_response",
        message: "no choices[0].message.content in the response",
      };
    const nat = (v: unknown, fallback: number) =>
      typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : fallback;
    const promptFallback = r.messages.reduce((n, m) => n + wordCount(m.content), 0);
    return {
      ok: true,
      completion: {
        text,
        finishReason: choice?.finish_reason === "length" ? "length" : "stop",
        promptTokens: nat(j.usage?.prompt_tokens, promptFallback),
        completionTokens: nat(j.usage?.completion_tokens, wordCount(text)),
      },
    };
  } catch (e) {
    if (deadline.aborted && !signal.aborted)
      return { ok: false, status: "timeout", code: "timeout", message: `no response within ${timeoutMs} ms` };
    if (signal.aborted)
      return { ok: false, status: "error", code: "aborted", message: "the kernel cancelled the request" };
    const cause = (e as { cause?: { message?: string } }).cause?.message;
    return {
      ok: false,
      status: "error",
      code: "connection_failed",
      message: scrub(`${(e as Error).message}${cause ? `: ${cause}` : ""}`),
    };
  }
}
