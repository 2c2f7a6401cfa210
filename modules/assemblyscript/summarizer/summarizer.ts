/**
 * @module The summarizer workflow (worlds/summarizer, demo/Summarizer@1, keyed by `key`):
 * fetch a page, store the request's AssemblyScript source and compile it, summarize the
 * page with an LLM. It naively obeys `FETCH: <url>` lines in the page (prompt injection
 * showcase) — the gate, not the module, stops them. Every receipt lands in state; an
 * error, timeout or denial is recorded, never trapped on.
 *
 * The one blob a step reads (the page, or the completion) is read by `step` itself before
 * the workflow logic runs, with the host call in `step`'s own body: the kernel's metering
 * re-arms fuel on every host call and that also zeroes its call-depth counter, so a host
 * call made below `step` would trap at the next function entry (see the world's README).
 *
 * Receipts carry no request id the module could predict, so effects of one kind are
 * never in flight twice at once: follow-up fetches go one by one after the main page, and
 * the prompt blob.put waits until the source blob.put has settled.
 */
import { Host, Memory } from "@extism/as-pdk";
import { ABI_VERSION, Cbor, Effect, Event, Kind, StepResult } from "../sdk/index";
import { blob_get, block_length, hashText } from "../sdk/host";

const RECEIPT = "sys/EffectReceiptEnvelope@1";
const SYSTEM_PROMPT = "Summarize the page in one sentence.";
const MAX_FOLLOWUPS = 4;

/** The cell state (demo/SummarizerState@1); refs are `sha256:<hex>` text. */
class S {
  phase: string = "fetching";
  url: string = "";
  page_status: string = "pending";
  page_ref: string | null = null;
  src_status: string = "pending";
  src_ref: string | null = null;
  prompt_status: string = "none";
  messages_ref: string | null = null;
  summary_ref: string | null = null;
  summary: string | null = null;
  wasm_ref: string | null = null;
  compile_status: string | null = null;
  fetch_queue: Array<string> = [];
  fetch_inflight: string | null = null;
  fetched: Array<string> = [];
  denied: Array<string> = [];
  errors: Array<string> = [];

  static from(c: Cbor): S {
    const s = new S();
    s.phase = c.get("phase")!.asText();
    s.url = c.get("url")!.asText();
    s.page_status = c.get("page_status")!.asText();
    s.page_ref = c.get("page_ref")!.asTextOrNull();
    s.src_status = c.get("src_status")!.asText();
    s.src_ref = c.get("src_ref")!.asTextOrNull();
    s.prompt_status = c.get("prompt_status")!.asText();
    s.messages_ref = c.get("messages_ref")!.asTextOrNull();
    s.summary_ref = c.get("summary_ref")!.asTextOrNull();
    s.summary = c.get("summary")!.asTextOrNull();
    s.wasm_ref = c.get("wasm_ref")!.asTextOrNull();
    s.compile_status = c.get("compile_status")!.asTextOrNull();
    s.fetch_queue = texts(c.get("fetch_queue")!);
    s.fetch_inflight = c.get("fetch_inflight")!.asTextOrNull();
    s.fetched = texts(c.get("fetched")!);
    s.denied = texts(c.get("denied")!);
    s.errors = texts(c.get("errors")!);
    return s;
  }

  toCbor(): Cbor {
    return Cbor.map()
      .set("phase", Cbor.text(this.phase)).set("url", Cbor.text(this.url))
      .set("page_status", Cbor.text(this.page_status)).set("page_ref", Cbor.textOrNull(this.page_ref))
      .set("src_status", Cbor.text(this.src_status)).set("src_ref", Cbor.textOrNull(this.src_ref))
      .set("prompt_status", Cbor.text(this.prompt_status)).set("messages_ref", Cbor.textOrNull(this.messages_ref))
      .set("summary_ref", Cbor.textOrNull(this.summary_ref)).set("summary", Cbor.textOrNull(this.summary))
      .set("wasm_ref", Cbor.textOrNull(this.wasm_ref)).set("compile_status", Cbor.textOrNull(this.compile_status))
      .set("fetch_queue", textList(this.fetch_queue)).set("fetch_inflight", Cbor.textOrNull(this.fetch_inflight))
      .set("fetched", textList(this.fetched)).set("denied", textList(this.denied)).set("errors", textList(this.errors));
  }
}

function texts(c: Cbor): Array<string> {
  const out = new Array<string>();
  for (let i = 0; i < c.items.length; i++) out.push(c.items[i].asText());
  return out;
}

