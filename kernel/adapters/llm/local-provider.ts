/**
 * @module The deterministic local LLM provider for demos and tests: the completion is a
 * pure function of (model, messages, max_tokens) — an extractive summary of the last user
 * message — and tokens are whitespace words, so replays and CI never depend on a network.
 */
import { wordCount, type ChatMessage } from "./messages.js";

/** A provider-neutral completion result. */
export interface Completion {
  text: string;
  finishReason: "stop" | "length";
  promptTokens: number;
  completionTokens: number;
}

/**
 * Completes deterministically: `"<model>:"` followed by the leading sentences of the last
 * user message, cut to `maxTokens` words in total (`finish_reason` is `length` if cut).
 */
export function localComplete(model: string, messages: readonly ChatMessage[], maxTokens: number): Completion {
  const promptTokens = messages.reduce((n, m) => n + wordCount(m.content), 0);
  const lastUser = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const prefix = `${model.replace(/\s+/g, "_")}:`;
  const sentences = lastUser
    .trim()
    .split(/(?<=[.!?])\s+/)
    .filter((s) => s !== "");
  const words: string[] = [prefix];
  let cut = false;
  for (const s of sentences) {
    const w = s.split(/\s+/);
    if (words.length + w.length > maxTokens) {
      // Always show something of the first sentence, even when it alone is too long.
      if (words.length === 1) words.push(...w.slice(0, Math.max(0, maxTokens - 1)));
      cut = true;
      break;
    }
    words.push(...w);
  }
  const out = words.slice(0, Math.max(0, maxTokens));
  if (out.length < words.length) cut = true;
  const text = out.join(" ");
  return { text, finishReason: cut ? "length" : "stop", promptTokens, completionTokens: wordCount(text) };
}
