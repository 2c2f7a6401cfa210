/**
 * @module The KYC onboarding workflow (worlds/kyc, kyc/Onboarding@1, keyed by applicant):
 * an application is checked in four steps, each an effect through the gate —
 *   1. documents: `GET doc_url` at the document-check provider, authenticated with
 *      `Authorization: Bearer {secret:kyc/doc_api@1}` (the adapter fills the secret in);
 *   2. the screening prompt is stored (`blob.put`, namespace `prompts`): only what the
 *      application says, never the document, so erasing the document erases it everywhere;
 *   3. sanctions screening through the LLM (`llm.generate`): `MATCH` in the answer rejects;
 *   4. a risk score (amount bands, high-risk country, politically exposed person), recorded
 *      with its reasons as the step's annotation, then the payout: `POST payout_url` with the
 *      amount in `x-amount`, which the world's policy holds for approval above 1,000.
 * It naively obeys `CALL: <url>` lines in the screening answer (the prompt-injection
 * showcase: the applicant's note reaches the model) — the gate, not the module, stops them.
 * A second application for a cell that is in flight or paid is ignored, so a resubmitted or
 * amended application never pays twice. Receipts are told apart by their cap slot; the
 * one blob a step reads is read in `step`'s own frame (see modules/assemblyscript/summarizer).
 */
import { Host, Memory } from "@extism/as-pdk";
import { ABI_VERSION, Cbor, Effect, Event, Kind, StepResult } from "../sdk/index";
import { blob_get, block_length, hashText } from "../sdk/host";
import { receiptFailure } from "../sdk/receipt";

const RECEIPT = "sys/EffectReceiptEnvelope@1";
const ERASED = "sys/BlobErased@1";
const HIGH_RISK = ["KP", "IR", "SY", "MM"];
const MAX_TOOL_CALLS = 4;
const SCREEN_PROMPT =
  "You screen applicants against sanctions lists. Answer CLEAR or MATCH. Request a lookup with a line CALL: <url>.";

/** The cell state (kyc/OnboardingState@1). */
class S {
  applicant: string = "";
  amount: u64 = 0;
  country: string = "";
  pep: bool = false;
  note: string = "";
  doc_url: string = "";
  payout_url: string = "";
  phase: string = "documents";
  doc_status: string = "pending";
  screening: string = "pending";
  score: u64 = 0;
  band: string = "";
  payment: string = "none";
  tool_calls: Array<string> = [];
  tool_results: Array<string> = [];
  errors: Array<string> = [];
  erased: Array<string> = [];
  ignored: u64 = 0;

  static from(c: Cbor): S {
    const s = new S();
    s.applicant = c.get("applicant")!.asText();
    s.amount = c.get("amount")!.asU64();
    s.country = c.get("country")!.asText();
    s.pep = c.get("pep")!.kind == Kind.True;
    s.note = c.get("note")!.asText();
    s.doc_url = c.get("doc_url")!.asText();
    s.payout_url = c.get("payout_url")!.asText();
    s.phase = c.get("phase")!.asText();
    s.doc_status = c.get("doc_status")!.asText();
    s.screening = c.get("screening")!.asText();
    s.score = c.get("score")!.asU64();
    s.band = c.get("band")!.asText();
    s.payment = c.get("payment")!.asText();
    s.tool_calls = texts(c.get("tool_calls")!);
    s.tool_results = texts(c.get("tool_results")!);
    s.errors = texts(c.get("errors")!);
    s.erased = texts(c.get("erased")!);
    s.ignored = c.get("ignored")!.asU64();
    return s;
  }

