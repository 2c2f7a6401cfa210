/**
 * @module `/mcp` of `wk serve` over Streamable HTTP on 127.0.0.1, driven by the MCP SDK's own
 * `Client` and transport against a real `wk serve` process: the bearer tokens and
 * roles of `/v1` (a read token neither sees nor may call a write tool, and writes nothing trying),
 * an event sent under an idempotency key once through MCP and again through `/v1` appended once
 * with the token's name in its origin, bad arguments refused with their path, the protocol version
 * negotiated as the SDK does it, and what is not MCP (no token, GET) refused.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killLeftovers, startServe, type Served } from "../serve/server-fixture.js";
import { call, connect, makeWorlds, refused, type McpWorlds } from "./fixture.js";

const TOKENS = {
  reader: "reader-token-0123456789abcdef",
  agent: "agent-token-0123456789abcdef",
  approver: "approver-token-0123456789abcdef",
};

let W: McpWorlds;
let server: Served;
let world: string;
const clients: Client[] = [];

/** An SDK client of `/mcp` with a bearer token. */
async function as(token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  });
  const client = await connect(transport);
  clients.push(client);
  return { client, transport };
}

/** The world's height through `/v1`. */
async function height(): Promise<number> {
  const r = await fetch(`${server.url}/v1/worlds/${world}`, { headers: { authorization: `Bearer ${TOKENS.reader}` } });
  return ((await r.json()) as { journal: { entries: number } }).journal.entries;
}

beforeAll(async () => {
  W = await makeWorlds();
  const file = join(W.parent, "..", "tokens.json");
  writeFileSync(
    file,
    JSON.stringify({
      tokens: [
        { token: TOKENS.reader, roles: ["read"], name: "dashboard" },
        { token: TOKENS.agent, roles: ["ingest", "read"], name: "agent-7" },
        { token: TOKENS.approver, roles: ["approve"] },
      ],
    }),
    { mode: 0o600 },
  );
  chmodSync(file, 0o600);
  server = await startServe([W.counter], file);
  world = server.worlds[0]!;
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await server?.stop();
  killLeftovers();
});

describe("/mcp in wk serve", () => {
  it("a read token sees the read tools only, and a write tool it calls is refused with nothing written", async () => {
    const { client } = await as(TOKENS.reader);
    const names = (await client.listTools()).tools.map((t) => t.name);
    expect(names).toContain("query_journal");
    expect(names).not.toContain("send_event");
    expect(names).not.toContain("propose");
    expect(names).not.toContain("shadow");
    const before = await height();
    expect(
      await refused(client, "send_event", { schema: "demo/CounterEvent@1", value: { key: "r", by: 1 } }),
    ).toMatchObject({ code: "auth.forbidden" });
    expect(await refused(client, "propose", { patch: {} })).toMatchObject({ code: "auth.forbidden" });
    expect(await height()).toBe(before);
    // A token with no role of any tool is offered none.
    const { client: approver } = await as(TOKENS.approver);
    expect((await approver.listTools()).tools).toEqual([]);
  });

  it("send_event under an idempotency key: once through MCP, again through /v1, appended once with the token's name", async () => {
    const { client } = await as(TOKENS.agent);
    const value = { key: "alice", by: 3 };
    const first = await call<{ seq: number }>(client, "send_event", {
      schema: "demo/CounterEvent@1",
      value,
      idempotency_key: "pay-1",
    });
    const after = await height();
    expect(
      await call(client, "send_event", { schema: "demo/CounterEvent@1", value, idempotency_key: "pay-1" }),
    ).toMatchObject({ seq: first.seq, duplicate: true });
    const v1 = await fetch(`${server.url}/v1/worlds/${world}/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKENS.agent}`, "idempotency-key": "pay-1" },
      body: JSON.stringify({ schema: "demo/CounterEvent@1", value }),
    });
    expect(v1.status).toBe(200);
    expect(await v1.json()).toMatchObject({ seq: first.seq, duplicate: true });
    expect(await height()).toBe(after);
    const { entries } = await call<{ entries: { body: { origin: unknown } }[] }>(client, "query_journal", {
      kind: "event",
      key: "pay-1",
    });
    expect(entries.map((e) => e.body.origin)).toEqual([
      // Journaled per token (tools/serve/idempotency.ts); the token finds it by the key it sent.
      expect.objectContaining({
        kind: "ingress",
        via: "mcp/http",
        token: "agent-7",
        idempotency_key: "token:agent-7:pay-1",
      }),
    ]);
    expect(await call(client, "get_state", { module: "demo/Counter@1", key: "alice" })).toMatchObject({
      cells: [{ state: { count: 3, events: 1 } }],
    });
  });

  it("bad arguments are refused with their path, and nothing is appended", async () => {
    const { client } = await as(TOKENS.agent);
    const before = await height();
    expect(
      await refused(client, "send_event", { schema: "demo/CounterEvent@1", value: { key: "bob", by: "many" } }),
    ).toMatchObject({ code: "kernel.bad_event", path: "$.value.by" });
    expect((await refused(client, "send_event", { schema: "demo/CounterEvent@1" })).message).toMatch(/at value/);
    expect((await refused(client, "query_journal", { limit: 100_000 })).message).toMatch(/at limit/);
    expect(await height()).toBe(before);
  });

  it("the protocol version is negotiated as the SDK does it; a version it does not speak is refused", async () => {
    const { transport } = await as(TOKENS.reader);
    expect(transport.protocolVersion).toBe(LATEST_PROTOCOL_VERSION);
    const post = (version: string) =>
      fetch(`${server.url}/mcp`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${TOKENS.reader}`,
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          "mcp-protocol-version": version,
        },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      });
    const ok = await post(LATEST_PROTOCOL_VERSION);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
    expect((await post("1999-01-01")).status).toBe(400);
  });

  it("without a token: 401 in the API's error shape; GET and DELETE: 405 (no sessions to stream)", async () => {
    const none = await fetch(`${server.url}/mcp`, { method: "POST", body: "{}" });
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: "auth.missing_token" } });
    for (const method of ["GET", "DELETE"]) {
      const r = await fetch(`${server.url}/mcp`, { method, headers: { authorization: `Bearer ${TOKENS.reader}` } });
      expect(r.status).toBe(405);
      expect(r.headers.get("allow")).toBe("POST");
    }
  });
});
