/**
 * @module `wk mcp` over stdio, driven by the MCP SDK's own `Client` as a desktop client drives it:
 * one real `wk mcp --worlds DIR` process (bin/wk.js over dist/) serving three worlds for every
 * case — tools listed; describe_world's JSON Schema checked by a standard validator; an event
 * sent twice under one idempotency key appended once, its origin naming MCP; state read; the
 * journal paged with a cursor; bad arguments refused with their path and nothing appended; a held
 * intent's message to sign checked by signing it; propose and shadow; a receipt bundle resource
 * verified offline; concurrent sends serialized; another writer refused while it holds a world;
 * and the worlds sealed and verifiable once the client closes it.
 */
import { ed25519 } from "@noble/curves/ed25519.js";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { AjvJsonSchemaValidator } from "@modelcontextprotocol/sdk/validation/ajv";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyBundle } from "../../kernel/crypto/verify-bundle.js";
import { approvalSignatureValid, heldIntentMessage } from "../../kernel/world/approvals.js";
import { approvalPayload } from "../../kernel/world/governance-rules.js";
import { signingMessage } from "../../kernel/crypto/signing-message.js";
import { verifyWorldDir } from "../../kernel/world/verify-world.js";
import { WK, wkAsync } from "../world/cli-harness.js";
import { startPageServer, type PageServer } from "../world/page-server.js";
import { call, connect, makeWorlds, refused, worldIds, type McpWorlds } from "./fixture.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

let W: McpWorlds;
let page: PageServer;
let client: Client;
let stderr = "";
let ids: Map<string, string>;
const height = async (world: string) =>
  (await call<{ worlds: { id: string; height: number }[] }>(client, "list_worlds")).worlds.find((w) => w.id === world)!
    .height;

beforeAll(async () => {
  [W, page] = await Promise.all([makeWorlds(), startPageServer("a page about worlds")]);
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...WK, "mcp", "--worlds", W.parent],
    env: process.env as Record<string, string>,
    stderr: "pipe",
  });
  transport.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  client = await connect(transport);
  ids = await worldIds(client);
}, 120_000);

afterAll(async () => {
  await client?.close();
  await page?.close();
});