function textList(a: Array<string>): Cbor {
  const c = Cbor.array();
  for (let i = 0; i < a.length; i++) c.push(Cbor.text(a[i]));
  return c;
}

function httpGet(url: string): Effect {
  const params = Cbor.map().set("method", Cbor.text("GET")).set("url", Cbor.text(url)).set("headers", Cbor.map()).set("body_ref", Cbor.nil());
  return new Effect("http.request", params, "net");
}

function blobPut(namespace: string, bytes: Uint8Array): Effect {
  return new Effect("blob.put", Cbor.map().set("namespace", Cbor.text(namespace)).set("bytes", Cbor.bytesOf(bytes)), "store");
}

function utf8(s: string): Uint8Array {
  return Uint8Array.wrap(String.UTF8.encode(s));
}

/** The `FETCH: <url>` lines of a page, in order (the injection the naive module obeys). */
function fetchLines(page: string): Array<string> {
  const out = new Array<string>();
  const lines = page.split("\n");
  for (let i = 0; i < lines.length && out.length < MAX_FOLLOWUPS; i++) {
    const line = lines[i].trim();
    if (line.startsWith("FETCH:")) {
      const url = line.substring(6).trim();
      if (url.length > 0) out.push(url);
    }
  }
  return out;
}

/** A 32-byte hash field of a receipt payload as text, or null when absent/null. */
function refOf(payload: Cbor, field: string): string | null {
  const v = payload.get(field);
  if (v === null || v.kind != Kind.Bytes) return null;
  return hashText(v.bytes);
}

/** One line describing a failed receipt: `<kind> <status>: <code>: <message or reason>`. */
function failure(kind: string, status: string, payload: Cbor): string {
  let s = kind + " " + status;
  const code = payload.get("code");
  if (code !== null && code.kind == Kind.Text) s += ": " + code.text;
  let why = payload.get("message");
  if (why === null) why = payload.get("reason");
  if (why !== null && why.kind == Kind.Text) s += ": " + why.text;
  return s;
}

/** Starts the prompt blob.put: the system instruction plus the page as the user message. */
function putPrompt(s: S, r: StepResult): void {
  const page = blobText;
  const messages = Cbor.array()
    .push(Cbor.map().set("role", Cbor.text("system")).set("content", Cbor.text(SYSTEM_PROMPT)))
    .push(Cbor.map().set("role", Cbor.text("user")).set("content", Cbor.text(page)));
  const e = blobPut("prompts", messages.encode());
  r.effect(e);
  s.prompt_status = "pending";
}

/** Sends the next queued follow-up fetch, if none is in flight. */
function nextFollowup(s: S, r: StepResult): void {
  if (s.fetch_inflight !== null || s.fetch_queue.length == 0) return;
  const url = s.fetch_queue.shift();
  s.fetch_inflight = url;
  r.effect(httpGet(url));
}

function onHttp(s: S, status: string, payload: Cbor, r: StepResult): void {
  if (s.page_status == "pending") {
    s.page_status = status;
    if (status != "ok") {
      if (status == "denied") s.denied.push(s.url);
      s.errors.push(failure("http.request", status, payload));
      s.phase = "failed";
      return;
    }
    const code = payload.get("status")!;
    s.page_ref = refOf(payload, "body_ref");
    if (code.kind != Kind.Uint || code.num >= 400 || s.page_ref === null) {
      s.errors.push("http.request ok: page answered HTTP " + (code.kind == Kind.Uint ? code.num.toString() : "?") + " or had no body");
      s.phase = "failed";
      return;
    }
    s.phase = "summarizing";
    s.fetch_queue = fetchLines(blobText);
    nextFollowup(s, r);
    if (s.src_status == "pending") s.prompt_status = "waiting";
    else putPrompt(s, r);
    return;
  }
  // A follow-up fetch: exactly one is ever in flight.
  const url = s.fetch_inflight;
  s.fetch_inflight = null;
  if (url !== null) {
    if (status == "ok") s.fetched.push(url);
    else if (status == "denied") s.denied.push(url);
    if (status != "ok") s.errors.push(failure("http.request", status, payload) + " (" + url + ")");
  }
  nextFollowup(s, r);
}

