/**
 * @module The causal tree and the explanation over HTTP: `GET /v1/worlds/:id/trace/:target` and
 * `GET /v1/worlds/:id/explain/:intent` answer with the JSON `wk trace --json` and `wk explain
 * --json` print (kernel/analysis/trace-of.ts builds both), read from the served world's own store
 * while it writes. A tree is cut to `MAX_TRACE_NODES` entries, the response saying so.
 */
import type { Context, Hono } from "hono";
import { explainOf } from "../../kernel/analysis/index.js";
import { traceAs } from "./idempotency.js";
import { journalLines } from "../../kernel/world/journal-lines.js";
import { HttpError } from "./errors.js";
import type { WorldHost } from "./world-host.js";

/** Entries of a tree sent at most: a response, and the console drawing it, stay small. */
export const MAX_TRACE_NODES = 2000;

/** Longest target: an idempotency key's bound (the events route's), longer than any seq or intent id. */
const MAX_TARGET = 512;

/** What the routes need from the app: read authorization (the token's name) and the world a request names. */
export interface TraceDeps {
  authRead: (c: Context) => string;
  host: (c: Context) => WorldHost;
}

/** A route's target, decoded; 400 when it could name nothing (blank, too long, a seq past any journal). */
function targetParam(c: Context, name: string): string {
  const v = c.req.param(name) ?? "";
  const bad = (why: string) =>
    new HttpError(400, "http.bad_param", `${name} ${why}, got ${JSON.stringify(v.slice(0, 80))}`, { path: `:${name}` });
  if (v.trim() === "") throw bad("is blank");
  if (v.length > MAX_TARGET) throw bad(`is longer than ${MAX_TARGET} characters`);
  if (/^\d+$/.test(v) && !Number.isSafeInteger(Number(v))) throw bad("is a seq beyond any journal");
  return v;
}

/** Mounts the trace and explain routes. */
export function traceRoutes(app: Hono, deps: TraceDeps): void {
  // Both read the store synchronously from start to end: no write interleaves, so the tree is one
  // consistent prefix of the journal even while the world appends (as /journal reads it).
  app.get("/v1/worlds/:id/trace/:target", (c) => {
    const caller = deps.authRead(c);
    const h = deps.host(c);
    const target = targetParam(c, "target");
    return c.json(traceAs(journalLines(h.world.store), target, caller, { maxNodes: MAX_TRACE_NODES }));
  });

  app.get("/v1/worlds/:id/explain/:intent", (c) => {
    deps.authRead(c);
    const h = deps.host(c);
    return c.json(explainOf(journalLines(h.world.store), targetParam(c, "intent")));
  });
}
