/**
 * @module worlds/mcp-agent for tests: its notes server (worlds/mcp-agent/server.mjs) started as
 * a real process on a free 127.0.0.1 port, and the world's AIR with the grant naming that
 * server's URL instead of the documented default (127.0.0.1:8765), so tests never depend on a
 * fixed port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { buildCatalogOrThrow } from "../../air/loader.js";
import type { AnyDef } from "../../air/schemas/defs.js";
import { sourceFromAirDir, type WorldSource } from "../../kernel/world/index.js";
import { ROOT } from "../world/cli-harness.js";

export const AGENT_AIR = join(ROOT, "worlds/mcp-agent");
const DEFAULT_URL = "http://127.0.0.1:8765/mcp";

/** The running notes server: its MCP URL and its per-tool call counts. */
export interface NotesServer {
  url: string;
  counts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Starts worlds/mcp-agent/server.mjs on a free port. */
export async function startNotesServer(): Promise<NotesServer> {
  const child: ChildProcess = spawn(process.execPath, [join(AGENT_AIR, "server.mjs"), "--port", "0"], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the notes server exited (${code})`)));
    createInterface({ input: child.stdout! }).once("line", resolve);
  });
  const url = (JSON.parse(line) as { url: string }).url;
  return {
    url,
    counts: async () => (await (await fetch(url.replace(/\/mcp$/, "/counts"))).json()) as Record<string, number>,
    stop: () =>
      new Promise<void>((r) => {
        if (child.exitCode !== null) return r();
        child.once("exit", () => r());
        child.kill();
      }),
  };
}

/** worlds/mcp-agent with its grant naming `url` (the server a test started) in place of the default. */
export function agentSource(url: string): WorldSource {
  const src = sourceFromAirDir(AGENT_AIR);
  const defs = src.catalog.sources.map((d): AnyDef => {
    if (d.$kind !== "manifest") return d;
    const json = JSON.stringify(d).replaceAll(DEFAULT_URL, url);
    return JSON.parse(json) as AnyDef;
  });
  return { catalog: buildCatalogOrThrow([{ file: "worlds/mcp-agent", value: defs }]), wasm: src.wasm };
}
