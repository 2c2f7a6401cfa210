/**
 * @module The notes server of worlds/mcp-agent: a small MCP server (the official SDK's
 * McpServer, Streamable HTTP, stateless) on 127.0.0.1 with two tools — `lookup` (a note about a
 * topic from a fixed table) and `delete_notes` (which the world's grant does not list, so the
 * gate never lets the agent call it). `node server.mjs [--port N]` (default 8765; 0 picks a
 * free port) prints `{"url": …}` once it listens; GET /counts answers how many times each tool
 * was called, so a test can prove what reached it. `node server.mjs --stdio` serves the same
 * tools over stdio instead (a world runs it as `stdio:NAME` from its config.json).
 */
import { createServer } from "node:http";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { z } from "zod";

const NOTES = {
  replay: "Replay re-executes the journal and reads every effect's result from its signed receipt.",
  receipt: "A receipt is signed by the adapter key and can be verified offline with wk receipt verify.",
  gate: "The gate decides each intent: catalog, slot, params, grant, budget, then policy.",
};
const counts = {};

function notesServer() {
  const server = new McpServer({ name: "worldkernel-notes", version: "1.0.0" });
  server.registerTool(
    "lookup",
    { description: "A note about a topic", inputSchema: { query: z.string() } },
    async ({ query }) => {
      counts.lookup = (counts.lookup ?? 0) + 1;
      const topic = Object.keys(NOTES).find((t) => query.toLowerCase().includes(t));
      return { content: [{ type: "text", text: topic ? NOTES[topic] : `No note matches "${query}".` }] };
    },
  );
  server.registerTool("delete_notes", { description: "Deletes every note" }, async () => {
    counts.delete_notes = (counts.delete_notes ?? 0) + 1;
    return { content: [{ type: "text", text: "deleted" }] };
  });
  return server;
}

async function body(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString("utf8")) : undefined;
}

const http = createServer(async (req, res) => {
  try {
    if (req.method === "GET" && req.url === "/counts") {
      res.writeHead(200, { "content-type": "application/json" });
      return res.end(JSON.stringify(counts));
    }
    if (req.url !== "/mcp") return res.writeHead(404).end();
    // Stateless: a fresh server and transport per request.
    const server = notesServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on("close", () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest(req, res, req.method === "POST" ? await body(req) : undefined);
  } catch (e) {
    if (!res.headersSent) res.writeHead(500).end(String(e));
  }
});

if (process.argv.includes("--stdio")) {
  await notesServer().connect(new StdioServerTransport());
} else {
  const i = process.argv.indexOf("--port");
  const port = i >= 0 ? Number(process.argv[i + 1]) : 8765;
  http.listen(port, "127.0.0.1", () => {
    process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${http.address().port}/mcp` }) + "\n");
  });
}
