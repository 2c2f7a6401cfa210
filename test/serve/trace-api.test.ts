/**
 * @module The trace and explain routes of `wk serve` against a real server process on 127.0.0.1
 * over a real world (test/serve/trace-fixture.ts): a tree found by seq, by intent id and by an
 * idempotency key that needs URL-encoding, the same tree `wk trace --json` prints (read while the
 * server holds the writer lock), the explanation of the gate's denial and of the approver's
 * refusal, `analysis.not_found` as a 404, a bad target as a 400, and who may ask (a read token
 * may, an ingest-only token may not, no token is 401).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TraceView } from "../../kernel/analysis/index.js";
import { ApiError, type WorldkernelClient } from "../../tools/serve/client.js";
import type { Role } from "../../tools/serve/tokens.js";
import {
  clients,
  killLeftovers,
  raw,
  startServe,
  wk,
  writeTokens,
  type RoleTokens,
  type Served,
} from "./server-fixture.js";
import { DENIED_KEY, tracedWorld, type TracedWorld } from "./trace-fixture.js";

/** Every node of a tree, depth first. */
const nodes = (v: TraceView): TraceView[] => [v, ...v.children.flatMap(nodes)];

/** The refusal a call ends in. */
async function refusal(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error("the call was not refused");
}

afterAll(() => killLeftovers());

describe("wk serve's trace and explain routes", () => {
  let world: TracedWorld;
  let s: Served;
  let tokens: RoleTokens;
  let c: Record<Role, WorldkernelClient>;
  let id = "";

  beforeAll(async () => {
    world = await tracedWorld();
    const t = writeTokens(mkdtempSync(join(tmpdir(), "wk-serve-trace-")));
    tokens = t.tokens;
    s = await startServe([world.dir], t.file);
    id = s.worlds[0]!;
    c = clients(s.url, tokens);
  }, 120_000);

  afterAll(async () => {
    await s?.stop();
  });

  it("finds the gate's denial by an idempotency key that needs URL-encoding, by intent id and by seq", async () => {
    const byKey = await c.read.trace(id, DENIED_KEY);
    expect(byKey).toMatchObject({ truncated: false });
    expect(byKey.shown).toBe(byKey.nodes);
    expect(byKey.tree).toMatchObject({ seq: byKey.selected, kind: "event", selected: true });
    expect(byKey.tree.what).toContain(`idempotency key ${JSON.stringify(DENIED_KEY)}`);
    const all = nodes(byKey.tree);
    expect(all).toHaveLength(byKey.nodes);
    const gate = all.find((n) => n.kind === "policy_decision")!;
    expect(gate.what).toMatch(/gate: deny .*host_not_allowed/);

    const byIntent = await c.read.trace(id, world.denied);
    const intent = nodes(byIntent.tree).find((n) => n.selected)!;
    expect(intent).toMatchObject({ kind: "effect_intent", seq: byIntent.selected });
    expect((intent.body as { intent_id: string }).intent_id).toBe(world.denied);
    expect(nodes(byIntent.tree).map((n) => n.seq)).toEqual(all.map((n) => n.seq));

    const bySeq = await c.read.trace(id, gate.seq);
    expect(bySeq.selected).toBe(gate.seq);
    expect(
      nodes(bySeq.tree)
        .filter((n) => n.selected)
        .map((n) => n.seq),
    ).toEqual([gate.seq]);
  });

  it("answers with the tree wk trace --json prints, read while the server holds the world", async () => {
    const cli = wk("trace", "order-7", "--world", world.dir, "--json");
    expect(cli.status, cli.stderr).toBe(0);
    expect((await c.read.trace(id, "order-7")).tree).toEqual(JSON.parse(cli.stdout));
  });

  it("explains the gate's denial and the approver's refusal", async () => {
    const denied = await c.read.explain(id, world.denied);
    expect(denied.root.what).toContain(JSON.stringify(DENIED_KEY));
    expect(denied.decisions.map((d) => d.what)).toEqual([expect.stringMatching(/gate: deny .*host_not_allowed/)]);
    expect(denied.result?.what).toMatch(/receipt denied/);

    const held = await c.read.explain(id, world.held);
    expect(held.root.what).toContain('idempotency key "order-7"');
    expect(held.step.state_before).toBeNull();
    expect(held.decisions.map((d) => d.what)).toEqual([
      expect.stringContaining("gate: require_approval"),
      expect.stringContaining("decided: deny"),
    ]);
    const cli = wk("explain", world.held, "--world", world.dir, "--json");
    expect(held).toEqual(JSON.parse(cli.stdout));
  });

  it("refuses what the journal does not hold with analysis.not_found (404)", async () => {
    // Thunks, called one at a time: a request made before its turn would reject unhandled.
    for (const call of [
      () => c.read.trace(id, 99_999),
      () => c.read.trace(id, "no-such-key"),
      () => c.read.explain(id, `sha256:${"0".repeat(64)}`),
      () => c.read.explain(id, "order-7"), // a key, not an intent
    ]) {
      const e = await refusal(call());
      expect(e.status).toBe(404);
      expect(e.code).toBe("analysis.not_found");
    }
    const e = await refusal(c.read.trace("no-such-world", 1));
    expect([e.status, e.code]).toEqual([404, "http.no_world"]);
  });

  it("refuses a target that could name nothing (400)", async () => {
    for (const [route, target] of [
      ["trace", "%20%20"],
      ["trace", "9".repeat(30)],
      ["trace", "k".repeat(513)],
      ["explain", "x".repeat(513)],
    ] as const) {
      const r = await raw(`${s.url}/v1/worlds/${id}/${route}/${target}`, tokens.read);
      expect(r.status, `${route}/${target.slice(0, 20)}`).toBe(400);
      expect(r.json).toMatchObject({ error: { code: "http.bad_param" } });
    }
  });

  it("answers a read token (and admin), refuses an ingest-only token (403) and no token (401)", async () => {
    for (const path of [`trace/1`, `explain/${encodeURIComponent(world.held)}`]) {
      const url = `${s.url}/v1/worlds/${id}/${path}`;
      expect((await raw(url, tokens.read)).status).toBe(200);
      expect((await raw(url, tokens.admin)).status).toBe(200);
      expect((await raw(url, tokens.ingest)).json).toMatchObject({ error: { code: "auth.forbidden" } });
      const none = await raw(url, undefined);
      expect(none.status).toBe(401);
      expect(none.json).toMatchObject({ error: { code: expect.stringMatching(/^auth\./) } });
    }
  });
});
