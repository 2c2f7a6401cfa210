/**
 * @module Worlds for the `wk mcp` tests, made in a temp folder with the library: a counter; a
 * governed fetcher whose policy holds every fetch for an approver and takes unsigned proposals
 * (for list_pending, propose and shadow); a fetcher whose policy allows fetches from 127.0.0.1
 * (for an ok receipt and its bundle). Also MCP clients: the SDK's own `Client` over a real
 * transport, and helpers that read a tool's structured answer or its typed error.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import { ed25519 } from "@noble/curves/ed25519.js";
import { KeyPair } from "../../kernel/crypto/keys.js";
import { createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { ROOT } from "../world/cli-harness.js";

const FETCHER = join(ROOT, "test/fixtures/worlds/fetcher/world.air.json");
const FETCHER_WASM = join(ROOT, "modules/assemblyscript/fetcher/fetcher.wasm");

/** The fetcher's AIR in `dir`, its policy deciding `decision`; `approver` named with unsigned proposals allowed. */
function fetcherAir(dir: string, decision: "allow" | "require_approval", approver?: KeyPair): string {
  mkdirSync(dir, { recursive: true });
  cpSync(FETCHER_WASM, join(dir, "fetcher.wasm"));
  const defs = JSON.parse(readFileSync(FETCHER, "utf8")) as Record<string, unknown>[];
  for (const d of defs) {
    if (d.$kind === "defmodule") d.wasm = "./fetcher.wasm";
    if (d.$kind === "defpolicy") {
      (d.rules as { decision: string }[])[0]!.decision = decision;
      if (approver !== undefined)
        Object.assign(d, {
          approvers: [{ id: "ops", public_key: approver.publicKeyHex }],
          threshold: 1,
          allow_unsigned_proposals: true,
        });
    }
  }
  writeFileSync(join(dir, "world.air.json"), JSON.stringify(defs));
  return dir;
}

/** The worlds, all under `parent` (what `wk mcp --worlds` serves). */
export interface McpWorlds {
  parent: string;
  counter: string;
  governed: string;
  fetcher: string;
  approver: KeyPair;
  /** The approver's secret key, for signing a message as given (plain ed25519, as a device outside would). */
  approverSecret: Uint8Array;
}

/** Creates the three worlds (closed again: a `wk mcp` process opens them). */
export async function makeWorlds(): Promise<McpWorlds> {
  const base = mkdtempSync(join(tmpdir(), "wk-mcp-"));
  const parent = join(base, "worlds");
  const approverSecret = ed25519.utils.randomSecretKey();
  const approver = new KeyPair(approverSecret);
  const counter = join(parent, "counter");
  const governed = join(parent, "governed");
  const fetcher = join(parent, "fetcher");
  await (await createWorld(counter, sourceFromAirDir(join(ROOT, "worlds/counter")))).close();
  await (
    await createWorld(governed, sourceFromAirDir(fetcherAir(join(base, "air-governed"), "require_approval", approver)))
  ).close();
  await (await createWorld(fetcher, sourceFromAirDir(fetcherAir(join(base, "air-fetcher"), "allow")))).close();
  return { parent, counter, governed, fetcher, approver, approverSecret };
}

/** A connected SDK client over `transport`. */
export async function connect(transport: Transport): Promise<Client> {
  const c = new Client({ name: "worldkernel-test", version: "1" });
  await c.connect(transport);
  return c;
}

/** Calls a tool and expects a structured answer (no error). */
export async function call<T = Record<string, unknown>>(
  c: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<T> {
  const r = (await c.callTool({ name, arguments: args })) as CallToolResult;
  expect(r.isError, `${name}: ${JSON.stringify(r.content)}`).not.toBe(true);
  return r.structuredContent as T;
}

/** Calls a tool and expects it refused: the error record (a worldkernel refusal) or the SDK's text. */
export async function refused(
  c: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<{ code?: string; message: string; path?: string }> {
  const r = (await c.callTool({ name, arguments: args })) as CallToolResult;
  expect(r.isError, `${name} should be refused: ${JSON.stringify(r.content)}`).toBe(true);
  const sc = r.structuredContent as { error?: { code: string; message: string; path?: string } } | undefined;
  if (sc?.error !== undefined) return sc.error;
  const text = r.content.map((x) => (x.type === "text" ? x.text : "")).join("");
  return { message: text };
}

/** A world's id, as list_worlds gives it, by its directory. */
export async function worldIds(c: Client): Promise<Map<string, string>> {
  const { worlds } = await call<{ worlds: { id: string; dir: string }[] }>(c, "list_worlds");
  return new Map(worlds.map((w) => [w.dir, w.id]));
}
