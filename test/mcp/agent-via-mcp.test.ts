/**
 * worlds/mcp-agent driven through `wk mcp`, both ways at once: an MCP client (the SDK's own
 * `Client`, over stdio, as a desktop agent would) sends the agent a question with `send_event`,
 * which answers once the cascade settled; inside the world the agent calls the notes server's
 * `lookup` tool through the gate (`mcp.call`), and the answer is in the cell `get_state` reads.
 * The notes server's own counts say what reached it; `explain` gives the step's reasoning; the
 * world verifies.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld } from "../../kernel/world/index.js";
import { WK } from "../world/cli-harness.js";
import { agentSource, startNotesServer, type NotesServer } from "./agent-world.js";
import { call, connect, worldIds } from "./fixture.js";

let server: NotesServer;
let client: Client;
let world = "";

beforeAll(async () => {
  server = await startNotesServer();
  const parent = join(mkdtempSync(join(tmpdir(), "wk-mcp-agent-")), "worlds");
  const dir = join(parent, "agent");
  await (await createWorld(dir, agentSource(server.url))).close();
  client = await connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [...WK, "mcp", "--worlds", parent],
      env: process.env as Record<string, string>,
      stderr: "ignore",
    }),
  );
  world = (await worldIds(client)).get(dir)!;
}, 120_000);

afterAll(async () => {
  await client?.close();
  await server?.stop();
});

describe("worlds/mcp-agent through wk mcp", () => {
  it("send_event settles after the agent's MCP tool call; get_state has the answer; explain says why it asked", async () => {
    const sent = await call<{ settled: boolean; pending: unknown[]; seq: number }>(client, "send_event", {
      world,
      schema: "agent/Ask@1",
      value: { key: "r1", server: server.url, question: "What is a receipt?" },
      idempotency_key: "ask-r1",
    });
    expect(sent).toMatchObject({ settled: true, pending: [] });
    const state = await call<{ cells: { state: Record<string, unknown> }[] }>(client, "get_state", {
      world,
      module: "agent/Researcher@1",
      key: "r1",
    });
    expect(state.cells[0]!.state).toMatchObject({
      status: "answered",
      answer: "A receipt is signed by the adapter key and can be verified offline with wk receipt verify.",
    });
    expect(await server.counts()).toEqual({ lookup: 1 });

    const page = await call<{ entries: { body: { intent_id: string; kind: string } }[] }>(client, "query_journal", {
      world,
      kind: "effect_intent",
    });
    const intent = page.entries.find((e) => e.body.kind === "mcp.call")!.body.intent_id;
    const why = JSON.stringify(await call(client, "explain", { world, intent_id: intent }));
    expect(why).toContain('look up \\"What is a receipt?\\" with the lookup tool of');
    expect(await call(client, "verify", { world })).toMatchObject({ ok: true });
  }, 120_000);
});
