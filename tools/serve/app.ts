/**
 * @module The HTTP API of `wk serve` (Hono), versioned under `/v1`, JSON in and out. Every
 * route but the console's static files needs a bearer token with the route's role; a world
 * is named by its id. Writes answer once their entries are durable; refusals are typed
 * (`{"error": {"code", "message", "path"}}`) and write nothing.
 */
import { Hono, type Context } from "hono";
import { streamSSE } from "hono/streaming";
import { decodeStored } from "../../air/cbor/decode.js";
import { cellKeyText } from "../../kernel/core/cells.js";
import { exportBundle } from "../../kernel/crypto/bundle.js";
import { presignedSigner } from "../../kernel/crypto/signer.js";
import { entryToJson } from "../../kernel/journal/entry-json.js";
import { isEntryKind } from "../../kernel/journal/entries.js";
import type { JournalEntry } from "../../kernel/journal/index.js";
import { heldIntentMessage } from "../../kernel/world/approvals.js";
import {
  approvalMessage,
  approve,
  apply,
  denialMessage,
  denyProposal,
  listProposals,
} from "../../kernel/world/governance.js";
import { infoOfStore } from "../../kernel/world/info.js";
import { admit } from "../../kernel/world/ingress.js";
import { intentRows } from "../../kernel/world/intent-rows.js";
import { openWorldJournalReadonly } from "../../kernel/world/journal-open.js";
import { verifyWorldDir } from "../../kernel/world/verify-world.js";
import { stateJson } from "../cli/commands/world.js";
import { HttpError, errorBody, statusOf } from "./errors.js";
import type { ServerMetrics } from "./metrics.js";
import {
  EventRequestSchema,
  checkEventSize,
  ndjsonLines,
  parseBody,
  readBody,
  type EventRequest,
} from "./request-body.js";
import type { Role, Tokens } from "./tokens.js";
import { awaitingApproval, worldSummary, type WorldHost } from "./world-host.js";
import { consoleRoutes } from "./console-files.js";
import { tokenScopedKey } from "./idempotency.js";
import { pendingOf, settledWithin, waitOf } from "./settle.js";
import { webhookEvent } from "./webhook.js";
import { traceRoutes } from "./trace-routes.js";
import { mcpRoute } from "./mcp-route.js";
import type { Tracing } from "./tracing.js";
import { z } from "zod";