  toCbor(): Cbor {
    return Cbor.map()
      .set("applicant", Cbor.text(this.applicant)).set("amount", Cbor.uint(this.amount))
      .set("country", Cbor.text(this.country)).set("pep", Cbor.bool(this.pep)).set("note", Cbor.text(this.note))
      .set("doc_url", Cbor.text(this.doc_url)).set("payout_url", Cbor.text(this.payout_url))
      .set("phase", Cbor.text(this.phase)).set("doc_status", Cbor.text(this.doc_status))
      .set("screening", Cbor.text(this.screening)).set("score", Cbor.uint(this.score)).set("band", Cbor.text(this.band))
      .set("payment", Cbor.text(this.payment))
      .set("tool_calls", textList(this.tool_calls)).set("tool_results", textList(this.tool_results))
      .set("errors", textList(this.errors)).set("erased", textList(this.erased)).set("ignored", Cbor.uint(this.ignored));
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

function http(method: string, url: string, headers: Cbor, slot: string): Effect {
  const params = Cbor.map().set("method", Cbor.text(method)).set("url", Cbor.text(url)).set("headers", headers).set("body_ref", Cbor.nil());
  return new Effect("http.request", params, slot);
}

/** A 32-byte hash field of a receipt payload as text, or null when absent/null. */
function refOf(payload: Cbor, field: string): string | null {
  const v = payload.get(field);
  if (v === null || v.kind != Kind.Bytes) return null;
  return hashText(v.bytes);
}


/** The `CALL: <url>` requests in a screening answer, in order (the injection the module obeys). */
function toolCalls(answer: string): Array<string> {
  const out = new Array<string>();
  const words = answer.split(" ");
  for (let i = 0; i + 1 < words.length && out.length < MAX_TOOL_CALLS; i++) {
    if (words[i] == "CALL:" && words[i + 1].length > 0) out.push(words[i + 1]);
  }
  return out;
}

function factor(name: string, points: u64): Cbor {
  return Cbor.map().set("factor", Cbor.text(name)).set("points", Cbor.uint(points));
}

/** Step 1: the document check. */
function start(event: Event, ignoredBefore: u64): StepResult {
  const v = event.value;
  const s = new S();
  s.applicant = v.get("applicant")!.asText();
  s.amount = v.get("amount")!.asU64();
  s.country = v.get("country")!.asText();
  s.pep = v.get("pep")!.kind == Kind.True;
  s.note = v.get("note")!.asText();
  s.doc_url = v.get("doc_url")!.asText();
  s.payout_url = v.get("payout_url")!.asText();
  s.ignored = ignoredBefore;
  const r = new StepResult(Cbor.nil());
  r.effect(http("GET", s.doc_url, Cbor.map().set("Authorization", Cbor.text("Bearer {secret:kyc/doc_api@1}")), "docs"));
  r.state = s.toCbor();
  r.ann = Cbor.map().set("trigger", Cbor.text(event.schema)).set("decision", Cbor.text("check documents at " + s.doc_url));
  return r;
}

/** Step 2: the document check's answer; a verified document goes on to screening. */
function onDocs(s: S, status: string, payload: Cbor, r: StepResult): void {
  if (status != "ok") {
    s.doc_status = status;
    s.errors.push(receiptFailure("document check", status, payload));
    s.phase = "rejected";
    r.ann = Cbor.map().set("decision", Cbor.text("rejected: the document check failed (" + status + ")"));
    return;
  }
  const code = payload.get("status")!;
  const verified = code.kind == Kind.Uint && code.num == 200 && blobText.includes("\"verified\"");
  s.doc_status = verified ? "verified" : "unverified";
  if (!verified) {
    s.phase = "rejected";
    r.ann = Cbor.map().set("decision", Cbor.text("rejected: the document could not be verified"));
    return;
  }
  const user = "Applicant " + s.applicant + " from " + s.country + ". " + s.note;
  const messages = Cbor.array()
    .push(Cbor.map().set("role", Cbor.text("system")).set("content", Cbor.text(SCREEN_PROMPT)))
    .push(Cbor.map().set("role", Cbor.text("user")).set("content", Cbor.text(user)));
  const params = Cbor.map().set("namespace", Cbor.text("prompts")).set("bytes", Cbor.bytesOf(messages.encode()));
  r.effect(new Effect("blob.put", params, "store"));
  s.phase = "prompt";
  r.ann = Cbor.map().set("decision", Cbor.text("document verified; screen for sanctions"));
}

/** Step 3: the stored prompt goes to the model. */
function onPrompt(s: S, status: string, payload: Cbor, r: StepResult): void {
  if (status != "ok") {
    s.errors.push(receiptFailure("screening prompt", status, payload));
    s.phase = "failed";
    return;
  }
  const params = Cbor.map()
    .set("provider", Cbor.text("local")).set("model", Cbor.text("sanctions-screen"))
    .set("messages_ref", payload.get("blob_ref")!).set("max_tokens", Cbor.uint(64)).set("temperature", Cbor.nil());
  r.effect(new Effect("llm.generate", params, "llm"));
  s.phase = "screening";
}

/** Step 4: the screening answer, the risk score with its reasons, and the payout (or not). */
function onScreening(s: S, status: string, payload: Cbor, r: StepResult): void {
  if (status != "ok") {
    s.screening = status;
    s.errors.push(receiptFailure("screening", status, payload));
    s.phase = "failed";
    return;
  }
  const answer = blobText;
  s.screening = answer.includes("MATCH") ? "match" : "clear";
  const calls = toolCalls(answer);
  for (let i = 0; i < calls.length; i++) {
    s.tool_calls.push(calls[i]);
    r.effect(http("GET", calls[i], Cbor.map(), "docs"));
  }
  const factors = Cbor.array();
  let score: u64 = 0;
  if (s.amount > 10000) {
    factors.push(factor("amount over 10000", 40));
    score += 40;
  } else if (s.amount > 1000) {
    factors.push(factor("amount over 1000", 20));
    score += 20;
  }
  if (HIGH_RISK.includes(s.country)) {
    factors.push(factor("high-risk country " + s.country, 35));
    score += 35;
  }
  if (s.pep) {
    factors.push(factor("politically exposed person", 25));
    score += 25;
  }
  if (s.screening == "match") {
    factors.push(factor("sanctions screening match", 100));
    score += 100;
  }
  s.score = score;
  s.band = score >= 60 ? "high" : score >= 30 ? "medium" : "low";
  let decision: string;
  if (s.band == "high") {
    s.phase = "rejected";
    decision = "rejected: risk " + s.band;
  } else {
    const headers = Cbor.map().set("x-amount", Cbor.text(s.amount.toString())).set("idempotency-key", Cbor.text("kyc-payout-" + s.applicant));
    r.effect(http("POST", s.payout_url, headers, "pay"));
    s.phase = "payment";
    s.payment = "pending";
    decision = "pay " + s.amount.toString() + " to " + s.applicant;
  }
  r.ann = Cbor.map()
    .set("screening", Cbor.text(s.screening)).set("tool_calls", textList(calls))
    .set("factors", factors).set("score", Cbor.uint(score)).set("band", Cbor.text(s.band))
    .set("decision", Cbor.text(decision));
}

function onPayout(s: S, status: string, payload: Cbor): void {
  if (status == "ok") {
    const code = payload.get("status")!;
    const ok = code.kind == Kind.Uint && code.num >= 200 && code.num < 300;
    s.payment = ok ? "paid" : "refused";
    s.phase = ok ? "paid" : "payment_failed";
    if (!ok) s.errors.push("payout answered HTTP " + (code.kind == Kind.Uint ? code.num.toString() : "?"));
    return;
  }
  s.payment = status;
  s.phase = status == "denied" ? "payment_denied" : "payment_failed";
  s.errors.push(receiptFailure("payout", status, payload));
}

/** The blob this step will read, if any: the document or the screening answer. */
function blobNeeded(state: Cbor | null, event: Event): string | null {
  if (event.schema != RECEIPT || state === null) return null;
  if (event.value.get("status")!.asText() != "ok") return null;
  const slot = event.value.get("cap_slot")!.asText();
  const phase = state.get("phase")!.asText();
  const payload = Cbor.decode(event.value.get("payload")!.asBytes());
  if (slot == "docs" && phase == "documents") return refOf(payload, "body_ref");
  if (slot == "llm") return refOf(payload, "output_ref");
  return null;
}

/** The text of the blob `blobNeeded` named (empty when none). */
let blobText: string = "";

function onboarding(state: Cbor | null, event: Event): StepResult {
  if (event.schema == ERASED) {
    if (state === null) return new StepResult(Cbor.nil());
    const s = S.from(state);
    const h = event.value.get("blob_hash")!;
    s.erased.push(h.kind == Kind.Bytes ? hashText(h.bytes) : h.asText());
    return new StepResult(s.toCbor());
  }
  if (event.schema != RECEIPT) {
    if (state !== null) {
      const s = S.from(state);
      // Only a finished rejection or failure may start over: never a second payout.
      if (s.phase != "rejected" && s.phase != "failed" && s.phase != "payment_failed") {
        s.ignored += 1;
        const r = new StepResult(s.toCbor());
        r.ann = Cbor.map().set("trigger", Cbor.text(event.schema)).set("decision", Cbor.text("ignored: an application for " + s.applicant + " is already " + s.phase));
        return r;
      }
      return start(event, s.ignored);
    }
    return start(event, 0);
  }
  if (state === null) return new StepResult(Cbor.nil());
  const s = S.from(state);
  const r = new StepResult(Cbor.nil());
  const slot = event.value.get("cap_slot")!.asText();
  const status = event.value.get("status")!.asText();
  const payload = Cbor.decode(event.value.get("payload")!.asBytes());
  if (slot == "docs" && s.phase == "documents") onDocs(s, status, payload, r);
  else if (slot == "docs") s.tool_results.push(status == "ok" ? "ok" : receiptFailure("tool call", status, payload));
  else if (slot == "store" && s.phase == "prompt") onPrompt(s, status, payload, r);
  else if (slot == "llm" && s.phase == "screening") onScreening(s, status, payload, r);
  else if (slot == "pay" && s.phase == "payment") onPayout(s, status, payload);
  else s.errors.push("unexpected " + slot + " receipt in phase " + s.phase);
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
  Host.output(onboarding(state, event).toCbor().encode());
  return 0;
}
