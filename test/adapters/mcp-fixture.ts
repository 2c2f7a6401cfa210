/**
 * @module The test MCP server (test/fixtures/mcp-server.mjs) as a real process on 127.0.0.1:
 * start it, read what it counted (requests, JSON-RPC methods, tools/call by tool), stop it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

/** The server script, for a stdio config (`node <script> --stdio`). */
export const MCP_SERVER_SCRIPT = fileURLToPath(new URL("../fixtures/mcp-server.mjs", import.meta.url));

/** What the server counted. */
export interface McpCounts {
  requests: number;
  methods: Record<string, number>;
  tools: Record<string, number>;
}

/** A running test server. */
export interface McpFixture {
  port: number;
  /** `http://127.0.0.1:PORT/mcp` (or another path). */
  url(path?: string): string;
  counts(): Promise<McpCounts>;
  close(): Promise<void>;
}

/** Starts the server and waits for its port. */
export async function startMcpFixture(): Promise<McpFixture> {
  const child: ChildProcess = spawn(process.execPath, [MCP_SERVER_SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  const { port } = JSON.parse(line.toString("utf8").split("\n")[0]!) as { port: number };
  const url = (path = "/mcp") => `http://127.0.0.1:${port}${path}`;
  return {
    port,
    url,
    counts: async () => (await (await fetch(url("/counts"))).json()) as McpCounts,
    close: async () => {
      if (child.exitCode !== null) return;
      child.kill();
      await once(child, "exit");
    },
  };
}

/** A port on 127.0.0.1 that nothing listens on (bound once, then released). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