/** What the routes serve. */
export interface AppContext {
  hosts: ReadonlyMap<string, WorldHost>;
  tokens: Tokens;
  metrics: ServerMetrics;
  /** True once SIGTERM arrived: new writes are refused with 503 while the server drains. */
  draining: () => boolean;
  /** Where the console's built files are (null: not built; the console routes say how to build it). */
  consoleDir: string | null;
  /** Keep-alive comment interval of event streams (ms). */
  keepAliveMs?: number;
  /** OpenTelemetry spans, or null when tracing is off. */
  tracing?: Tracing | null;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const DecisionSchema = z.strictObject({
  decision: z.enum(["allow", "deny"]),
  public_key: z.string(),
  signature: z.string(),
});
const ApprovalSchema = z.strictObject({
  public_key: z.string(),
  signature: z.string(),
  accept_failures: z.boolean().optional(),
});

const DenialSchema = z.strictObject({
  public_key: z.string(),
  signature: z.string(),
  reason: z.string().min(1),
});

/** The `reason` query parameter of a denial (400 when absent). */
function reasonParam(v: string | undefined): string {
  if (v === undefined || v.trim() === "")
    throw new HttpError(400, "http.bad_query", "a denial needs a reason: ?reason=…", { path: "?reason" });
  return v;
}

/** A non-negative integer query parameter (400 naming it otherwise). */
function seqParam(c: Context, name: string, fallback: number): number {
  const v = c.req.query(name);
  if (v === undefined || v === "") return fallback;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new HttpError(400, "http.bad_query", `${name} must be a non-negative integer, got ${JSON.stringify(v)}`, {
      path: `?${name}`,
    });
  return n;
}

/** Builds the Hono app over the hosted worlds. */
export function createApp(ctx: AppContext): Hono {
  const app = new Hono();
  const auth = (c: Context, role: Role) => ctx.tokens.require(c.req.header("authorization"), role);
  const host = (c: Context): WorldHost => {
    const id = c.req.param("id")!;
    const h = ctx.hosts.get(id);
    if (h === undefined) throw new HttpError(404, "http.no_world", `this server hosts no world ${id}`, { path: id });
    return h;
  };
  const writable = () => {
    if (ctx.draining()) throw new HttpError(503, "http.draining", "the server is shutting down; retry on its restart");
  };

  app.use("*", async (c, next) => {
    await next();
    const route = c.req.routePath;
    ctx.metrics.http.inc({ method: c.req.method, route, status: String(c.res.status) });
  });
  app.onError((e, c) => {
    const status = statusOf(e);
    if (status === 500) process.stderr.write(`wk serve: ${(e as Error).stack ?? String(e)}\n`);
    // A body refused as too large is left unread on the socket: close the connection, or a
    // keep-alive client sends its next request into the rest of that body (RFC 9110 §15.5.14).
    return c.json(errorBody(e), status as 400, status === 413 ? { connection: "close" } : {});
  });
  app.notFound((c) =>
    c.json({ error: { code: "http.not_found", message: `no route ${c.req.method} ${c.req.path}` } }, 404),
  );

  app.get("/metrics", async (c) => {
    auth(c, "read");
    return c.text(await ctx.metrics.registry.metrics(), 200, { "content-type": ctx.metrics.registry.contentType });
  });

  app.get("/v1/worlds", (c) => {
    auth(c, "read");
    return c.json({ worlds: [...ctx.hosts.values()].map((h) => worldSummary(h)) });
  });

  app.get("/v1/worlds/:id", (c) => {
    auth(c, "read");
    const h = host(c);
    return c.json({ ...infoOfStore(h.dir, h.world.store), pending: h.gauges() });
  });

  app.post("/v1/worlds/:id/events", async (c) => {
    const client = auth(c, "ingest").name;
    writable();
    const h = host(c);
    const key = c.req.header("idempotency-key");
    // Held to the body field's bounds: an empty header would otherwise be one key shared by
    // every request sending it, so a second, different event under it would be swallowed.
    if (key !== undefined && (key.length === 0 || key.length > 512))
      throw new HttpError(400, "http.bad_header", "Idempotency-Key must be 1 to 512 characters", {
        path: "Idempotency-Key",
      });
    const wait = waitOf(c.req.query("wait"), c.req.query("timeout_ms"));
    const bytes = await readBody(c.req.raw);
    const ndjson = /^application\/(x-)?ndjson\b/.test(c.req.header("content-type") ?? "");
    const requests: { where: string; r: EventRequest }[] = ndjson
      ? ndjsonLines(bytes).map((l) => {
          checkEventSize(l.bytes, `line ${l.line}: `);
          return { where: `line ${l.line}: `, r: parseBody(l.bytes, EventRequestSchema, `line ${l.line}: `) };
        })
      : [{ where: "", r: (checkEventSize(bytes), parseBody(bytes, EventRequestSchema)) }];
    if (requests.length === 0) throw new HttpError(400, "http.bad_body", "the body holds no event", { path: "$" });
    const events = requests.map(({ r }, i) => {
      const k = r.idempotency_key ?? (key === undefined ? undefined : ndjson ? `${key}#${i}` : key);
      return {
        schema: r.schema,
        json: r.value,
        ...(k === undefined ? {} : { idempotencyKey: tokenScopedKey(client, k) }),
      };
    });
    // Admit every event first, naming the line and the place inside it; idempotency keys are
    // left to the group commit, which checks them against the journal under the writer lock.
    const admitted = admit(h.world.catalog, events);
    const bad = admitted.ok ? undefined : admitted.issues.find((i) => i.code !== "kernel.idempotency_conflict");
    if (bad !== undefined) {
      const where = requests[bad.index]!.where;
      throw new HttpError(400, bad.code, `${where}${bad.message}`, { path: `${where}${bad.path}` });
    }
    const started = process.hrtime.bigint();
    const results = ctx.tracing
      ? await ctx.tracing.ingress(
          h.id,
          (seq) => h.world.store.getSync(seq),
          () => h.send(events),
        )
      : await h.send(events);
    ctx.metrics.append.observe({ world: h.id }, Number(process.hrtime.bigint() - started) / 1e9);
    ctx.metrics.idempotent(h.id, events, results);
    // With ?wait=settled, answer once what the events caused has run as far as it can.
    const settled =
      wait === undefined
        ? {}
        : {
            settled: await settledWithin(h, wait),
            pending: pendingOf(
              h,
              results.map((r) => r.seq),
            ),
          };
    if (!ndjson) return c.json({ ...results[0]!, ...settled }, results[0]!.duplicate === true ? 200 : 201);
    return c.json({ results, ...settled }, results.every((r) => r.duplicate === true) ? 200 : 201);
  });

  // No bearer token: a webhook's sender proves itself with the HMAC of the body (webhook.ts).
  app.post("/v1/worlds/:id/webhooks/:name", async (c) => {
    writable();
    const h = host(c);
    const bytes = await readBody(c.req.raw);
    checkEventSize(bytes);
    const world = { config: h.world.config, catalog: h.world.catalog, secrets: h.secrets };
    const nowS = h.world.nowNs() / 1_000_000_000n;
    const event = webhookEvent(world, c.req.param("name"), bytes, (n) => c.req.header(n), nowS);
    const admitted = admit(h.world.catalog, [event]);
    const bad = admitted.ok ? undefined : admitted.issues.find((i) => i.code !== "kernel.idempotency_conflict");
    if (bad !== undefined) throw new HttpError(400, bad.code, bad.message, { path: bad.path });
    const results = await h.send([event]);
    ctx.metrics.idempotent(h.id, [event], results);
    const result = results[0];
    return c.json(result!, result!.duplicate === true ? 200 : 201);
  });

  app.get("/v1/worlds/:id/state", (c) => {
    auth(c, "read");
    const h = host(c);
    const w = h.world;
    const module = c.req.query("module");
    const key = c.req.query("key");
    if (module !== undefined && !w.catalog.modules.has(module))
      throw new HttpError(
        404,
        "http.no_module",
        `no module ${module} (modules: ${[...w.catalog.modules.keys()].join(", ")})`,
        {
          path: "?module",
        },
      );
    const cells = w.state.cells
      .list()
      .filter((x) => (module === undefined || x.module === module) && (key === undefined || cellKeyText(x.key) === key))
      .map((x) => ({
        module: x.module,
        key: cellKeyText(x.key),
        state_hash: x.hash,
        state: x.bytes.length === 0 ? null : stateJson(w, x.module, decodeStored(x.bytes)),
      }));
    return c.json({ state_root: w.state.cells.stateRoot(), cells });
  });

  app.get("/v1/worlds/:id/journal", (c) => {
    auth(c, "read");
    const h = host(c);
    const from = seqParam(c, "from", 0);
    const limit = Math.min(1000, Math.max(1, seqParam(c, "limit", 100)));
    const kind = c.req.query("kind");
    if (kind !== undefined && !isEntryKind(kind))
      throw new HttpError(400, "http.bad_query", `unknown entry kind ${JSON.stringify(kind)}`, { path: "?kind" });
    const entries: Record<string, unknown>[] = [];
    let next: number | null = null;
    // Read synchronously to the end of the page: no write interleaves with the open statement.
    for (const e of h.world.store.iterateSync(from)) {
      if (entries.length === limit) {
        next = e.seq;
        break;
      }
      if (kind === undefined || e.kind === kind) entries.push(entryToJson(e));
    }
    return c.json({ entries, next, height: h.height });
  });

  app.get("/v1/worlds/:id/stream", (c) => {
    auth(c, "read");
    const h = host(c);
    const last = c.req.header("last-event-id");
    const from = last !== undefined && /^\d+$/.test(last) ? Number(last) + 1 : seqParam(c, "from", h.height);
    return streamSSE(c, async (stream) => {
      const queue: JournalEntry[] = [];
      let wake: (() => void) | undefined;
      const unsubscribe = h.subscribe(from, (es) => {
        queue.push(...es);
        wake?.();
      });
      stream.onAbort(() => wake?.());
      try {
        while (!stream.aborted && !stream.closed) {
          while (queue.length > 0) {
            const e = queue.shift()!;
            await stream.writeSSE({ event: "entry", id: String(e.seq), data: JSON.stringify(entryToJson(e)) });
            const waiting = awaitingApproval(e);
            if (waiting) await stream.writeSSE({ event: "approval", data: JSON.stringify({ ...waiting, seq: e.seq }) });
          }
          if (ctx.draining()) break;
          // The keep-alive timer is cleared when an entry or the abort wakes the loop: left
          // pending, each one held the process open that long after a drain closed the stream.
          let timer: NodeJS.Timeout | undefined;
          await new Promise<void>((resolve) => {
            wake = resolve;
            timer = setTimeout(resolve, ctx.keepAliveMs ?? 15_000);
          });
          clearTimeout(timer);
          wake = undefined;
          if (queue.length === 0 && !stream.aborted) await stream.write(": keep-alive\n\n");
        }
      } finally {
        unsubscribe();
      }
    });
  });

  app.get("/v1/worlds/:id/receipts", async (c) => {
    auth(c, "read");
    const h = host(c);
    const store = await openWorldJournalReadonly(h.dir);
    try {
      return c.json({ intents: await intentRows(store.iterate(0)) });
    } finally {
      await store.close();
    }
  });

  app.get("/v1/worlds/:id/receipts/:intent", (c) => {
    auth(c, "read");
    const h = host(c);
    const seq = h.world.store.receiptSeq(c.req.param("intent"));
    if (seq === null) throw noReceipt(c.req.param("intent"));
    return c.json(entryToJson(h.world.store.getSync(seq)!));
  });

  app.get("/v1/worlds/:id/receipts/:intent/bundle", async (c) => {
    auth(c, "read");
    const h = host(c);
    const intent = c.req.param("intent");
    const seq = h.world.store.receiptSeq(intent);
    if (seq === null) throw noReceipt(intent);
    const payload = c.req.query("payload") === "true";
    const read = async () => {
      const store = await openWorldJournalReadonly(h.dir);
      try {
        return await exportBundle(store, seq, { includePayload: payload });
      } finally {
        await store.close();
      }
    };
    let r = await read();
    if (!r.ok && r.code === "no_checkpoint") {
      writable();
      // Sign a checkpoint that covers the receipt, then export under it.
      await h.write((w) => w.exclusive(() => w.checkpoint()));
      r = await read();
    }
    if (!r.ok) throw new HttpError(409, `bundle.${r.code}`, r.message);
    return c.json(r.bundle, 200, {
      "content-disposition": `attachment; filename="receipt-${intent.slice(0, 16)}.json"`,
    });
  });

  app.get("/v1/worlds/:id/verify", async (c) => {
    auth(c, "read");
    const h = host(c);
    return c.json(await verifyWorldDir(h.dir, { requireSealedHead: false }));
  });

  app.get("/v1/worlds/:id/approvals", (c) => {
    auth(c, "read");
    return c.json({ intents: host(c).heldIntents() });
  });

  app.get("/v1/worlds/:id/intents/:intent/approval-message", (c) => {
    auth(c, "approve");
    const h = host(c);
    const decision = c.req.query("decision") ?? "allow";
    if (decision !== "allow" && decision !== "deny")
      throw new HttpError(400, "http.bad_query", `decision is allow or deny, got ${JSON.stringify(decision)}`, {
        path: "?decision",
      });
    const msg = heldIntentMessage(h.id, c.req.param("intent"), decision);
    return c.json({ purpose: "effect_approval", message_hex: hex(msg) });
  });

  app.post("/v1/worlds/:id/intents/:intent/decision", async (c) => {
    auth(c, "approve");
    writable();
    const h = host(c);
    const body = parseBody(await readBody(c.req.raw), DecisionSchema);
    const signer = presignedSigner(body.public_key, body.signature);
    const seq = await h.write((w) => w.decideHeldIntent(c.req.param("intent"), signer, body.decision));
    return c.json({ intent_id: c.req.param("intent"), decision: body.decision, seq }, 201);
  });

  app.get("/v1/worlds/:id/proposals", (c) => {
    auth(c, "read");
    return c.json({ proposals: listProposals(host(c).world) });
  });

  app.get("/v1/worlds/:id/proposals/:pid", (c) => {
    auth(c, "read");
    const pid = c.req.param("pid");
    const p = listProposals(host(c).world).find((x) => x.proposal_id === pid);
    if (p === undefined) throw new HttpError(404, "governance.unknown_proposal", `no proposal ${pid}`, { path: pid });
    return c.json(p);
  });

  app.get("/v1/worlds/:id/proposals/:pid/approval-message", (c) => {
    auth(c, "approve");
    const acceptFailures = c.req.query("accept_failures") === "true";
    const msg = approvalMessage(host(c).world, c.req.param("pid"), { acceptFailures });
    return c.json({ purpose: "approval", message_hex: hex(msg) });
  });

  app.post("/v1/worlds/:id/proposals/:pid/approvals", async (c) => {
    auth(c, "approve");
    writable();
    const h = host(c);
    const body = parseBody(await readBody(c.req.raw), ApprovalSchema);
    const signer = presignedSigner(body.public_key, body.signature);
    const opts = body.accept_failures === true ? { acceptFailures: true } : {};
    const seq = await h.write((w) => approve(w, c.req.param("pid"), signer, opts));
    return c.json({ proposal_id: c.req.param("pid"), seq }, 201);
  });

  app.get("/v1/worlds/:id/proposals/:pid/denial-message", (c) => {
    auth(c, "approve");
    const msg = denialMessage(host(c).world, c.req.param("pid"), reasonParam(c.req.query("reason")));
    return c.json({ purpose: "approval", message_hex: hex(msg) });
  });

  app.post("/v1/worlds/:id/proposals/:pid/denials", async (c) => {
    auth(c, "approve");
    writable();
    const h = host(c);
    const body = parseBody(await readBody(c.req.raw), DenialSchema);
    const signer = presignedSigner(body.public_key, body.signature);
    const seq = await h.write((w) => denyProposal(w, c.req.param("pid"), signer, body.reason));
    return c.json({ proposal_id: c.req.param("pid"), seq }, 201);
  });

  app.post("/v1/worlds/:id/proposals/:pid/apply", async (c) => {
    auth(c, "admin");
    writable();
    const h = host(c);
    const applied = await h.write((w) => apply(w, c.req.param("pid")));
    return c.json(
      JSON.parse(JSON.stringify(applied, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v))),
      201,
    );
  });

  traceRoutes(app, {
    authRead: (c) => auth(c, "read").name,
    host,
  });
  mcpRoute(app, {
    hosts: ctx.hosts,
    tokens: ctx.tokens,
    draining: ctx.draining,
    log: (r) => process.stderr.write(`wk serve: ${JSON.stringify(r)}\n`),
  });
  consoleRoutes(app, ctx.consoleDir);
  return app;
}

const noReceipt = (intent: string) =>
  new HttpError(404, "http.no_receipt", `no receipt for intent ${intent} (yet)`, { path: intent });
