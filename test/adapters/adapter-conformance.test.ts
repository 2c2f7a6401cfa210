/**
 * Runs the EffectAdapter conformance suite against every built-in adapter kind.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll } from "vitest";
import builtinEffects from "../../air/builtins/effects.air.json" with { type: "json" };
import builtinSchemas from "../../air/builtins/schemas.air.json" with { type: "json" };
import { encodeCanonical, encodeStored, expandType, hashToBytes, type HashText } from "../../air/index.js";
import type { TypeExpr } from "../../air/schemas/common.js";
import {
  createBlobAdapter,
  createCompileAdapter,
  createHttpAdapter,
  createLlmAdapter,
  createMcpAdapter,
  createTimerAdapter,
  type EffectRequest,
} from "../../kernel/adapters/index.js";
import { runAdapterSuite } from "./adapter.case.js";
import { startMcpFixture, type McpFixture } from "./mcp-fixture.js";

let server: Server;
let port = 0;
let mcp: McpFixture;
beforeAll(async () => {
  server = createServer((_q, s) => s.end("ok"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
  mcp = await startMcpFixture();
});
afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await mcp.close();
});

const withBlob =
  (key: string, bytes: Uint8Array) =>
  (req: EffectRequest): EffectRequest => {
    const ref: HashText = req.blobs.put(bytes);
    // Canonical typed params carry a hash as its 32 raw bytes.
    return { ...req, params: { ...(req.params as Record<string, never>), [key]: hashToBytes(ref) } };
  };

// The built-in sys/* schemas the lead's gate conforms params with, and receipts should follow.
const schemaDefs = new Map((builtinSchemas as { name: string; type: TypeExpr }[]).map((s) => [s.name, s.type]));
const resolveType = (name: string): TypeExpr => expandType(schemaDefs.get(name)!, (n) => schemaDefs.get(n));
const schemasOf = (kind: string) => {
  const e = (builtinEffects as { kind: string; params_schema: string; receipt_schema: string }[]).find(
    (x) => x.kind === kind,
  )!;
  return { params: resolveType(e.params_schema), receipt: resolveType(e.receipt_schema) };
};

runAdapterSuite({
  kind: "http.request",
  schemas: schemasOf("http.request"),
  create: () => createHttpAdapter({ timeoutMs: 2000 }),
  valid: () => ({
    params: { method: "GET", url: `http://127.0.0.1:${port}/`, headers: {}, body_ref: null },
    grant: { allow_private: ["127.0.0.1"] },
  }),
  invalid: { method: 7, url: null },
});
runAdapterSuite({
  kind: "llm.generate",
  schemas: schemasOf("llm.generate"),
  create: () => createLlmAdapter(),
  valid: () => ({
    params: { provider: "local", model: "m", max_tokens: 5, temperature: null },
    prepare: withBlob("messages_ref", encodeStored([{ role: "user", content: "Hi there." }])),
  }),
  invalid: { provider: "local" },
});
runAdapterSuite({
  kind: "blob.put",
  schemas: schemasOf("blob.put"),
  create: () => createBlobAdapter(),
  valid: () => ({ params: { namespace: "n", bytes: new Uint8Array([1, 2]) } }),
  invalid: { namespace: "n", bytes: "not bytes" },
});
runAdapterSuite({
  kind: "blob.get",
  schemas: schemasOf("blob.get"),
  create: () => createBlobAdapter(),
  valid: () => ({ params: { namespace: "n" }, prepare: withBlob("blob_ref", new Uint8Array([3])) }),
  invalid: { namespace: "n", blob_ref: "nope" },
});
runAdapterSuite({
  kind: "timer.set",
  schemas: schemasOf("timer.set"),
  create: () => createTimerAdapter(),
  valid: () => ({ params: { deliver_at_ns: 0, key: null } }),
  invalid: { deliver_at_ns: -1 },
});
runAdapterSuite({
  kind: "compile.module",
  schemas: schemasOf("compile.module"),
  create: () => createCompileAdapter(),
  valid: () => ({ params: { language: "wat" }, prepare: withBlob("source_ref", new TextEncoder().encode("(module)")) }),
  invalid: { language: "wat", source_ref: 12 },
});
runAdapterSuite({
  kind: "mcp.call",
  schemas: schemasOf("mcp.call"),
  create: () => createMcpAdapter({ timeoutMs: 5000 }),
  valid: () => ({
    params: { server: mcp.url(), tool: "echo", arguments: encodeCanonical({ q: "ok" }), headers: null },
    grant: { servers: { [mcp.url()]: { tools: ["echo"] } }, allow_private: ["127.0.0.1"] },
  }),
  invalid: { server: 7, tool: null },
});
