/**
 * The `mcp.call` adapter against a real MCP server process on 127.0.0.1 (test/fixtures/
 * mcp-server.mjs, the SDK's McpServer over Streamable HTTP, and over stdio as an allowlisted
 * command): a result inline or in the CAS, every typed failure (a tool the server does not
 * advertise, a tool error, no server, no MCP endpoint, garbage, a deadline, a result past the
 * limit, a host name resolving to loopback), and a secret header injected and redacted from
 * everything recorded. The server's own counts show which calls reached it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCanonical, encodeCanonical, type CborValue, type DefSecret } from "../../air/index.js";
import {
  createMcpAdapter,
  secretAccess,
  secretEncodings,
  secretStore,
  type McpAdapterConfig,
} from "../../kernel/adapters/index.js";
import { MemoryBlobs, errorCode, ref, request } from "./harness.js";
import { MCP_SERVER_SCRIPT, deadPort, startMcpFixture, type McpFixture } from "./mcp-fixture.js";

let fx: McpFixture;
beforeAll(async () => {
  fx = await startMcpFixture();
});
afterAll(() => fx.close());

const SECRET = "mcp-tok_7Qz/+=é9!";
const DEFS = new Map<string, { def: DefSecret }>([
  ["t/api@1", { def: { $kind: "defsecret", name: "t/api@1", binding_id: "env:T_API" } }],
]);

/** An mcp.call request to `server`, under a grant listing `tools` on it (loopback allowed). */
function mcpRequest(
  server: string,
  tool: string,
  args: CborValue = {},
  o: { tools?: string[]; headers?: Record<string, string>; allowPrivate?: string[] } = {},
) {
  const req = request(
    "mcp.call",
    { server, tool, arguments: encodeCanonical(args), headers: o.headers ?? null },
    { servers: { [server]: { tools: o.tools ?? [tool] } }, allow_private: o.allowPrivate ?? ["127.0.0.1"] },
  );
  req.grant = { ...req.grant, name: "tools", secrets: { headers: { Authorization: ["t/api@1"] } } };
  req.secrets = secretAccess(DEFS, "tools", secretStore({ env: { T_API: SECRET } }));
  return req;
}

const perform = (req: ReturnType<typeof mcpRequest>, config: McpAdapterConfig = {}) =>
  createMcpAdapter({ timeoutMs: 10_000, ...config }).perform(req);
const fields = (p: CborValue) => p as Record<string, CborValue>;
const decoded = (p: CborValue) => decodeCanonical(fields(p).result as Uint8Array) as Record<string, CborValue>;

