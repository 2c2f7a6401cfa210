/**
 * @module Ingress webhooks of `wk serve` against a real server process on 127.0.0.1: a POST
 * to `/v1/worlds/:id/webhooks/:name` is appended only when its `X-Signature-256` header is the
 * HMAC-SHA256 of the raw body under the webhook's defsecret (read from the world's 0600
 * secrets.json); a missing or wrong signature is a typed 401 that writes nothing, a
 * redelivery under the same delivery id appends nothing, an unreadable secret is a 503
 * naming the secret and never its value. Needs no bearer token.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { worldPaths } from "../../kernel/journal/index.js";
import { readConfig, replaceConfig } from "../../kernel/world/config.js";
import { createWorld, sourceFromAirDir, worldSecretStore } from "../../kernel/world/index.js";
import type { WorldkernelClient } from "../../tools/serve/client.js";
import type { Role } from "../../tools/serve/tokens.js";
import { timestampedBody, webhookEvent, webhookSignature } from "../../tools/serve/webhook.js";
import type { HttpError } from "../../tools/serve/errors.js";
import { REPO, clients, killLeftovers, raw, startServe, writeTokens, type Served } from "./server-fixture.js";

const KEY = "whsec-3c1f9a0d7e/test+key";

afterAll(() => killLeftovers());

describe("wk serve webhooks", () => {
  let s: Served;
  let c: Record<Role, WorldkernelClient>;
  let id = "";
  let dir = "";
  let airDir = "";
  const hook = (name = "counter") => `${s.url}/v1/worlds/${id}/webhooks/${name}`;
  const height = async () => (await c.read.journal(id, { limit: 1 })).height;
  const post = (body: string, headers: Record<string, string> = {}, name?: string) =>
    raw(hook(name), undefined, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  const signed = (body: string) => ({ "X-Signature-256": `sha256=${webhookSignature(KEY, Buffer.from(body))}` });

  beforeAll(async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-serve-webhook-"));
    // The counter world plus a defsecret for the webhook's HMAC key.
    const air = join(base, "air");
    airDir = air;
    cpSync(join(REPO, "worlds/counter"), air, { recursive: true });
    // The module's wasm path is relative to the repo's worlds/counter: point it at the copy beside the AIR.
    cpSync(join(REPO, "modules/assemblyscript/counter/counter.wasm"), join(air, "counter.wasm"));
    const mod = join(air, "counter.air.json");
    writeFileSync(
      mod,
      readFileSync(mod, "utf8").replace("../../modules/assemblyscript/counter/counter.wasm", "counter.wasm"),
    );
    const mf = join(air, "manifest.air.json");
    const manifest = JSON.parse(readFileSync(mf, "utf8")) as Record<string, unknown>;
    writeFileSync(mf, JSON.stringify({ ...manifest, secrets: [{ name: "demo/webhook_key@1" }] }));
    writeFileSync(
      join(air, "secret.air.json"),
      JSON.stringify({ $kind: "defsecret", name: "demo/webhook_key@1", binding_id: "file:counter_hook" }),
    );
    dir = join(base, "w");
    const w = await createWorld(dir, sourceFromAirDir(air));
    id = w.id;
    await w.close();
    const paths = worldPaths(dir);
    replaceConfig(paths.config, {
      ...readConfig(paths.config),
      webhooks: {
        counter: { schema: "demo/CounterEvent@1", secret: "demo/webhook_key@1", idempotency_header: "X-Delivery" },
      },
    });
    writeFileSync(paths.secrets, JSON.stringify({ counter_hook: KEY }), { mode: 0o600 });
    const t = writeTokens(base);
    s = await startServe([dir], t.file);
    c = clients(s.url, t.tokens);
  }, 120_000);

  afterAll(async () => {
    await s?.stop();
  });

  it("refuses an unsigned or wrongly signed delivery with a typed 401 and writes nothing", async () => {
    const before = await height();
    const body = JSON.stringify({ key: "a", by: 1 });
    const none = await post(body);
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ error: { code: "webhook.bad_signature", path: "X-Signature-256" } });
    const wrong = await post(body, {
      "X-Signature-256": `sha256=${webhookSignature("not-the-key", Buffer.from(body))}`,
    });
    expect(wrong.status).toBe(401);
    // Signed for another body: the MAC covers the exact bytes.
    const other = await post(JSON.stringify({ key: "a", by: 100 }), signed(body));
    expect(other.status).toBe(401);
    const garbage = await post(body, { "X-Signature-256": "sha256=zz" });
    expect(garbage.status).toBe(401);
    for (const r of [none, wrong, other, garbage]) {
      expect(r.text).not.toContain(KEY);
      expect(r.text).not.toContain(webhookSignature(KEY, Buffer.from(body)));
    }
    expect(await height()).toBe(before);
  });

  it("appends a correctly signed delivery once; a redelivery under the same id appends nothing", async () => {
    const body = JSON.stringify({ key: "hooked", by: 5 });
    const first = await post(body, { ...signed(body), "X-Delivery": "d-1" });
    expect(first.status, first.text).toBe(201);
    const h = await height();
    const again = await post(body, { ...signed(body), "X-Delivery": "d-1" });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ duplicate: true });
    expect(await height()).toBe(h);
    // A bare hex signature (no sha256= prefix) is accepted too.
    const bare = await post(body, { "X-Signature-256": webhookSignature(KEY, Buffer.from(body)), "X-Delivery": "d-2" });
    expect(bare.status).toBe(201);
    const state = (await c.read.state(id, { module: "demo/Counter@1", key: "hooked" })) as {
      cells: { state: { count?: unknown } }[];
    };
    expect(JSON.stringify(state.cells[0]!.state)).toContain("10");
  });

  it("a signed body that is not a valid event is a 400 naming the place; an unknown webhook is a 404", async () => {
    const before = await height();
    const body = JSON.stringify({ key: "a", by: "many" });
    const bad = await post(body, signed(body));
    expect(bad.status).toBe(400);
    expect((bad.json as { error: { path: string } }).error.path).toContain("by");
    const unknown = await post(body, signed(body), "nope");
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ error: { code: "webhook.unknown" } });
    expect(await height()).toBe(before);
  });

  it("a secret it cannot read is a 503 naming the secret, never a value", async () => {
    rmSync(worldPaths(dir).secrets);
    const body = JSON.stringify({ key: "a", by: 1 });
    const r = await post(body, signed(body));
    expect(r.status).toBe(503);
    expect(r.json).toMatchObject({ error: { code: "webhook.secret_unavailable" } });
    expect(r.text).toContain("demo/webhook_key@1");
    expect(r.text).not.toContain(KEY);
  });
  it("a timestamped webhook signs `<ts>.<body>` and refuses a delivery outside its tolerance of the world's clock (clock injected)", () => {
    const config = {
      ...readConfig(worldPaths(dir).config),
      webhooks: {
        timed: {
          schema: "demo/CounterEvent@1",
          secret: "demo/webhook_key@1",
          timestamp_header: "X-Timestamp",
          tolerance_s: 300,
        },
      },
    };
    // Its own secrets folder: the test above takes the world's secrets file away.
    const secretsDir = mkdtempSync(join(tmpdir(), "wk-webhook-secrets-"));
    writeFileSync(worldPaths(secretsDir).secrets, JSON.stringify({ counter_hook: KEY }), { mode: 0o600 });
    const world = { config, catalog: sourceFromAirDir(airDir).catalog, secrets: worldSecretStore(secretsDir) };
    const body = Buffer.from(JSON.stringify({ key: "t", by: 1 }));
    const now = 1_900_000_000n;
    const deliver = (ts: string | undefined, mac: string) => () =>
      webhookEvent(
        world,
        "timed",
        body,
        (n) => (n === "X-Timestamp" ? ts : n === "X-Signature-256" ? mac : undefined),
        now,
      );
    const sign = (ts: string) => `sha256=${webhookSignature(KEY, timestampedBody(ts, body))}`;
    const code = (f: () => unknown) => {
      try {
        f();
        return "accepted";
      } catch (e) {
        return `${(e as HttpError).status} ${(e as HttpError).code}: ${(e as Error).message}`;
      }
    };
    expect(deliver("1900000000", sign("1900000000"))()).toMatchObject({
      schema: "demo/CounterEvent@1",
      json: { key: "t", by: 1 },
    });
    expect(code(deliver("1899999700", sign("1899999700")))).toBe("accepted"); // exactly at the tolerance
    expect(code(deliver("1899999699", sign("1899999699")))).toBe(
      "401 webhook.stale_timestamp: the X-Timestamp header is 301 s from the server's clock, more than the 300 s allowed",
    );
    expect(code(deliver("1900000301", sign("1900000301")))).toContain("401 webhook.stale_timestamp");
    // The body's MAC alone is not enough: the time is signed with it.
    expect(code(deliver("1900000000", `sha256=${webhookSignature(KEY, body)}`))).toContain("401 webhook.bad_signature");
    // A stale time with a wrong MAC learns nothing about the server's clock.
    expect(code(deliver("1000", "sha256=" + "0".repeat(64)))).toContain("401 webhook.bad_signature");
    expect(code(deliver(undefined, sign("1900000000")))).toContain("401 webhook.bad_timestamp");
    expect(code(deliver("19e8", sign("19e8")))).toContain("401 webhook.bad_timestamp");
  });
});
