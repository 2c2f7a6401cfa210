/**
 * @module The `wk serve` HTTP API against a real server process on 127.0.0.1, over the
 * counter world: every route's roles (the right one passes, no token is 401, a token lacking
 * the role is 403), bad bodies refused with a typed 4xx naming the JSON path and writing
 * nothing, idempotent retries, journal paging, the SSE stream (in order, resumable with
 * Last-Event-ID), metrics, and the drain on SIGTERM leaving a journal `wk verify` accepts and
 * the state `wk state` prints. Held intents and proposals are in approvals.test.ts.
 */
import { mkdtempSync, statSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { ApiError, type WorldkernelClient } from "../../tools/serve/client.js";
import type { Role } from "../../tools/serve/tokens.js";
import {
  REPO,
  clients,
  killLeftovers,
  openStream,
  poll,
  raw,
  serveRefused,
  startServe,
  wk,
  writeTokens,
  type RoleTokens,
  type Served,
} from "./server-fixture.js";

const EVENT = "demo/CounterEvent@1";
const ROLES: Role[] = ["ingest", "read", "approve", "admin"];

/** A fresh counter world (closed: the server owns it). */
async function counterWorld(): Promise<{ base: string; dir: string }> {
  const base = mkdtempSync(join(tmpdir(), "wk-serve-api-"));
  const dir = join(base, "w");
  const w = await createWorld(dir, sourceFromAirDir(join(REPO, "worlds/counter")));
  await w.close();
  return { base, dir };
}

const ev = (key: string, by: number) => ({ schema: EVENT, value: { key, by } });

afterAll(() => killLeftovers());

describe("wk serve over the counter world", () => {
  let dir = "";
  let s: Served;
  let tokens: RoleTokens;
  let c: Record<Role, WorldkernelClient>;
  let id = "";
  const w = (rest = "") => `${s.url}/v1/worlds/${id}${rest}`;
  const height = async () => (await c.read.journal(id, { limit: 1 })).height;

  beforeAll(async () => {
    const world = await counterWorld();
    dir = world.dir;
    const t = writeTokens(world.base);
    tokens = t.tokens;
    s = await startServe([dir], t.file);
    c = clients(s.url, tokens);
    id = s.worlds[0]!;
  });

  it("listens on loopback and names its world", () => {
    expect(new URL(s.url).hostname).toBe("127.0.0.1");
    expect(s.worlds).toHaveLength(1);
    expect(s.listening).toMatchObject({ event: "listening", created_tokens: false });
  });

  it("every route: the right role passes, no token is 401, a token lacking the role is 403", async () => {
    const sig = { decision: "allow", public_key: "00", signature: "00" };
    const routes: { method: string; path: string; role: Role; body?: unknown }[] = [
      { method: "GET", path: "/metrics", role: "read" },
      { method: "GET", path: "/v1/worlds", role: "read" },
      { method: "GET", path: `/v1/worlds/${id}`, role: "read" },
      { method: "POST", path: `/v1/worlds/${id}/events`, role: "ingest", body: ev("auth", 1) },
      { method: "GET", path: `/v1/worlds/${id}/state`, role: "read" },
      { method: "GET", path: `/v1/worlds/${id}/journal`, role: "read" },
      { method: "GET", path: `/v1/worlds/${id}/receipts`, role: "read" },
      { method: "GET", path: `/v1/worlds/${id}/receipts/nope`, role: "read" },
      { method: "GET", path: `/v1/worlds/${id}/receipts/nope/bundle`, role: "read" },
      { method: "GET", path: `/v1/worlds/${id}/verify`, role: "read" },
      { method: "GET", path: `/v1/worlds/${id}/approvals`, role: "read" },
      { method: "GET", path: `/v1/worlds/${id}/intents/nope/approval-message`, role: "approve" },
      { method: "POST", path: `/v1/worlds/${id}/intents/nope/decision`, role: "approve", body: sig },
      { method: "GET", path: `/v1/worlds/${id}/proposals`, role: "read" },
      { method: "GET", path: `/v1/worlds/${id}/proposals/nope`, role: "read" },
      { method: "GET", path: `/v1/worlds/${id}/proposals/nope/approval-message`, role: "approve" },
      { method: "POST", path: `/v1/worlds/${id}/proposals/nope/approvals`, role: "approve", body: sig },
      { method: "POST", path: `/v1/worlds/${id}/proposals/nope/apply`, role: "admin" },
    ];
    const before = await height();
    for (const r of routes) {
      const send = (token: string | undefined, headers: Record<string, string> = {}) =>
        raw(`${s.url}${r.path}`, token, {
          method: r.method,
          headers: { "content-type": "application/json", ...headers },
          ...(r.body === undefined ? {} : { body: JSON.stringify(r.body) }),
        });
      const where = `${r.method} ${r.path}`;
      const none = await send(undefined);
      expect(none.status, where).toBe(401);
      expect(none.json, where).toMatchObject({ error: { code: "auth.missing_token" } });
      const bad = await send("not-a-token-this-server-knows");
      expect(bad.status, where).toBe(401);
      expect(bad.json, where).toMatchObject({ error: { code: "auth.bad_token" } });
      const basic = await send(undefined, { authorization: `Basic ${tokens.admin}` });
      expect(basic.status, where).toBe(401);
      for (const role of ROLES.filter((x) => x !== r.role && x !== "admin")) {
        const res = await send(tokens[role]);
        expect(res.status, `${where} as ${role}`).toBe(403);
        expect(res.json, `${where} as ${role}`).toMatchObject({ error: { code: "auth.forbidden" } });
      }
      // Past the gate: a route over a missing intent or proposal answers 404 or 400, never 401/403.
      for (const role of [r.role, "admin"] as const) {
        const res = await send(tokens[role]);
        expect([401, 403], `${where} as ${role}: ${res.text}`).not.toContain(res.status);
        expect(res.status, `${where} as ${role}: ${res.text}`).toBeLessThan(500);
      }
    }
    // The one event route passed twice (ingest, admin); every refused request wrote nothing.
    expect(await height()).toBe(before + 4);
  });

  it("appends an event (201, durable) and shows it in state, journal, info and the world list", async () => {
    const before = await height();
    const res = await raw(w("/events"), tokens.ingest, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(ev("a", 5)),
    });
    expect(res.status).toBe(201);
    const r = res.json as { seq: number; entries: number; steps: number; failures: number };
    expect(r).toMatchObject({ seq: before, steps: 1, failures: 0 });
    expect(r).not.toHaveProperty("duplicate");
    expect(await height()).toBe(before + r.entries);

    const cell = await c.read.state(id, { module: "demo/Counter@1", key: "a" });
    expect(cell.cells).toEqual([expect.objectContaining({ module: "demo/Counter@1", key: "a" })]);
    expect(cell.cells[0]!.state).toMatchObject({ count: 5, events: 1 });
    const page = await c.read.journal(id, { from: before, limit: 10 });
    expect(page.entries[0]).toMatchObject({ seq: before, kind: "event", body: { value: { key: "a", by: 5 } } });
    expect(page.entries.map((e) => e.seq)).toEqual(page.entries.map((_, i) => before + i));

    const info = await c.read.info(id);
    expect(info).toMatchObject({ pending: { pendingIntents: 0, pendingApprovals: 0 } });
    const list = await c.read.worlds();
    expect(list).toEqual([expect.objectContaining({ id, dir, height: before + r.entries })]);
    expect(list[0]!.head!.seq).toBe(before + r.entries - 1);

    expect(await c.read.receipts(id)).toEqual([]);
    expect(await c.read.heldIntents(id)).toEqual([]);
    expect(await c.read.proposals(id)).toEqual([]);
    expect(await c.read.verify(id)).toMatchObject({ ok: true });
  });

  it("refuses bad bodies with a typed 4xx naming the place, and writes nothing", async () => {
    const json = { "content-type": "application/json" };
    const ndjson = { "content-type": "application/x-ndjson" };
    const line = (o: unknown) => JSON.stringify(o);
    const cases: {
      name: string;
      body: string | Uint8Array;
      headers?: Record<string, string>;
      status: number;
      code: string;
      path?: string | RegExp;
    }[] = [
      { name: "not JSON", body: '{"schema": "demo/CounterEvent@1",', status: 400, code: "air.invalid_json", path: "$" },
      { name: "empty", body: "", status: 400, code: "air.invalid_json", path: "$" },
      { name: "an array", body: "[]", status: 400, code: "http.bad_body", path: "$" },
      {
        name: "no schema",
        body: line({ value: { key: "a", by: 1 } }),
        status: 400,
        code: "http.bad_body",
        path: "$.schema",
      },
      {
        name: "schema not text",
        body: line({ schema: 7, value: {} }),
        status: 400,
        code: "http.bad_body",
        path: "$.schema",
      },
      { name: "no value", body: line({ schema: EVENT }), status: 400, code: "http.bad_body", path: "$.value" },
      { name: "unknown field", body: line({ ...ev("a", 1), extra: 1 }), status: 400, code: "http.bad_body", path: "$" },
      {
        name: "empty idempotency_key",
        body: line({ ...ev("a", 1), idempotency_key: "" }),
        status: 400,
        code: "http.bad_body",
        path: "$.idempotency_key",
      },
      {
        name: "unknown schema",
        body: line({ schema: "demo/Nope@1", value: {} }),
        status: 400,
        code: "kernel.unknown_schema",
        path: "$.schema",
      },
      { name: "negative by", body: line(ev("a", -1)), status: 400, code: "kernel.bad_event", path: "$.value.by" },
      {
        name: "by not a number", // (decimal text is a nat's JSON form too, so "1" would pass)
        body: line({ schema: EVENT, value: { key: "a", by: "one" } }),
        status: 400,
        code: "kernel.bad_event",
        path: "$.value.by",
      },
      {
        name: "by missing",
        body: line({ schema: EVENT, value: { key: "a" } }),
        status: 400,
        code: "kernel.bad_event",
        path: "$.value.by",
      },
      {
        name: "by beyond u64",
        body: `{"schema":"${EVENT}","value":{"key":"a","by":18446744073709551616}}`,
        status: 400,
        code: "kernel.bad_event",
        path: "$.value.by",
      },
      {
        name: "by 1e-400 (not the nat 0: never rounded through a double)",
        body: `{"schema":"${EVENT}","value":{"key":"a","by":1e-400}}`,
        status: 400,
        code: "kernel.bad_event",
        path: "$.value.by",
      },
      {
        name: "by 1e400 (not Infinity)",
        body: `{"schema":"${EVENT}","value":{"key":"a","by":1e400}}`,
        status: 400,
        code: "kernel.bad_event",
        path: "$.value.by",
      },
      {
        name: "value null",
        body: line({ schema: EVENT, value: null }),
        status: 400,
        code: "kernel.bad_event",
        path: "$.value",
      },
      {
        name: "lone surrogate",
        body: `{"schema":"${EVENT}","value":{"key":"\\ud800","by":1}}`,
        status: 400,
        code: "kernel.bad_event",
        path: "$.value.key",
      },
      {
        name: "invalid UTF-8",
        body: Buffer.concat([
          Buffer.from(`{"schema":"${EVENT}","value":{"key":"`),
          Buffer.from([0xff]),
          Buffer.from('","by":1}}'),
        ]),
        status: 400,
        code: "air.invalid_unicode",
        path: /^@\d+$/, // the JSON layer names the byte offset of invalid UTF-8
      },
      {
        name: "NDJSON: line 2 breaks the schema (line 1 is not written either)",
        body: `${line(ev("nd", 1))}\n${line(ev("nd", -1))}\n`,
        headers: ndjson,
        status: 400,
        code: "kernel.bad_event",
        path: "line 2: $.value.by",
      },
      {
        name: "NDJSON: line 3 is not JSON (blank lines count)",
        body: `${line(ev("nd", 1))}\n\n{"schema"\n`,
        headers: ndjson,
        status: 400,
        code: "air.invalid_json",
        path: "line 3: $",
      },
      {
        name: "NDJSON: line 2 has an unknown field",
        body: `${line(ev("nd", 1))}\r\n${line({ ...ev("nd", 1), by: 2 })}\r\n`.replace('"by":2', '"by":2,"x":0'),
        headers: ndjson,
        status: 400,
        code: "http.bad_body",
        path: "line 2: $",
      },
      { name: "NDJSON: no event", body: "\n  \n", headers: ndjson, status: 400, code: "http.bad_body", path: "$" },
      {
        name: "NDJSON: one key twice for different events",
        body: `${line({ ...ev("nd", 1), idempotency_key: "twice" })}\n${line({ ...ev("nd", 2), idempotency_key: "twice" })}\n`,
        headers: ndjson,
        status: 409,
        code: "kernel.idempotency_conflict",
      },
      {
        name: "empty Idempotency-Key header",
        body: line(ev("a", 1)),
        headers: { ...json, "idempotency-key": "" },
        status: 400,
        code: "http.bad_header",
        path: "Idempotency-Key",
      },
    ];
    const before = await height();
    for (const k of cases) {
      const res = await raw(w("/events"), tokens.ingest, { method: "POST", body: k.body, headers: k.headers ?? json });
      expect(res.status, `${k.name}: ${res.text}`).toBe(k.status);
      const e = (res.json as { error: { code: string; message: string; path?: string } }).error;
      expect(e.code, k.name).toBe(k.code);
      expect(typeof e.message, k.name).toBe("string");
      if (k.path instanceof RegExp) expect(e.path, k.name).toMatch(k.path);
      else if (k.path !== undefined) expect(e.path, k.name).toBe(k.path);
      expect(await height(), `${k.name} wrote nothing`).toBe(before);
    }
    const nope = await raw(`${s.url}/v1/worlds/no-such-world/events`, tokens.ingest, {
      method: "POST",
      body: line(ev("a", 1)),
      headers: json,
    });
    expect(nope.status).toBe(404);
    expect(nope.json).toMatchObject({ error: { code: "http.no_world", path: "no-such-world" } });
    expect(await c.read.verify(id)).toMatchObject({ ok: true, entries: before });
  });

  it("refuses a body over 16 MiB with 413, declared or streamed, and writes nothing", async () => {
    const before = await height();
    const big = new Uint8Array(16 * 1024 * 1024 + 1).fill(0x20);
    const declared = await raw(w("/events"), tokens.ingest, {
      method: "POST",
      body: big,
      headers: { "content-type": "application/json" },
    });
    expect(declared.status).toBe(413);
    expect(declared.json).toMatchObject({ error: { code: "http.body_too_large" } });
    // Chunked, with no length declared: refused as the bytes pass the limit.
    const chunk = new Uint8Array(1024 * 1024).fill(0x20);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(ctl) {
        if (sent++ < 17) ctl.enqueue(chunk);
        else ctl.close();
      },
    });
    const res = await fetch(w("/events"), {
      method: "POST",
      headers: { authorization: `Bearer ${tokens.ingest}`, "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: "http.body_too_large" } });
    expect(await height()).toBe(before);
  });

  it("requests in flight together commit together, each answered alone: a key two of them use for different bodies fails only one", async () => {
    const h = await height();
    // 20 requests at once; two of them share key k-race with different bodies.
    const sends = Array.from({ length: 20 }, (_, i) =>
      c.ingest.send(id, ev(`race${i % 4}`, i + 1), { idempotencyKey: i < 2 ? "k-race" : `k-race-${i}` }).then(
        (r) => ({ ok: true as const, r }),
        (e: unknown) => ({ ok: false as const, e }),
      ),
    );
    const out = await Promise.all(sends);
    const refused = out.filter((o) => !o.ok);
    expect(refused, JSON.stringify(refused)).toHaveLength(1);
    expect(refused[0]).toMatchObject({ e: { status: 409, code: "kernel.idempotency_conflict" } });
    const seqs = out.flatMap((o) => (o.ok ? [o.r.seq] : []));
    expect(new Set(seqs).size, "every acknowledged request has its own event").toBe(19);
    // 19 events journaled, wherever the groups fell (and whatever checkpoints they crossed).
    expect(
      (await c.read.journal(id, { from: h, kind: "event", limit: 1000 })).entries.map((e) => e.seq).sort(),
    ).toEqual([...seqs].sort());
    expect(await c.read.verify(id)).toMatchObject({ ok: true });
  });

  it("idempotent retries: same key → same seq, duplicate, nothing appended; another body → 409", async () => {
    const first = await c.ingest.send(id, ev("idem", 2), { idempotencyKey: "k-single" });
    const h = await height();
    const res = await raw(w("/events"), tokens.ingest, {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "k-single" },
      // The same event with its fields reordered is the same request.
      body: `{"value":{"by":2,"key":"idem"},"schema":"${EVENT}"}`,
    });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ...first, duplicate: true });
    expect(await height()).toBe(h);

    const conflict = await c.ingest.send(id, ev("idem", 3), { idempotencyKey: "k-single" }).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(ApiError);
    expect(conflict).toMatchObject({ status: 409, code: "kernel.idempotency_conflict" });
    expect(await height()).toBe(h);

    // The key in the body works like the header.
    const inBody = await c.ingest.send(id, { ...ev("idem", 4), idempotency_key: "k-body" });
    expect(await c.ingest.send(id, { ...ev("idem", 4), idempotency_key: "k-body" })).toEqual({
      ...inBody,
      duplicate: true,
    });

    // NDJSON under one header key: line i is `<key>#i`.
    const batch = [ev("idem", 1), ev("idem2", 1)];
    const h0 = await height();
    const r1 = await c.ingest.sendMany(id, batch, { idempotencyKey: "k-batch" });
    expect(r1.map((r) => r.duplicate)).toEqual([undefined, undefined]);
    expect(r1[0]!.seq).toBe(h0);
    const h1 = await height();
    const again = await raw(w("/events"), tokens.ingest, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson", "idempotency-key": "k-batch" },
      body: batch.map((e) => JSON.stringify(e)).join("\n"),
    });
    expect(again.status).toBe(200);
    expect((again.json as { results: unknown[] }).results).toEqual(r1.map((r) => ({ ...r, duplicate: true })));
    expect(await height()).toBe(h1);
    // Line 0 alone under `k-batch#0` (a single request) is the same request too.
    expect(await c.ingest.send(id, batch[0]!, { idempotencyKey: "k-batch#0" })).toEqual({ ...r1[0], duplicate: true });
    // A longer retry appends only the new line (201).
    const longer = await c.ingest.sendMany(id, [...batch, ev("idem3", 1)], { idempotencyKey: "k-batch" });
    expect(longer.map((r) => r.duplicate === true)).toEqual([true, true, false]);
    expect(longer[2]!.seq).toBe(h1);
    const h2 = await height();
    // The same key with line 1 changed is a conflict naming `k-batch#1`; line 0 is not appended either.
    const changed = await c.ingest
      .sendMany(id, [batch[0]!, ev("idem2", 9)], { idempotencyKey: "k-batch" })
      .catch((e: unknown) => e);
    expect(changed).toMatchObject({ status: 409, code: "kernel.idempotency_conflict" });
    expect((changed as Error).message).toContain("k-batch#1");
    expect(await height()).toBe(h2);
    expect((await c.read.state(id, { module: "demo/Counter@1", key: "idem" })).cells[0]!.state).toMatchObject({
      count: 2 + 4 + 1,
      events: 3,
    });
  });

  it("pages the journal with from/limit/next and filters by kind; bad queries are 400 naming the parameter", async () => {
    const { height: total } = await c.read.journal(id, { limit: 1 });
    const seen: number[] = [];
    let from: number | null = 0;
    let pages = 0;
    while (from !== null) {
      const page: { entries: { seq: number }[]; next: number | null } = await c.read.journal(id, { from, limit: 7 });
      expect(page.entries.length).toBeLessThanOrEqual(7);
      seen.push(...page.entries.map((e) => e.seq));
      from = page.next;
      pages++;
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(pages).toBe(Math.ceil(total / 7));
    const events = await c.read.journal(id, { kind: "event", limit: 1000 });
    expect(events.entries.length).toBeGreaterThan(0);
    expect(events.entries.every((e) => e.kind === "event")).toBe(true);
    expect(await c.read.journal(id, { from: total + 100 })).toEqual({ entries: [], next: null, height: total });

    for (const [q, path] of [
      ["from=-1", "?from"],
      ["from=1.5", "?from"],
      ["limit=ten", "?limit"],
      ["kind=bogus", "?kind"],
    ] as const) {
      const res = await raw(w(`/journal?${q}`), tokens.read);
      expect(res.status, q).toBe(400);
      expect(res.json, q).toMatchObject({ error: { code: "http.bad_query", path } });
    }
    const dec = await raw(w("/intents/x/approval-message?decision=maybe"), tokens.approve);
    expect(dec.json).toMatchObject({ error: { code: "http.bad_query", path: "?decision" } });
    const mod = await raw(w("/state?module=demo/Nope@1"), tokens.read);
    expect(mod.status).toBe(404);
    expect(mod.json).toMatchObject({ error: { code: "http.no_module", path: "?module" } });
  });

  it("answers unknown routes and worlds with typed 404s, and redirects / to the console", async () => {
    const route = await raw(`${s.url}/v1/nope`, tokens.read);
    expect(route.status).toBe(404);
    expect(route.json).toMatchObject({ error: { code: "http.not_found" } });
    const put = await raw(w("/events"), tokens.admin, { method: "PUT", body: "{}" });
    expect(put.json).toMatchObject({ error: { code: "http.not_found" } });
    const world = await raw(`${s.url}/v1/worlds/nope/state`, tokens.read);
    expect(world.status).toBe(404);
    expect(world.json).toMatchObject({ error: { code: "http.no_world" } });
    for (const p of ["/receipts/nope", "/receipts/nope/bundle"]) {
      const r = await raw(w(p), tokens.read);
      expect(r.status, p).toBe(404);
      expect(r.json, p).toMatchObject({ error: { code: "http.no_receipt", path: "nope" } });
    }
    const prop = await raw(w("/proposals/nope"), tokens.read);
    expect(prop.json).toMatchObject({ error: { code: "governance.unknown_proposal" } });
    const home = await raw(`${s.url}/`, undefined);
    expect(home.status).toBe(302);
    expect(home.headers.get("location")).toBe("/console/");
  });

  it("streams entries in order with their seq as id, and resumes after Last-Event-ID", async () => {
    const start = await height();
    const live = await openStream(w(`/stream?from=${start}`), tokens.read);
    expect(live.status).toBe(200);
    expect(live.contentType).toMatch(/^text\/event-stream/);
    const sent = [
      await c.ingest.send(id, ev("sse", 1)),
      ...(await c.ingest.sendMany(id, [ev("sse", 2), ev("sse", 3)])),
    ];
    const end = await height();
    const got = await live.until((e) => e.event === "entry" && Number(e.id) === end - 1);
    live.close();
    const entries = got.filter((e) => e.event === "entry");
    expect(got.filter((e) => e.event !== "entry")).toEqual([]); // the counter holds nothing for approval
    expect(entries.map((e) => Number(e.id))).toEqual(Array.from({ length: end - start }, (_, i) => start + i));
    for (const e of entries) expect((JSON.parse(e.data) as { seq: number }).seq).toBe(Number(e.id));
    const bySeq = new Map(entries.map((e) => [Number(e.id), JSON.parse(e.data) as { kind: string; body: never }]));
    for (const [i, r] of sent.entries()) {
      const entry = bySeq.get(r.seq)!;
      expect(entry.kind).toBe("event");
      expect(entry.body).toMatchObject({ value: { key: "sse", by: i + 1 } });
    }

    // A reconnect naming the last id it saw gets what followed, and live entries after.
    const mid = sent[1]!.seq;
    const resumed = await openStream(w("/stream"), tokens.read, { "last-event-id": String(mid) });
    const first = await resumed.next();
    expect(first).toMatchObject({ event: "entry", id: String(mid + 1) });
    const more = await c.ingest.send(id, ev("sse", 4));
    const rest = await resumed.until((e) => Number(e.id) === more.seq);
    resumed.close();
    expect([first, ...rest].map((e) => Number(e.id))).toEqual(
      Array.from({ length: more.seq - mid }, (_, i) => mid + 1 + i),
    );

    // From the start: genesis first.
    const all = await openStream(w("/stream?from=0"), tokens.read);
    expect(await all.next()).toMatchObject({ event: "entry", id: "0" });
    all.close();

    // From beyond the head: nothing before that seq is ever sent.
    const ahead = (await height()) + 3;
    const future = await openStream(w(`/stream?from=${ahead}`), tokens.read);
    const firstSent = await c.ingest.send(id, ev("sse", 5));
    for (let i = 0; i < 3; i++) await c.ingest.send(id, ev("sse", 6));
    expect(firstSent.seq).toBeLessThan(ahead);
    const after = await future.next();
    future.close();
    expect(Number(after.id)).toBe(ahead);

    const forbidden = await raw(w("/stream"), tokens.ingest);
    expect(forbidden.status).toBe(403);
  });

  it("exposes Prometheus metrics after traffic", async () => {
    const text = await c.read.metrics();
    for (const name of [
      "wk_steps_total",
      "wk_gate_decisions_total",
      "wk_effect_duration_seconds",
      "wk_journal_append_seconds",
      "wk_pending_approvals",
      "wk_idempotency_requests_total",
      "wk_oversight_gated",
      "wk_oversight_detection_lag_seconds",
    ])
      expect(text, name).toContain(`# TYPE ${name} `);
    // Samples, not only declarations: steps ran and appends were timed.
    const steps = /^wk_steps_total\{[^}]*\} (\d+)/m.exec(text);
    expect(steps, text).not.toBeNull();
    expect(Number(steps![1])).toBeGreaterThan(0);
    expect(text).toMatch(/^wk_journal_append_seconds_count\{[^}]*\} [1-9]/m);
    expect(text).toMatch(/^wk_pending_approvals\{[^}]*\} 0$/m);
    // The idempotent retries above: answered from earlier appends, and the first sends appended.
    expect(text).toMatch(/^wk_idempotency_requests_total\{[^}]*result="hit"[^}]*\} [1-9]/m);
    expect(text).toMatch(/^wk_idempotency_requests_total\{[^}]*result="miss"[^}]*\} [1-9]/m);
    // The counter world asks for no effect: the audit ratio has nothing to count, so no sample.
    expect(text).not.toMatch(/^wk_oversight_audit_receipt_completeness_ratio\{/m);
    expect(text).toMatch(/^wk_oversight_detections\{[^}]*detector="retry_storm"[^}]*\} \d+$/m);
  });

  it("drains on SIGTERM with a stream open: exits 0, the journal verifies, wk state equals GET state", async () => {
    const stream = await openStream(w("/stream"), tokens.read);
    const state = await c.read.state(id);
    const stopped = await s.stop();
    expect(stopped.code, s.stderr()).toBe(0);
    expect(stopped.lines.at(-1)).toEqual({ event: "stopped" });
    await expect(stream.next()).rejects.toThrow(); // the drain ended the stream
    const v = wk("verify", "--world", dir, "--json");
    expect(v.status, v.stdout + v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true });
    const st = wk("state", "--world", dir);
    expect(st.status, st.stderr).toBe(0);
    expect(JSON.parse(st.stdout)).toEqual(state);
  });
});