function onBlob(s: S, status: string, payload: Cbor, r: StepResult): void {
  if (s.src_status == "pending") {
    s.src_status = status;
    if (status == "ok") {
      s.src_ref = refOf(payload, "blob_ref");
      const params = Cbor.map().set("language", Cbor.text("assemblyscript")).set("source_ref", payload.get("blob_ref")!);
      r.effect(new Effect("compile.module", params, "build"));
      s.compile_status = "pending";
    } else {
      s.errors.push(failure("blob.put", status, payload) + " (source)");
    }
    if (s.prompt_status == "waiting") putPrompt(s, r);
    return;
  }
  if (s.prompt_status != "pending") return;
  s.prompt_status = status;
  if (status != "ok") {
    s.errors.push(failure("blob.put", status, payload) + " (prompt)");
    s.phase = "failed";
    return;
  }
  s.messages_ref = refOf(payload, "blob_ref");
  const params = Cbor.map()
    .set("provider", Cbor.text("local")).set("model", Cbor.text("local-summary"))
    .set("messages_ref", payload.get("blob_ref")!).set("max_tokens", Cbor.uint(64)).set("temperature", Cbor.nil());
  r.effect(new Effect("llm.generate", params, "llm"));
}

function onLlm(s: S, status: string, payload: Cbor): void {
  if (status != "ok") {
    s.errors.push(failure("llm.generate", status, payload));
    s.phase = "failed";
    return;
  }
  s.summary_ref = refOf(payload, "output_ref");
  if (s.summary_ref !== null) s.summary = blobText;
  s.phase = "done";
}

function onCompile(s: S, status: string, payload: Cbor): void {
  s.compile_status = status;
  if (status == "ok") s.wasm_ref = refOf(payload, "wasm_ref");
  else s.errors.push(failure("compile.module", status, payload));
}

/** The blob this step will read, if any: the page or the completion a receipt points at. */
function blobNeeded(state: Cbor | null, event: Event): string | null {
  if (event.schema != RECEIPT || state === null) return null;
  const kind = event.value.get("effect_kind")!.asText();
  const ok = event.value.get("status")!.asText() == "ok";
  const payload = Cbor.decode(event.value.get("payload")!.asBytes());
  if (kind == "http.request" && ok && state.get("page_status")!.asText() == "pending") return refOf(payload, "body_ref");
  if (kind == "llm.generate" && ok) return refOf(payload, "output_ref");
  if (kind == "blob.put" && state.get("src_status")!.asText() == "pending" && state.get("prompt_status")!.asText() == "waiting") {
    return state.get("page_ref")!.asTextOrNull();
  }
  return null;
}

/** The text of the blob `blobNeeded` named (empty when none). */
let blobText: string = "";

function summarizer(state: Cbor | null, event: Event): StepResult {
  if (event.schema != RECEIPT) {
    // A request (re)starts the cell.
    const s = new S();
    s.url = event.value.get("url")!.asText();
    const r = new StepResult(Cbor.nil());
    r.effect(httpGet(s.url));
    r.effect(blobPut("src", utf8(event.value.get("source")!.asText())));
    r.state = s.toCbor();
    return r;
  }
  // A receipt for a cell that was never started (cannot happen by routing): keep nothing.
  if (state === null) return new StepResult(Cbor.nil());
  const s = S.from(state);
  const r = new StepResult(Cbor.nil());
  const kind = event.value.get("effect_kind")!.asText();
  const status = event.value.get("status")!.asText();
  const payload = Cbor.decode(event.value.get("payload")!.asBytes());
  if (kind == "http.request") onHttp(s, status, payload, r);
  else if (kind == "blob.put") onBlob(s, status, payload, r);
  else if (kind == "llm.generate") onLlm(s, status, payload);
  else if (kind == "compile.module") onCompile(s, status, payload);
  else s.errors.push("unexpected receipt for " + kind);
  r.state = s.toCbor();
  return r;
}

export function step(): i32 {
  const env = Cbor.decode(Host.input());
  assert(env.get("version")!.asU64() == ABI_VERSION, "envelope: unsupported ABI version");
  const e = env.get("event")!;
  const st = env.get("state")!;
  const event = new Event(e.get("schema")!.asText(), e.get("value")!, e.get("key")!.asTextOrNull());
  let state: Cbor | null = null;
  if (!st.isNull()) state = st;
  const ref = blobNeeded(state, event);
  blobText = "";
  if (ref !== null) {
    // Here, in step's own frame, on purpose (see the module comment).
    const input = Memory.allocateString(ref);
    const out = blob_get(input.offset);
    blobText = String.UTF8.decode(new Memory(out, block_length(out)).toUint8Array().buffer);
  }
  Host.output(summarizer(state, event).toCbor().encode());
  return 0;
}
