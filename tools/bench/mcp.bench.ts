/**
 * @module `wk mcp` over Streamable HTTP (`npm run bench -- mcp`): `send_event` through the MCP
 * SDK's own client and transport to `/mcp` of a real `wk serve` process on 127.0.0.1, beside
 * `POST /v1/worlds/:id/events` to the same server and world, in alternating slices of the same
 * run (`compareAsync`), 4 concurrent clients on each side, one event per call, each with its own
 * idempotency key. An MCP call does more than the POST: a fresh MCP server per request (the
 * endpoint is stateless), the tool's argument checks, and its answer waits for the cascade to
 * settle (for the counter world: its step; there are no effects) where `/v1` answers once the
 * event is durable. p50/p99 latency per call on each side.
 */
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { WorldkernelClient } from "../serve/client.js";
import { compareAsync, type Bench, type BenchResult } from "./harness.js";
import { Latencies, TOKEN, setup, startServe, stop } from "./serve.bench.js";

const SCHEMA = "demo/CounterEvent@1";
const CLIENTS = 4;
/** Calls each client makes one after another in one call of a side. */
const SEQUENTIAL = 10;

/** The counter event number `n` (50 cells, so steps read and write existing cells). */
const valueOf = (n: number) => ({ key: `k${n % 50}`, by: 1 + (n % 7) });

const sendEventBench: Bench = {
  name: "wk mcp: send_event over Streamable HTTP against POST /v1/…/events",
  async run(): Promise<BenchResult[]> {
    const s = await setup(["mcp"]);
    const clients: Client[] = [];
    try {
      const server = await startServe(join(s.base, "mcp"), s.tokens);
      const id = s.ids[0]!;
      // One connected MCP client per concurrent caller (initialize once, as a real client does).
      for (let i = 0; i < CLIENTS; i++) {
        const c = new Client({ name: "bench", version: "1" });
        await c.connect(
          new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
            requestInit: { headers: { authorization: `Bearer ${TOKEN}` } },
          }),
        );
        clients.push(c);
      }
      const http = new WorldkernelClient({ baseUrl: server.url, token: TOKEN });
      let n = 0;
      const mcpLat = new Latencies();
      const httpLat = new Latencies();
      const mcpOne = (c: Client) => {
        const i = n++;
        return mcpLat.time(async () => {
          const r = (await c.callTool({
            name: "send_event",
            arguments: { world: id, schema: SCHEMA, value: valueOf(i), idempotency_key: `mcp/e${i}` },
          })) as CallToolResult;
          if (r.isError === true) throw new Error(`mcp.bench: send_event refused: ${JSON.stringify(r.content)}`);
        });
      };
      const httpOne = () => {
        const i = n++;
        return httpLat.time(() => http.send(id, { schema: SCHEMA, value: valueOf(i) }, { idempotencyKey: `v1/e${i}` }));
      };
      const mcpSide = () =>
        Promise.all(
          clients.map(async (c) => {
            for (let r = 0; r < SEQUENTIAL; r++) await mcpOne(c);
          }),
        );
      const httpSide = () =>
        Promise.all(
          clients.map(async () => {
            for (let r = 0; r < SEQUENTIAL; r++) await httpOne();
          }),
        );
      for (let i = 0; i < 3; i++) {
        await mcpSide();
        await httpSide();
      }
      mcpLat.on = httpLat.on = true;
      const events = CLIENTS * SEQUENTIAL;
      const [figure, baseline] = await compareAsync(
        { label: `MCP send_event, ${CLIENTS} clients, events/s`, fn: mcpSide, batch: events },
        { label: `POST /v1/worlds/:id/events, ${CLIENTS} clients`, fn: httpSide, batch: events },
        { rounds: 6, sliceMs: 1500, warmup: 0 },
      );
      for (const c of clients) await c.close();
      await stop(server);
      return [
        {
          name: "wk mcp: send_event over Streamable HTTP (stateless /mcp of wk serve; synchronous=FULL)",
          figure,
          baseline,
          extra: {
            mcp_p50_ms: mcpLat.ms(0.5),
            mcp_p99_ms: mcpLat.ms(0.99),
            v1_p50_ms: httpLat.ms(0.5),
            v1_p99_ms: httpLat.ms(0.99),
            calls: mcpLat.ns.length,
          },
        },
      ];
    } finally {
      s.done();
    }
  },
};

export const benchmarks: Bench[] = [sendEventBench];
