/**
 * `mcp.call` in a real world (issue 24): the emitter module asks for MCP tool calls, the gate
 * decides them against a `sys/mcp@1` grant, and the adapter calls a real MCP server process on
 * 127.0.0.1 (test/fixtures/mcp-server.mjs), which counts every request it gets. An allowed
 * tool gets an ok receipt; an unlisted tool or server is denied at the gate and the server sees
 * nothing; a listed tool the server does not advertise, a server that is down, a slow one and a
 * large result each get their receipt. Replay, reopening and governance shadow runs make no
 * call. A secret sent in a header is in no file of the world and in nothing the process
 * printed. A stdio server named in the world's config is called too.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCanonical, decodeStored, encodeCanonical, type CborObject, type CborValue } from "../../air/index.js";
import { secretEncodings } from "../../kernel/adapters/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { WorldConfigSchema } from "../../kernel/world/config.js";
import { createWorld, propose, replayWorld, shadow, verifyWorld, World } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { deadPort, MCP_SERVER_SCRIPT, startMcpFixture, type McpFixture } from "../adapters/mcp-fixture.js";
import { emitEvent, emitterSource, receiptsOf, type EmitterSpec } from "./fixtures/emitter.js";

let fx: McpFixture;
let down = "";
beforeAll(async () => {
  fx = await startMcpFixture();
  down = `http://127.0.0.1:${await deadPort()}/mcp`;
});
afterAll(() => fx.close());

const SECRET = "mcp-world-5e1b9c/Z+tok";

/** The emitter asking for `mcp.call`s under grant `ok` (`servers`, loopback allowed). */
function spec(servers: Record<string, string[]>, extra: Partial<EmitterSpec> = {}): EmitterSpec {
  return {
    kind: "mcp.call",
    effect: "sys/mcp.call@1",
    cap: "sys/mcp@1",
    capType: "mcp",
    grantParams: {
      servers: Object.fromEntries(Object.entries(servers).map(([s, tools]) => [s, { tools }])),
      allow_private: ["127.0.0.1"],
    },
    ...extra,
  };
}

/** A world for `s`, its adapters configured with `settings` (config.json `adapters`) and an MCP deadline (short by default). */
async function world(s: EmitterSpec, settings: Parameters<typeof defaultAdapters>[0] = {}, timeoutMs = 4000) {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-mcp-")), "w");
  const w = await createWorld(dir, await emitterSource(s), {
    adapters: defaultAdapters(settings, { mcp: { timeoutMs } }),
  });
  return { w, dir };
}

const mcpCall = (server: string, tool: string, args: CborValue = {}, headers: Record<string, string> = {}) =>
  emitEvent("mcp.call", "ok", { server, tool, arguments: encodeCanonical(args), headers });
const payloadOf = (r: { payload: Uint8Array }) =>
  decodeStored(Uint8Array.from([0xd9, 0xd9, 0xf7, ...r.payload])) as CborObject;

