/**
 * @module Chat messages for `llm.generate`: read from a CAS blob holding either stored or
 * canonical CBOR, or JSON, of a list of `{role, content}`; normalized and re-stored as
 * canonical CBOR so the receipt's `prompt_ref` names one exact byte string.
 */
import { decodeCanonical, decodeStored } from "../../../air/cbor/decode.js";
import { isCborObject, type CborValue } from "../../../air/cbor/value.js";

/** One chat message. */
export interface ChatMessage {
  role: "system" | "user" | "assistant" | "tool";
  content: string;
}

const ROLES = new Set(["system", "user", "assistant", "tool"]);

/** Parses a messages blob; returns an error text instead of throwing on bad input. */
export function parseMessages(
  bytes: Uint8Array,
): { ok: true; messages: ChatMessage[] } | { ok: false; message: string } {
  let v: unknown;
  const attempts: (() => unknown)[] = [
    () => decodeStored(bytes),
    () => decodeCanonical(bytes),
    () => JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes)),
  ];
  for (const a of attempts) {
    try {
      v = a();
      break;
    } catch {
      v = undefined;
    }
  }
  if (!Array.isArray(v)) return { ok: false, message: "messages blob is not a CBOR or JSON list" };
  const messages: ChatMessage[] = [];
  for (const [i, m] of v.entries()) {
    const rec = isCborObject(m) ? m : null;
    if (!rec || typeof rec.role !== "string" || typeof rec.content !== "string" || !ROLES.has(rec.role)) {
      return { ok: false, message: `message ${i} is not {role: system|user|assistant|tool, content: text}` };
    }
    messages.push({ role: rec.role as ChatMessage["role"], content: rec.content });
  }
  if (messages.length === 0) return { ok: false, message: "messages list is empty" };
  return { ok: true, messages };
}

/** The canonical CBOR value of a message list (what `prompt_ref` hashes). */
export function messagesValue(messages: readonly ChatMessage[]): CborValue {
  return messages.map((m) => ({ role: m.role, content: m.content }));
}

/** Whitespace word count: the local provider's (and fallback) token measure. */
export function wordCount(s: string): number {
  const t = s.trim();
  return t === "" ? 0 : t.split(/\s+/).length;
}
