/**
 * @module Request bodies, checked before anything is journaled: size, UTF-8, JSON, shape.
 * Every refusal is `http.bad_body` (or the JSON layer's `air.invalid_json` /
 * `air.invalid_unicode`) naming the place: `$.value.by`, or `line 3: $.schema` in NDJSON.
 */
import { z } from "zod";
import { parseJsonLossless } from "../../air/json.js";
import { HttpError } from "./errors.js";

/** The largest body accepted (bytes): an NDJSON batch of many events. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * The largest one event may be as sent (its JSON, bytes). An event is journaled whole and read
 * by every replay, so bulky data belongs in a blob the event names by hash; one body of 16 MiB
 * would otherwise be one 16 MiB journal entry.
 */
export const MAX_EVENT_BYTES = 1024 * 1024;

/** Refuses one event's JSON past MAX_EVENT_BYTES (413), naming the NDJSON line when there is one. */
export function checkEventSize(bytes: Uint8Array, where = ""): void {
  if (bytes.length > MAX_EVENT_BYTES)
    throw new HttpError(
      413,
      "http.event_too_large",
      `${where}an event of ${bytes.length} bytes is larger than ${MAX_EVENT_BYTES}: put bulky data in a blob and send its hash`,
      { path: `${where}$` },
    );
}

/** One event as a client sends it. */
export const EventRequestSchema = z.strictObject({
  schema: z.string().min(1),
  value: z.unknown(),
  idempotency_key: z.string().min(1).max(512).optional(),
});
export type EventRequest = z.infer<typeof EventRequestSchema>;

const pathOf = (path: readonly PropertyKey[]): string =>
  ["$", ...path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`))].join("");

/** Parses `bytes` as one JSON value checked by `schema`; `where` prefixes the place (an NDJSON line). */
export function parseBody<T>(bytes: Uint8Array, schema: z.ZodType<T>, where = ""): T {
  let json: unknown;
  try {
    json = parseJsonLossless(bytes);
  } catch (e) {
    const err = e as { code: string; message: string; path?: string };
    throw new HttpError(400, err.code, `${where}${err.message}`, { path: `${where}${err.path ?? "$"}` });
  }
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const i = r.error.issues[0]!;
  throw new HttpError(400, "http.bad_body", `${where}${i.message} at ${pathOf(i.path)}`, {
    path: `${where}${pathOf(i.path)}`,
  });
}

/** Splits an NDJSON body into its non-blank lines with their 1-based numbers. */
export function ndjsonLines(bytes: Uint8Array): { line: number; bytes: Uint8Array }[] {
  const out: { line: number; bytes: Uint8Array }[] = [];
  let start = 0;
  let line = 1;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x0a) continue;
    const piece = bytes.subarray(start, i > start && bytes[i - 1] === 0x0d ? i - 1 : i);
    if (piece.some((b) => b !== 0x20 && b !== 0x09)) out.push({ line, bytes: piece });
    start = i + 1;
    line++;
  }
  return out;
}

/** Reads a request body, refusing one larger than the limit (413) before it is all in memory. */
export async function readBody(req: Request): Promise<Uint8Array> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return discardThenRefuse(req);
  // A declared length within the limit: @hono/node-server reads it without building a web
  // stream (measured: the stream costs a few tenths of a ms per request). Node's HTTP parser
  // holds the body to the declared length, so it cannot grow past the limit.
  if (req.headers.has("content-length")) return new Uint8Array(await req.arrayBuffer());
  if (req.body === null) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    // Past the limit: keep reading (and dropping) a while, as discardThenRefuse does.
    if (size > DISCARD_BYTES) break;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk);
  }
  if (size > MAX_BODY_BYTES) throw tooLarge();
  return Buffer.concat(chunks);
}

/** How much of a refused body is read and dropped before the 413, so the client, still sending, gets to read it. */
const DISCARD_BYTES = 4 * MAX_BODY_BYTES;

/**
 * Reads the rest of a too-large body and drops it (up to DISCARD_BYTES), then refuses it: a
 * client still uploading when the server answers and closes would see the connection reset,
 * not the 413 (the lingering close of RFC 9112 §9.6).
 */
async function discardThenRefuse(req: Request): Promise<never> {
  let size = 0;
  if (req.body !== null)
    for await (const chunk of req.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > DISCARD_BYTES) break;
    }
  throw tooLarge();
}

const tooLarge = () =>
  new HttpError(413, "http.body_too_large", `the body is larger than ${MAX_BODY_BYTES} bytes; split it into requests`);