/** A receipt's result bytes: inline, or from the CAS by `result_ref`. */
function resultBytes(w: World, p: CborObject): Uint8Array {
  if (p.result_ref === null) return p.result as Uint8Array;
  return w.store.getBlobSync(`sha256:${Buffer.from(p.result_ref as Uint8Array).toString("hex")}`);
}

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe("mcp.call in a world", () => {
  it("gates, performs and records each call; replay, reopening and shadow runs call nothing", async () => {
    const approver = generateKeyPair();
    const other = "http://127.0.0.1:1/mcp";
    const { w, dir } = await world(
      spec(
        { [fx.url()]: ["echo", "ghost", "slow", "big"], [down]: ["echo"] },
        { approvers: [{ id: "ops", public_key: approver.publicKeyHex }] },
      ),
    );
    await w.send("t/Emit@1", mcpCall(fx.url(), "echo", { q: "cats" }));
    const before = await fx.counts();
    await w.send("t/Emit@1", mcpCall(fx.url(), "delete")); // not a tool the grant lists
    await w.send("t/Emit@1", mcpCall(other, "echo")); // not a server the grant lists
    expect(await fx.counts()).toEqual(before); // denied at the gate: nothing reached the server
    await w.send("t/Emit@1", mcpCall(fx.url(), "ghost")); // listed, but the server does not advertise it
    await w.send("t/Emit@1", mcpCall(down, "echo"));
    await w.send("t/Emit@1", mcpCall(fx.url(), "slow", { ms: 60_000 }));
    await w.send("t/Emit@1", mcpCall(fx.url(), "big", { size: 20_000 }));

    const rs = receiptsOf(w);
    expect(rs.map((r) => r.status)).toEqual(["ok", "denied", "denied", "error", "error", "timeout", "ok"]);
    const ok = payloadOf(rs[0]!);
    expect(ok).toMatchObject({ server: fx.url(), tool: "echo", result_ref: null });
    expect(decodeCanonical(ok.result as Uint8Array)).toMatchObject({ structuredContent: { echoed: { q: "cats" } } });
    expect(payloadOf(rs[1]!)).toMatchObject({ code: "tool_not_allowed", stage: "grant" });
    expect(payloadOf(rs[2]!)).toMatchObject({ code: "server_not_allowed", stage: "grant" });
    expect(payloadOf(rs[3]!)).toMatchObject({ code: "tool_not_advertised", tool: "ghost" });
    expect(payloadOf(rs[4]!)).toMatchObject({ code: "server_unreachable", phase: "connect" });
    expect(payloadOf(rs[5]!)).toMatchObject({ code: "timeout", timeout_ms: 4000 });
    const big = payloadOf(rs[6]!);
    expect(big.result).toBeNull();
    expect(resultBytes(w, big).length).toBe(big.result_size);
    const counts = await fx.counts();
    expect(counts.tools).toEqual({ echo: 1, slow: 1, big: 1 });

    // Governance shadow runs re-run the world under a proposal, issuing the same intents: none is performed.
    const patch = {
      base_manifest_hash: w.catalog.manifestHash,
      patches: [
        { add_def: { kind: "defschema", node: { $kind: "defschema", name: "t/Extra@1", type: { text: {} } } } },
      ],
    };
    const { proposalId } = await propose(w, patch, { proposer: generateKeyPair() });
    const { report } = await shadow(w, proposalId, { since: 0 });
    expect(report.events).toBeGreaterThan(0);
    await shadow(w, proposalId, { window: 10 });
    const root = w.stateRefs().state_root;
    await w.close();

    // Replay and verify read receipts; reopening finds nothing pending.
    expect(await verifyWorld(worldPaths(dir).journal)).toMatchObject({ ok: true });
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
    const again = await World.open(dir, { adapters: defaultAdapters() });
    expect(again.stateRefs().state_root).toBe(root);
    await again.close();
    expect(await fx.counts()).toEqual(counts);
  }, 120_000);

  it("sends a secret header the grant allows; the value is in no file of the world and nothing printed", async () => {
    const { w, dir } = await world(
      spec(
        { [fx.url()]: ["whoami"] },
        {
          grantSecrets: { headers: { Authorization: ["t/mcp@1"] } },
          secrets: [{ name: "t/mcp@1", binding_id: "file:mcp", allowed_caps: ["ok"] }],
        },
      ),
    );
    const secretsFile = worldPaths(dir).secrets;
    writeFileSync(secretsFile, JSON.stringify({ mcp: SECRET }), { mode: 0o600 });
    const printed: string[] = [];
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((c: string | Uint8Array, ...a: never[]) => (
      printed.push(String(c)),
      out(c, ...a)
    )) as never;
    process.stderr.write = ((c: string | Uint8Array, ...a: never[]) => (
      printed.push(String(c)),
      err(c, ...a)
    )) as never;
    try {
      await w.send("t/Emit@1", mcpCall(fx.url(), "whoami", {}, { Authorization: "Bearer {secret:t/mcp@1}" }));
      await w.send("t/Emit@1", mcpCall(fx.url(), "whoami", {}, { "X-Leak": "{secret:t/mcp@1}" }));
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
    }
    const rs = receiptsOf(w);
    expect(rs.map((r) => r.status)).toEqual(["ok", "denied"]);
    expect(payloadOf(rs[1]!)).toMatchObject({ code: "secret_not_allowed", stage: "grant" });
    // The server saw the value: its echo came back and was redacted before it was recorded.
    const result = decodeCanonical(resultBytes(w, payloadOf(rs[0]!))) as { structuredContent: { raw: string } };
    expect(result.structuredContent.raw).toBe("Bearer [secret:t/mcp@1]");
    await w.close();
    const needles = secretEncodings(SECRET);
    for (const f of files(dir).filter((f) => f !== secretsFile)) {
      const hay = readFileSync(f);
      for (const n of needles) expect(hay.includes(Buffer.from(n, "utf8")), `${f} holds ${n}`).toBe(false);
    }
    for (const n of needles) expect(printed.join("").includes(n), `printed ${n}`).toBe(false);
  }, 120_000);

  it("calls a stdio server the world's config allowlists", async () => {
    const config = WorldConfigSchema.parse({
      world_id: "w",
      adapters: { mcp: { stdio: { fixture: { command: process.execPath, args: [MCP_SERVER_SCRIPT, "--stdio"] } } } },
    });
    // A process to start, so a deadline that leaves room for a loaded machine.
    const { w } = await world(spec({ "stdio:fixture": ["echo"], "stdio:absent": ["echo"] }), config.adapters, 30_000);
    await w.send("t/Emit@1", mcpCall("stdio:fixture", "echo", { via: "stdio" }));
    await w.send("t/Emit@1", mcpCall("stdio:absent", "echo"));
    const rs = receiptsOf(w);
    expect(rs.map((r) => r.status)).toEqual(["ok", "error"]);
    expect(decodeCanonical(payloadOf(rs[0]!).result as Uint8Array)).toMatchObject({
      structuredContent: { echoed: { via: "stdio" } },
    });
    expect(payloadOf(rs[1]!)).toMatchObject({ code: "server_not_configured" });
    expect(() =>
      WorldConfigSchema.parse({ world_id: "w", adapters: { mcp: { stdio: { "a b": { command: "x" } } } } }),
    ).toThrow();
    await w.close();
  }, 120_000);
});