describe("wk mcp over stdio", () => {
  it("lists every tool, with a JSON Schema input each; the server names itself and logs on stderr", async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual([
      "list_worlds",
      "describe_world",
      "get_state",
      "query_journal",
      "trace",
      "explain",
      "verify",
      "list_pending",
      "send_event",
      "propose",
      "shadow",
    ]);
    for (const t of tools) expect(t.inputSchema.type).toBe("object");
    expect(tools.find((t) => t.name === "send_event")!.inputSchema.required).toEqual(["schema", "value"]);
    expect(client.getServerVersion()).toMatchObject({ name: "worldkernel" });
    expect(JSON.parse(stderr.split("\n")[0]!)).toMatchObject({ event: "ready", worlds: expect.any(Array) });
    expect([...ids.keys()].sort()).toEqual([W.counter, W.fetcher, W.governed].sort());
  });

  it("describe_world: the events a world takes as JSON Schema a validator accepts and refuses by", async () => {
    const d = await call<{ events: { schema: string; json_schema: Record<string, unknown> }[]; policy: unknown }>(
      client,
      "describe_world",
      { world: ids.get(W.counter) },
    );
    const ev = d.events.find((e) => e.schema === "demo/CounterEvent@1")!;
    expect(ev.json_schema).toMatchObject({ type: "object", required: ["by", "key"], additionalProperties: false });
    const check = new AjvJsonSchemaValidator().getValidator(ev.json_schema);
    expect(check({ key: "a", by: 1 }).valid).toBe(true);
    expect(check({ key: "a", by: -1 }).valid).toBe(false);
    const g = await call<{ policy: Record<string, unknown> }>(client, "describe_world", { world: ids.get(W.governed) });
    expect(g.policy).toMatchObject({
      approvers: [W.approver.publicKeyHex],
      threshold: 1,
      allow_unsigned_proposals: true,
    });
  });

  it("send_event twice under one idempotency key: one append, the origin names MCP; state reads it", async () => {
    const world = ids.get(W.counter)!;
    const args = { world, schema: "demo/CounterEvent@1", value: { key: "alice", by: 5 }, idempotency_key: "order-1" };
    const first = await call(client, "send_event", args);
    const after = await height(world);
    const again = await call(client, "send_event", args);
    expect(first).toMatchObject({ duplicate: false, settled: true, pending: [], steps: 1, failures: 0 });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await height(world)).toBe(after);
    const page = await call<{ entries: { seq: number; body: { origin: unknown } }[] }>(client, "query_journal", {
      world,
      kind: "event",
      key: "order-1",
    });
    expect(page.entries.map((e) => e.seq)).toEqual([first.seq]);
    expect(page.entries[0]!.body.origin).toMatchObject({
      kind: "ingress",
      via: "mcp/stdio",
      idempotency_key: "order-1",
    });
    // Another event under the same key is refused, and appends nothing.
    const conflict = await refused(client, "send_event", { ...args, value: { key: "alice", by: 6 } });
    expect(conflict).toMatchObject({ code: "kernel.idempotency_conflict" });
    expect(await height(world)).toBe(after);
    const cell = await call<{ cells: { state: unknown }[] }>(client, "get_state", {
      world,
      module: "demo/Counter@1",
      key: "alice",
    });
    expect(cell.cells.map((c) => c.state)).toEqual([{ count: 5, events: 1 }]);
    expect(await refused(client, "get_state", { world, module: "demo/Counter@1", key: "nobody" })).toMatchObject({
      code: "mcp.no_cell",
      path: "$.key",
    });
  });

  it("query_journal pages the whole journal with its cursor, no entry twice or missed", async () => {
    const world = ids.get(W.counter)!;
    const seqs: number[] = [];
    let cursor: string | null | undefined = undefined;
    do {
      const p: { entries: { seq: number }[]; next_cursor: string | null; height: number } = await call(
        client,
        "query_journal",
        { world, limit: 2, ...(cursor === undefined ? {} : { cursor }) },
      );
      expect(p.entries.length).toBeLessThanOrEqual(2);
      seqs.push(...p.entries.map((e) => e.seq));
      cursor = p.next_cursor;
    } while (cursor !== null);
    const h = await height(world);
    expect(seqs).toEqual(Array.from({ length: h }, (_, i) => i));
    const range = await call<{ entries: { seq: number }[]; next_cursor: string | null }>(client, "query_journal", {
      world,
      from: 1,
      to: 2,
    });
    expect(range).toMatchObject({ entries: [{ seq: 1 }, { seq: 2 }], next_cursor: null });
  });

  it("bad arguments are refused naming the path, and nothing is appended", async () => {
    const world = ids.get(W.counter)!;
    const before = await height(world);
    // The SDK checks a tool's arguments against its input schema: the message names the argument.
    const shape = await refused(client, "query_journal", { world, limit: 0 });
    expect(shape.message).toMatch(/^MCP error -32602: Input validation error: .* at limit/s);
    const missing = await refused(client, "send_event", { world, value: {} });
    expect(missing.message).toMatch(/at schema/);
    // An argument no tool takes is refused, not ignored (a typo would otherwise read every cell).
    expect((await refused(client, "get_state", { world, modul: "demo/Counter@1" })).message).toMatch(/modul/);
    // The event's value is checked against its AIR schema: the path reaches into the value.
    expect(
      await refused(client, "send_event", { world, schema: "demo/CounterEvent@1", value: { key: "bob", by: -1 } }),
    ).toMatchObject({ code: "kernel.bad_event", path: "$.value.by" });
    expect(
      await refused(client, "send_event", { world, schema: "demo/CounterEvent@1", value: { key: "bob", by: 1, x: 1 } }),
    ).toMatchObject({ code: "kernel.bad_event", path: "$.value.x" });
    expect(await refused(client, "send_event", { world, schema: "demo/Nope@1", value: {} })).toMatchObject({
      code: "kernel.unknown_schema",
      path: "$.schema",
    });
    expect(
      await refused(client, "send_event", {
        world,
        schema: "demo/CounterEvent@1",
        value: { key: "x".repeat(300 * 1024), by: 1 },
      }),
    ).toMatchObject({ code: "mcp.too_large", path: "$.value" });
    expect(await refused(client, "send_event", { schema: "demo/CounterEvent@1", value: {} })).toMatchObject({
      code: "mcp.no_world",
      path: "$.world",
    });
    expect(await height(world)).toBe(before);
  });

  it("a held intent: send_event says it is pending; list_pending gives the exact message an approver signs", async () => {
    const world = ids.get(W.governed)!;
    const sent = await call<{ settled: boolean; pending: { intent_id: string; waiting: string }[] }>(
      client,
      "send_event",
      { world, schema: "demo/Fetch@1", value: { key: "h", url: `${page.url}/held` } },
    );
    expect(sent).toMatchObject({ settled: true, pending: [{ kind: "http.request", waiting: "approval" }] });
    const intent = sent.pending[0]!.intent_id;
    const { intents } = await call<{ intents: Record<string, { message_hex: string } & Record<string, unknown>>[] }>(
      client,
      "list_pending",
      { world },
    );
    expect(intents).toHaveLength(1);
    const held = intents[0]!;
    expect(held).toMatchObject({ intent_id: intent, kind: "http.request", params: { url: `${page.url}/held` } });
    expect(held.allow).toEqual({
      purpose: "effect_approval",
      message_hex: hex(heldIntentMessage(world, intent, "allow")),
    });
    // The bytes as given, signed with plain ed25519 outside the server, are a valid approval.
    const signature = ed25519.sign(Buffer.from(held.allow!.message_hex, "hex"), W.approverSecret);
    const body = { intent_id: intent, decision: "allow" as const, stage: "approval" as const };
    expect(approvalSignatureValid({ ...body, approver: W.approver.publicKeyHex, signature }, world)).toBe(true);
    expect(held.deny).toMatchObject({ message_hex: hex(heldIntentMessage(world, intent, "deny")) });
  });

  it("propose (unsigned, as the policy allows) and shadow; list_pending shows the proposal's message to sign", async () => {
    const world = ids.get(W.governed)!;
    const { manifest_hash } = await call<{ manifest_hash: string }>(client, "describe_world", { world });
    const patch = {
      base_manifest_hash: manifest_hash,
      patches: [
        { add_def: { kind: "defschema", node: { $kind: "defschema", name: "demo/Note@1", type: { text: {} } } } },
      ],
    };
    const bad = await refused(client, "propose", { world, patch: { ...patch, base_manifest_hash: "sha256:00" } });
    expect(bad.code).toMatch(/^(air|governance)\./);
    const p = await call<{ proposal_id: string }>(client, "propose", { world, patch, description: "a note schema" });
    const pending = await call<{ proposals: { proposal_id: string; status: string; approve: unknown }[] }>(
      client,
      "list_pending",
      { world },
    );
    expect(pending.proposals).toMatchObject([{ proposal_id: p.proposal_id, status: "filed", approve: null }]);
    const s = await call<{ report_hash: string; report: { failing_steps: number } }>(client, "shadow", {
      world,
      proposal_id: p.proposal_id,
    });
    expect(s.report.failing_steps).toBe(0);
    const after = await call<{
      proposals: { proposal_id: string; patch_ref: string; status: string; approve: { message_hex: string } }[];
    }>(client, "list_pending", { world });
    const prop = after.proposals[0]!;
    expect(prop.status).toBe("shadowed");
    expect(prop.approve.message_hex).toBe(
      hex(signingMessage("approval", approvalPayload(world, p.proposal_id, prop.patch_ref, s.report_hash))),
    );
  });

  it("a receipt's bundle as a resource verifies offline; an entry as a resource", async () => {
    const world = ids.get(W.fetcher)!;
    const sent = await call<{ seq: number; settled: boolean; pending: unknown[] }>(client, "send_event", {
      world,
      schema: "demo/Fetch@1",
      value: { key: "p", url: `${page.url}/page` },
    });
    expect(sent).toMatchObject({ settled: true, pending: [] });
    const receipts = await call<{ entries: { body: { intent_id: string; status: string } }[] }>(
      client,
      "query_journal",
      { world, kind: "effect_receipt" },
    );
    const intent = receipts.entries[0]!.body.intent_id;
    const r = await client.readResource({ uri: `worldkernel://${world}/receipts/${intent}` });
    const verdict = verifyBundle((r.contents[0] as { text: string }).text);
    expect(verdict).toMatchObject({ ok: true, world_id: world });
    const e = await client.readResource({ uri: `worldkernel://${world}/entries/${sent.seq}` });
    expect(JSON.parse((e.contents[0] as { text: string }).text)).toMatchObject({ seq: sent.seq, kind: "event" });
    await expect(client.readResource({ uri: `worldkernel://${world}/entries/999999` })).rejects.toMatchObject({
      code: -32002,
      data: { error: { code: "mcp.no_entry" } },
    });
    const t = await call<{ selected: number; nodes: number }>(client, "trace", { world, target: intent });
    expect(t.nodes).toBeGreaterThan(3);
    const x = await call<Record<string, unknown>>(client, "explain", { world, intent_id: intent });
    expect(JSON.stringify(x)).toContain("http.request");
    expect(await call(client, "verify", { world })).toMatchObject({ ok: true });
  });

  it("concurrent sends are serialized by the world's one writer; another process is refused the world", async () => {
    const world = ids.get(W.counter)!;
    const before = await height(world);
    const sent = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call<{ seq: number }>(client, "send_event", {
          world,
          schema: "demo/CounterEvent@1",
          value: { key: `c${i}`, by: 1 },
        }),
      ),
    );
    expect(new Set(sent.map((s) => s.seq)).size).toBe(8);
    expect(await height(world)).toBe(before + 16);
    const other = await wkAsync("send", "demo/CounterEvent@1", '{"key":"x","by":1}', "--world", W.counter, "--json");
    expect(other.status, other.stderr).toBe(1);
    expect(JSON.parse(other.stdout)).toMatchObject({ ok: false, code: "journal.locked" });
  });

  it("closing the client ends the process and seals its worlds", async () => {
    await client.close();
    for (const dir of [W.counter, W.governed, W.fetcher]) expect(await verifyWorldDir(dir)).toMatchObject({ ok: true });
    expect(stderr).toContain('"event":"stopped"');
  });
});
