/**
 * @module `POST /v1/worlds/:id/events` beyond the plain append (test/serve/api.test.ts).
 * Send and wait: `?wait=settled` answers once what the event
 * caused has run as far as it can — the fetch the gate allowed performed and its receipt's step
 * committed, so the cell already holds the result — and lists what still waits (an intent held
 * for an approver). A bad `wait` or `timeout_ms` is a 400 naming the query parameter, and nothing
 * is appended. One event's JSON is held to 1 MiB (413 `http.event_too_large`, naming the NDJSON
 * line), though a batch may be 16 MiB. A real server on 127.0.0.1 (in this process) and a real
 * page server. Idempotency keys are per token: another client's same key neither answers the
 * first client's result nor refuses with a conflict that would reveal it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorldkernelClient } from "../../tools/serve/client.js";
import { MAX_EVENT_BYTES } from "../../tools/serve/request-body.js";
import { startServer, type RunningServer } from "../../tools/serve/server.js";
import { makeWorlds, type McpWorlds } from "../mcp/fixture.js";
import { startPageServer, type PageServer } from "../world/page-server.js";

const TOKEN = "send-wait-token-0123456789abcdef";
const OTHER = "other-client-token-0123456789abcdef";
let W: McpWorlds;
let page: PageServer;
let server: RunningServer;
let c: WorldkernelClient;
let ids: Map<string, string>;

beforeAll(async () => {
  [W, page] = await Promise.all([makeWorlds(), startPageServer("a page to fetch")]);
  const file = join(W.parent, "..", "tokens.json");
  writeFileSync(
    file,
    JSON.stringify({
      tokens: [
        { token: TOKEN, roles: ["ingest", "read"], name: "t" },
        { token: OTHER, roles: ["ingest", "read"], name: "other client" },
      ],
    }),
    {
      mode: 0o600,
    },
  );
  server = await startServer({ worlds: [W.fetcher, W.governed], port: 0, tokensFile: file, consoleDir: null });
  c = new WorldkernelClient({ baseUrl: server.url, token: TOKEN });
  ids = new Map([...server.hosts.values()].map((h) => [h.dir, h.id]));
}, 120_000);

afterAll(async () => {
  await server?.close();
  await page?.close();
});

describe("POST /v1/worlds/:id/events?wait=settled", () => {
  it("answers after the allowed fetch was performed and its receipt's step committed", async () => {
    const id = ids.get(W.fetcher)!;
    const r = await c.send(
      id,
      { schema: "demo/Fetch@1", value: { key: "w", url: `${page.url}/page` } },
      { wait: true },
    );
    expect(r).toMatchObject({ settled: true, pending: [], steps: 1 });
    // No polling: the receipt and the step it caused are already in the journal.
    const page1 = await c.journal(id, { from: r.seq });
    const kinds = page1.entries.map((e) => e.kind);
    expect(kinds).toContain("effect_receipt");
    expect(kinds.lastIndexOf("step")).toBeGreaterThan(kinds.indexOf("effect_receipt"));
  });

  it("lists the intent held for an approver as pending", async () => {
    const id = ids.get(W.governed)!;
    const r = await c.send(
      id,
      { schema: "demo/Fetch@1", value: { key: "h", url: `${page.url}/held` } },
      { wait: true, timeoutMs: 30_000 },
    );
    expect(r.settled).toBe(true);
    expect(r.pending).toEqual([
      {
        intent_id: expect.stringMatching(/^sha256:/),
        kind: "http.request",
        module: expect.any(String),
        waiting: "approval",
      },
    ]);
  });

  it("a bad wait or timeout_ms is a 400 naming the parameter, and nothing is appended", async () => {
    const id = ids.get(W.fetcher)!;
    const before = (await c.journal(id, { limit: 1 })).height;
    for (const [q, path] of [
      ["wait=soon", "?wait"],
      ["wait=settled&timeout_ms=0", "?timeout_ms"],
      ["wait=settled&timeout_ms=61000", "?timeout_ms"],
      ["timeout_ms=5", "?timeout_ms"],
    ] as const) {
      const res = await fetch(`${server.url}/v1/worlds/${id}/events?${q}`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ schema: "demo/Fetch@1", value: { key: "x", url: `${page.url}/x` } }),
      });
      expect(res.status, q).toBe(400);
      expect(await res.json(), q).toMatchObject({ error: { code: "http.bad_query", path } });
    }
    expect((await c.journal(id, { limit: 1 })).height).toBe(before);
  });
});

describe("event size", () => {
  it("one event past 1 MiB is a 413 naming its line, within a body the batch limit allows; nothing is appended", async () => {
    const id = ids.get(W.fetcher)!;
    const before = (await c.journal(id, { limit: 1 })).height;
    const big = JSON.stringify({ schema: "demo/Fetch@1", value: { key: "big", url: "x".repeat(MAX_EVENT_BYTES) } });
    const small = JSON.stringify({ schema: "demo/Fetch@1", value: { key: "s", url: `${page.url}/s` } });
    const post = (body: string, ndjson: boolean) =>
      fetch(`${server.url}/v1/worlds/${id}/events`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${TOKEN}`,
          "content-type": ndjson ? "application/x-ndjson" : "application/json",
        },
        body,
      });
    const one = await post(big, false);
    expect(one.status).toBe(413);
    expect(await one.json()).toMatchObject({ error: { code: "http.event_too_large", path: "$" } });
    const batch = await post(`${small}\n${big}\n`, true);
    expect(batch.status).toBe(413);
    expect(await batch.json()).toMatchObject({ error: { code: "http.event_too_large", path: "line 2: $" } });
    expect((await c.journal(id, { limit: 1 })).height).toBe(before);
  });
});

describe("idempotency keys per token", () => {
  it("another token's same key is its own: no duplicate answered, no conflict to probe with; journaled scoped", async () => {
    const id = ids.get(W.fetcher)!;
    const other = new WorldkernelClient({ baseUrl: server.url, token: OTHER });
    const event = { schema: "demo/Fetch@1", value: { key: "k", url: `${page.url}/k` } };
    const mine = await c.send(id, event, { idempotencyKey: "order-1" });
    expect((await c.send(id, event, { idempotencyKey: "order-1" })).duplicate).toBe(true);
    // The other client, same key and body: a new append of its own, not the first client's result.
    const theirs = await other.send(id, event, { idempotencyKey: "order-1" });
    expect(theirs.duplicate).toBeUndefined();
    expect(theirs.seq).toBeGreaterThan(mine.seq);
    // Same key, another body: no 409 that would tell it the key is in use elsewhere.
    const probe = await other.send(
      id,
      { ...event, value: { key: "p", url: `${page.url}/p` } },
      { idempotencyKey: "order-2" },
    );
    expect(probe.duplicate).toBeUndefined();
    await c.send(id, { ...event, value: { key: "q", url: `${page.url}/q` } }, { idempotencyKey: "order-2" });
    const keys = (await c.journal(id, { from: mine.seq, kind: "event" })).entries
      .map((e) => (e.body as { origin: { kind: string; idempotency_key?: string } }).origin)
      .filter((o) => o.kind === "ingress")
      .map((o) => o.idempotency_key);
    expect(keys).toEqual([
      "token:t:order-1",
      "token:other%20client:order-1",
      "token:other%20client:order-2",
      "token:t:order-2",
    ]);
    // Each client traces the event it sent by the key it sent.
    expect((await c.trace(id, "order-1")).selected).toBe(mine.seq);
    expect((await other.trace(id, "order-1")).selected).toBe(theirs.seq);
  });
});
