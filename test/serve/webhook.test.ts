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
import { createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import type { WorldkernelClient } from "../../tools/serve/client.js";
import type { Role } from "../../tools/serve/tokens.js";
import { webhookSignature } from "../../tools/serve/webhook.js";
import { REPO, clients, killLeftovers, raw, startServe, writeTokens, type Served } from "./server-fixture.js";

const KEY = "whsec-3c1f9a0d7e/test+key";

afterAll(() => killLeftovers());

describe("wk serve webhooks", () => {
  let s: Served;
  let c: Record<Role, WorldkernelClient>;
  let id = "";
  let dir = "";
  const hook = (name = "counter") => `${s.url}/v1/worlds/${id}/webhooks/${name}`;
  const height = async () => (await c.read.journal(id, { limit: 1 })).height;
  const post = (body: string, headers: Record<string, string> = {}, name?: string) =>
    raw(hook(name), undefined, { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
  const signed = (body: string) => ({ "X-Signature-256": `sha256=${webhookSignature(KEY, Buffer.from(body))}` });

  beforeAll(async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-serve-webhook-"));
    // The counter world plus a defsecret for the webhook's HMAC key.
    const air = join(base, "air");
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
});
