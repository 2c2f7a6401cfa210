/**
 * @module `wk mcp`: the worlds as an MCP server on stdin/stdout, for a desktop MCP client that
 * starts it (docs/mcp.md has the client config). It holds the worlds open as their writer until
 * the client closes it; logs go to stderr as JSON lines. Over HTTP the same server is `/mcp` of
 * `wk serve`.
 */
import type { Command } from "commander";
import { worldDirsIn } from "../../../kernel/world/worker.js";
import { serveStdio } from "../../mcp/stdio.js";
import { CliExit, EXIT, worldDir } from "../io.js";

const collect = (v: string, all: string[]) => [...all, v];

function positive(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new CliExit(EXIT.usage, `${name} must be a positive integer, got "${v}"`);
  return n;
}

/** Registers `wk mcp`. */
export function registerMcp(program: Command): void {
  program
    .command("mcp")
    .description(
      "serve worlds to an MCP client over stdio (tools: describe, send events, read state and journal, trace, verify, pending approvals, propose/shadow); over HTTP it is wk serve's /mcp",
    )
    .option("--world <dir>", "a world directory to serve (repeatable)", collect, [])
    .option("--worlds <parent>", "serve every world directory under this one")
    .option("--read-only", "offer the read tools only (no send_event, propose or shadow)")
    .option("--per-world <n>", "effect calls in flight per world", "8")
    .option("--overall <n>", "effect calls in flight in all", "32")
    .option("--json", "errors as JSON on stdout too (only before the protocol starts; logs are JSON lines on stderr)")
    .action(
      async (opts: { world: string[]; worlds?: string; readOnly?: boolean; perWorld: string; overall: string }) => {
        const perWorld = positive(opts.perWorld, "--per-world");
        const overall = positive(opts.overall, "--overall");
        const dirs = [
          ...opts.world.map((d) => worldDir(d)),
          ...(opts.worlds ? worldDirsIn(worldDir(opts.worlds)) : []),
        ];
        if (dirs.length === 0 && !opts.worlds) dirs.push(worldDir(undefined));
        await serveStdio({ worlds: [...new Set(dirs)], readOnly: opts.readOnly === true, perWorld, overall });
      },
    );
}