describe("mcp.call adapter", () => {
  it("calls an advertised tool and records its result inline, with the negotiated protocol version", async () => {
    const o = await perform(mcpRequest(fx.url(), "echo", { q: "cats", n: 3, ratio: 0.5 }));
    expect(
      o.status,
      JSON.stringify(o.payload, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
    ).toBe("ok");
    const p = fields(o.payload);
    expect(p).toMatchObject({ server: fx.url(), tool: "echo", result_ref: null, protocol_version: "2025-11-25" });
    expect(decoded(o.payload)).toMatchObject({
      // The arguments travel as canonical CBOR, so the server gets their keys in canonical order.
      content: [{ type: "text", text: JSON.stringify({ n: 3, q: "cats", ratio: 0.5 }) }],
      structuredContent: { echoed: { q: "cats", n: 3, ratio: 0.5 } },
    });
    expect(p.result_size).toBe((p.result as Uint8Array).length);
  });

  it("puts a large result in the CAS, and refuses one past the limit", async () => {
    const req = mcpRequest(fx.url(), "big", { size: 20_000 });
    const o = await perform(req);
    expect(o.status).toBe("ok");
    expect(fields(o.payload).result).toBeNull();
    const stored = (req.blobs as MemoryBlobs).get(ref(o.payload, "result_ref"));
    expect(stored.length).toBe(fields(o.payload).result_size);
    expect(decodeCanonical(stored)).toMatchObject({ content: [{ type: "text", text: "x".repeat(20_000) }] });

    const over = await perform(mcpRequest(fx.url(), "big", { size: 50_000 }), { maxResultBytes: 30_000 });
    expect(over.status).toBe("error");
    expect(errorCode(over.payload)).toBe("result_too_large");
  });

  it("refuses a tool the grant lists but the server does not advertise, without calling it", async () => {
    const o = await perform(mcpRequest(fx.url(), "ghost"));
    expect(o.status).toBe("error");
    expect(fields(o.payload)).toMatchObject({ code: "tool_not_advertised", server: fx.url(), tool: "ghost" });
    expect((await fx.counts()).tools.ghost).toBeUndefined();
  });

  it("a tool's error result is an error receipt carrying the result", async () => {
    const o = await perform(mcpRequest(fx.url(), "fail"));
    expect(o.status).toBe("error");
    expect(fields(o.payload)).toMatchObject({ code: "tool_error", message: "the tool failed on purpose" });
    expect(decoded(o.payload)).toMatchObject({ isError: true });
  });

  it("no server, no MCP endpoint, garbage: server_unreachable and protocol_error", async () => {
    const down = await perform(mcpRequest(`http://127.0.0.1:${await deadPort()}/mcp`, "echo"));
    expect([down.status, errorCode(down.payload)]).toEqual(["error", "server_unreachable"]);
    const missing = await perform(mcpRequest(fx.url("/missing"), "echo"));
    expect(fields(missing.payload)).toMatchObject({ code: "server_unreachable", http_status: 404, phase: "connect" });
    const garbage = await perform(mcpRequest(fx.url("/garbage"), "echo"));
    expect([garbage.status, errorCode(garbage.payload)]).toEqual(["error", "protocol_error"]);
  });

  it("a server slower than the deadline gets a timeout receipt", async () => {
    // The deadline covers connect, tool list and call: on a loaded machine it may strike before the call.
    const o = await perform(mcpRequest(fx.url(), "slow", { ms: 60_000 }), { timeoutMs: 1000 });
    expect(o.status).toBe("timeout");
    expect(fields(o.payload)).toMatchObject({ code: "timeout", timeout_ms: 1000 });
  });

  it("checks the resolved address: a name resolving to loopback needs allow_private", async () => {
    const resolve = async () => [{ address: "127.0.0.1", family: 4 }];
    const server = `http://mcp.test:${fx.port}/mcp`;
    const denied = await perform(mcpRequest(server, "echo", {}, { allowPrivate: [] }), { resolve });
    expect(fields(denied.payload)).toMatchObject({
      code: "private_address_denied",
      address: "127.0.0.1",
      address_class: "loopback",
    });
    const ok = await perform(mcpRequest(server, "echo", {}, { allowPrivate: ["mcp.test"] }), { resolve });
    expect(ok.status).toBe("ok");
  });

  it("sends a secret header where the grant allows it and redacts every echo of it", async () => {
    const req = mcpRequest(fx.url(), "whoami", {}, { headers: { Authorization: "Bearer {secret:t/api@1}" } });
    const o = await perform(req, { inlineResultBytes: 64 });
    expect(o.status).toBe("ok");
    const result = (req.blobs as MemoryBlobs).get(ref(o.payload, "result_ref"));
    const text = decodeCanonical(result) as { structuredContent: Record<string, string> };
    // The server saw the value (its echo arrived), and what was recorded holds the marker instead.
    expect(text.structuredContent.raw).toBe("Bearer [secret:t/api@1]");
    const recorded = [Buffer.from(encodeCanonical(o.payload)), ...[...(req.blobs as MemoryBlobs).map.values()]];
    for (const bytes of recorded)
      for (const form of secretEncodings(SECRET)) expect(Buffer.from(bytes).includes(form), form).toBe(false);

    const leak = mcpRequest(fx.url(), "whoami", {}, { headers: { "X-Leak": "{secret:t/api@1}" } });
    const refused = await perform(leak);
    expect(fields(refused.payload)).toMatchObject({ code: "secret_not_allowed" });
  });

  it("runs a stdio server the operator allowlists, and refuses one it does not", async () => {
    const stdio = { fixture: { command: process.execPath, args: [MCP_SERVER_SCRIPT, "--stdio"] } };
    const o = await perform(mcpRequest("stdio:fixture", "echo", { via: "stdio" }), { stdio });
    expect(o.status).toBe("ok");
    expect(decoded(o.payload)).toMatchObject({ structuredContent: { echoed: { via: "stdio" } } });
    const gone = await perform(mcpRequest("stdio:other", "echo"), { stdio });
    expect(fields(gone.payload)).toMatchObject({ code: "server_not_configured" });
  });

  it("re-checks the grant at perform: an unlisted tool never reaches the server", async () => {
    const before = await fx.counts();
    const o = await perform(mcpRequest(fx.url(), "echo", {}, { tools: ["search"] }));
    expect(fields(o.payload)).toMatchObject({ code: "tool_not_allowed" });
    expect((await fx.counts()).requests).toBe(before.requests);
  });
});