describe("wk serve's tokens file", () => {
  it("refuses to start with a tokens file others can read (0644)", async () => {
    const { base, dir } = await counterWorld();
    const t = writeTokens(base, 0o644);
    expect(statSync(t.file).mode & 0o777).toBe(0o644);
    const r = await serveRefused([dir], t.file);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("serve.tokens_permissions");
    expect(r.stdout).not.toContain("listening");
  });

  it("without --tokens writes serve-tokens.json (0600, one admin token) beside the world, and says so", async () => {
    const { dir } = await counterWorld();
    const s = await startServe([dir]);
    try {
      const file = join(dir, "serve-tokens.json");
      expect(s.listening).toMatchObject({ created_tokens: true, tokens: file });
      // Said on stderr just after the listening line (so read it once it is there).
      await poll(async () => (s.stderr().includes(file) ? true : undefined), "the tokens notice on stderr");
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const written = JSON.parse(readFileSync(file, "utf8")) as { tokens: { token: string; roles: string[] }[] };
      expect(written.tokens).toHaveLength(1);
      expect(written.tokens[0]!.roles).toEqual(["admin"]);
      expect(
        s
          .lines()
          .map((l) => JSON.stringify(l))
          .join("\n"),
      ).not.toContain(written.tokens[0]!.token);
      const admin = clients(s.url, { ingest: "", read: "", approve: "", admin: written.tokens[0]!.token }).admin;
      expect(await admin.send(s.worlds[0]!, ev("t", 1))).toMatchObject({ steps: 1 });
    } finally {
      expect((await s.stop()).code).toBe(0);
    }
  });
});
