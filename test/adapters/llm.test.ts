/**
 * LLM adapter: the deterministic local provider, and the OpenAI-compatible provider over
 * real HTTP against our local server on 127.0.0.1 (tokens, cost, API key handling, errors).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CborTag, DEC128_TAG, decodeStored, encodeDec128, encodeStored, type CborValue } from "../../air/index.js";
import {
  createLlmAdapter,
  localComplete,
  startLocalLlmServer,
  type LocalLlmServer,
} from "../../kernel/adapters/index.js";
import { MemoryBlobs, errorCode, ref, request } from "./harness.js";

const API_KEY = "sk-test-secret-1234567890";
let server: LocalLlmServer;
beforeAll(async () => {
  server = await startLocalLlmServer({ apiKey: API_KEY, failModel: "broken" });
});
afterAll(() => server.close());

const messages = [
  { role: "system", content: "You summarize." },
  {
    role: "user",
    content: "The kernel journals every effect. Receipts are signed by adapters. Replay calls no adapter at all.",
  },
];

function llmRequest(params: Record<string, CborValue>, grant: CborValue = null, json = false) {
  const blobs = new MemoryBlobs();
  const ref = blobs.put(json ? new TextEncoder().encode(JSON.stringify(messages)) : encodeStored(messages));
  return request(
    "llm.generate",
    { provider: "local", model: "echo-1", messages_ref: ref, max_tokens: 12, temperature: null, ...params },
    grant,
    { blobs },
  );
}

describe("llm.generate / local provider", () => {
  it("is a pure function of (model, messages, max_tokens)", async () => {
    const a = localComplete("echo-1", messages as never, 12);
    expect(a).toEqual(localComplete("echo-1", messages as never, 12));
    expect(a.text).toBe("echo-1: The kernel journals every effect. Receipts are signed by adapters.");
    expect(a.finishReason).toBe("length");
    expect(a.completionTokens).toBe(11);
    expect(a.promptTokens).toBe(2 + 16);
    expect(localComplete("echo-1", messages as never, 3).text).toBe("echo-1: The kernel");
    expect(localComplete("echo-1", messages as never, 100).finishReason).toBe("stop");
  });

  it("records prompt and completion in the CAS and usage as cost; identical runs give identical payloads", async () => {
    const adapter = createLlmAdapter({
      prices: { "echo-1": { inputCentsPerMTok: 1_000_000, outputCentsPerMTok: 2_000_000 } },
    });
    const r1 = llmRequest({});
    const o1 = await adapter.perform(r1);
    const o2 = await adapter.perform(llmRequest({}, null, true));
    expect(o1.status).toBe("ok");
    expect(o1.payload).toEqual(o2.payload);
    const p = o1.payload as Record<string, CborValue>;
    expect(new TextDecoder().decode(r1.blobs.get(ref(p, "output_ref")))).toBe(
      "echo-1: The kernel journals every effect. Receipts are signed by adapters.",
    );
    expect(decodeStored(r1.blobs.get(ref(p, "prompt_ref")))).toEqual(messages);
    expect(p.usage).toEqual({ prompt_tokens: 18, completion_tokens: 11 });
    expect(o1.cost).toEqual({ tokens_in: 18, tokens_out: 11, cents: 18 + 22 });
  });

  it("rejects a model outside the grant and a missing messages blob", async () => {
    const adapter = createLlmAdapter();
    expect(errorCode((await adapter.perform(llmRequest({}, { models: ["other"] }))).payload)).toBe("model_not_allowed");
    expect(errorCode((await adapter.perform(llmRequest({}, { max_tokens: 5 }))).payload)).toBe("max_tokens_exceeded");
    expect(errorCode((await adapter.perform(llmRequest({ messages_ref: `sha256:${"ab".repeat(32)}` }))).payload)).toBe(
      "blob_not_found",
    );
    expect(errorCode((await adapter.perform(llmRequest({ provider: "nope" }))).payload)).toBe("unknown_provider");
    expect(errorCode((await adapter.perform(llmRequest({ temperature: "warm" }))).payload)).toBe("invalid_params");
    expect((await adapter.perform(llmRequest({ temperature: "0.7" }))).status).toBe("ok");
  });
});

describe("llm.generate / openai provider against the local OpenAI-compatible server", () => {
  it("performs a real HTTP chat completion and records the server's usage", async () => {
    const adapter = createLlmAdapter({ openai: { baseUrl: server.baseUrl, apiKey: API_KEY } });
    const req = llmRequest({ provider: "openai", temperature: new CborTag(DEC128_TAG, encodeDec128("0.2")) });
    const out = await adapter.perform(req);
    expect(out.status).toBe("ok");
    const p = out.payload as Record<string, CborValue>;
    expect(new TextDecoder().decode(req.blobs.get(ref(p, "output_ref")))).toBe(
      localComplete("echo-1", messages as never, 12).text,
    );
    expect(p.usage).toEqual({ prompt_tokens: 18, completion_tokens: 11 });
    expect(p.finish_reason).toBe("length");
    expect(out.cost).toMatchObject({ tokens_in: 18, tokens_out: 11 });
    const seen = server.requests.at(-1)!;
    expect(seen.headers.authorization).toBe(`Bearer ${API_KEY}`);
    expect(seen.headers["idempotency-key"]).toBe(req.idempotencyKey);
    expect(Buffer.from(encodeStored(out.payload)).includes(Buffer.from(API_KEY))).toBe(false);
  });

  it("turns a server error into status error without leaking the API key", async () => {
    const adapter = createLlmAdapter({ openai: { baseUrl: server.baseUrl, apiKey: API_KEY } });
    const out = await adapter.perform(llmRequest({ provider: "openai", model: "broken" }));
    expect(out.status).toBe("error");
    expect(errorCode(out.payload)).toBe("provider_error");
    expect((out.payload as Record<string, CborValue>).http_status).toBe(500);
    const bad = await createLlmAdapter({ openai: { baseUrl: server.baseUrl, apiKey: "wrong" } }).perform(
      llmRequest({ provider: "openai" }),
    );
    expect((bad.payload as Record<string, CborValue>).http_status).toBe(401);
    expect(JSON.stringify(bad.payload)).not.toContain(API_KEY);
  });

  it("reports an unreachable provider as an error", async () => {
    const adapter = createLlmAdapter({ openai: { baseUrl: "http://127.0.0.1:1/v1", apiKey: API_KEY } });
    const out = await adapter.perform(llmRequest({ provider: "openai" }));
    expect(out.status).toBe("error");
    expect(errorCode(out.payload)).toBe("connection_failed");
  });
});
