/**
 * @module A tool's result as a receipt records it: the `CallToolResult` the server sent
 * (`content`, `structuredContent`, `isError`, …) as canonical CBOR, redacted of the call's
 * secrets first. A small result sits in the receipt (`result`); a larger one goes to the CAS
 * (`result_ref`), as an HTTP body does; one past the limit is refused (`result_too_large`).
 */
import { encodeCanonical } from "../../../air/cbor/encode.js";
import { jsonToCbor } from "../../../air/json.js";
import type { BlobAccess } from "../adapter.js";
import { hashOut } from "../params.js";
import type { Redactor } from "../secrets/redact.js";

/** The receipt fields of a stored result, or why it cannot be recorded. */
export type StoredResult =
  | { ok: true; fields: { result: Uint8Array | null; result_ref: Uint8Array | null; result_size: number } }
  | { ok: false; code: "result_too_large" | "protocol_error"; message: string };

/** Size limits of a result (bytes of its canonical CBOR). */
export interface ResultLimits {
  /** Largest result kept inline in the receipt. */
  inlineBytes: number;
  /** Largest result recorded at all. */
  maxBytes: number;
}

/** Encodes, redacts and stores a tool result. */
export function storeResult(result: unknown, redact: Redactor, blobs: BlobAccess, limits: ResultLimits): StoredResult {
  let bytes: Uint8Array;
  try {
    bytes = encodeCanonical(redact.value(jsonToCbor(exactIntegers(result))));
  } catch (e) {
    return { ok: false, code: "protocol_error", message: `the result has no canonical form: ${(e as Error).message}` };
  }
  if (bytes.length > limits.maxBytes)
    return {
      ok: false,
      code: "result_too_large",
      message: `the result is ${bytes.length} bytes of CBOR; the limit is ${limits.maxBytes}`,
    };
  const inline = bytes.length <= limits.inlineBytes;
  return {
    ok: true,
    fields: {
      result: inline ? bytes : null,
      result_ref: inline ? null : hashOut(blobs.put(bytes)),
      result_size: bytes.length,
    },
  };
}

/** JSON integers past 2^53 (which JSON.parse gives as doubles) as bigints, so they encode as the integers they read as. */
function exactIntegers(v: unknown): unknown {
  if (typeof v === "number") return Number.isInteger(v) && !Number.isSafeInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(exactIntegers);
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, exactIntegers(x)]));
  return v;
}

/** A short, redacted text of a failed tool's first text content, for the error message. */
export function toolErrorText(result: unknown, redact: Redactor): string {
  const content = (result as { content?: unknown }).content;
  const first = Array.isArray(content)
    ? (content as { type?: unknown; text?: unknown }[]).find((c) => c?.type === "text" && typeof c.text === "string")
    : undefined;
  const text = typeof first?.text === "string" ? first.text : "the tool reported an error";
  return clip(redact.text(text));
}

/**
 * A server-supplied text as a receipt may hold it: cut to 500 code points, and each lone
 * surrogate (JSON can carry one; UTF-8 cannot) replaced by U+FFFD.
 */
export function clip(s: string): string {
  const well = s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, "\ufffd");
  const points = [...well];
  return points.length > 500 ? `${points.slice(0, 499).join("")}…` : well;
}
