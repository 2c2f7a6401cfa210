/**
 * Secrets by reference in a real world: a module names `{secret:t/api@1}` in an
 * Authorization header; the grant allows it there; the value comes from the world's 0600
 * secrets.json at dispatch and reaches a real 127.0.0.1 server, which echoes it back in
 * several encodings. Afterwards no file of the world (journal, CAS, config) holds the value
 * in any form the server sent or the redactor knows. A header the grant does not allow is
 * denied at the gate (secrets-v1); a missing value and a group-readable secrets file each give
 * a typed error receipt; the world carries on, and replay and verify pass with the secrets
 * file gone. An LLM grant's api_key secret reaches a real OpenAI-compatible server the same way.
 */
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeStored, hashToBytes, type CborObject } from "../../air/index.js";
import { secretEncodings, startLocalLlmServer } from "../../kernel/adapters/index.js";
import { worldPaths } from "../../kernel/journal/index.js";
import { createWorld, replayWorld, verifyWorld, World, worldSecretStore } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { emitEvent, emitterSource, emitterWorld, receiptsOf } from "./fixtures/emitter.js";

const SECRET = "wk-test-9f2c1e7a/Q+key=ü";
let server: Server;
let port = 0;
const received: string[] = [];
const echoes: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const a = req.headers.authorization ?? "";
    received.push(a);
    const forms = [
      a,
      Buffer.from(a).toString("base64"),
      Buffer.from(`!${a}`).toString("base64"),
      Buffer.from(`!!${a}`).toString("base64"),
      Buffer.from(a).toString("base64url"),
      Buffer.from(a).toString("hex"),
      encodeURIComponent(a),
      JSON.stringify(a),
    ];
    if (a !== "") echoes.push(...forms);
    res.writeHead(200, { "x-echo": Buffer.from(a).toString("base64"), "x-echo-url": encodeURIComponent(a) });
    res.end(JSON.stringify({ forms }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Every file under `dir`, recursively. */
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

const get = (headers: Record<string, string>) => ({
  method: "GET",
  url: `http://127.0.0.1:${port}/echo`,
  headers,
  body_ref: null,
});

describe("secrets by reference in a world", () => {
  it("injects the secret where the grant allows it and keeps every encoding of it out of the world's files", async () => {
    const { w, dir } = await emitterWorld({
      kind: "http.request",
      effect: "sys/http.request@1",
      cap: "sys/http.out@1",
      capType: "http.out",
      grantParams: { hosts: ["127.0.0.1"], allow_private: ["127.0.0.1"] },
      grantSecrets: { headers: { Authorization: ["t/api@1", "t/gone@1"] } },
      secrets: [
        { name: "t/api@1", binding_id: "file:api", allowed_caps: ["ok"] },
        { name: "t/gone@1", binding_id: "file:gone" },
      ],
    });
    const secretsFile = worldPaths(dir).secrets;
    writeFileSync(secretsFile, JSON.stringify({ api: SECRET }), { mode: 0o600 });

    await w.send("t/Emit@1", emitEvent("http.request", "ok", get({ Authorization: "Bearer {secret:t/api@1}" })));
    await w.send("t/Emit@1", emitEvent("http.request", "ok", get({ "X-Leak": "{secret:t/api@1}" })));
    await w.send("t/Emit@1", emitEvent("http.request", "ok", get({ Authorization: "{secret:t/gone@1}" })));
    chmodSync(secretsFile, 0o644);
    await w.send("t/Emit@1", emitEvent("http.request", "ok", get({ Authorization: "Bearer {secret:t/api@1}" })));
    chmodSync(secretsFile, 0o600);

    expect(received).toEqual([`Bearer ${SECRET}`]);
    const rs = receiptsOf(w);
    // secrets-v1: the header the grant does not allow is refused at the gate, a journaled denial.
    expect(rs.map((r) => r.status)).toEqual(["ok", "denied", "error", "error"]);
    const payload = (i: number) => decodeStored(Uint8Array.from([0xd9, 0xd9, 0xf7, ...rs[i]!.payload])) as CborObject;
    expect(payload(1)).toMatchObject({ code: "secret_not_allowed" });
    expect(String(payload(1).reason)).toContain("secret t/api@1 is not allowed in header X-Leak");
    expect(payload(2)).toMatchObject({ code: "secret_unavailable", secret: "t/gone@1", reason: "secret.unavailable" });
    expect(payload(3)).toMatchObject({ code: "secret_unavailable", reason: "secret.file_permissions" });
    // The echo arrived and was redacted, not dropped.
    expect((payload(0).headers as Record<string, string>)["x-echo"]).toContain("[secret:t/api@1]");
    const root = w.stateRefs().state_root;
    await w.close();

    // Nothing in the world's files: not the value, not what the server echoed, not any encoding the redactor knows.
    const needles = [...new Set([...secretEncodings(SECRET), ...echoes])];
    for (const f of files(dir).filter((f) => f !== secretsFile)) {
      const hay = readFileSync(f);
      for (const n of needles) expect(hay.includes(Buffer.from(n, "utf8")), `${f} holds ${n}`).toBe(false);
    }

    // Replay and verify read receipts, never the secrets file.
    rmSync(secretsFile);
    expect(await verifyWorld(worldPaths(dir).journal)).toMatchObject({ ok: true });
    expect(await replayWorld(dir)).toMatchObject({ ok: true, state_root: root });
    const again = await World.open(dir, { adapters: defaultAdapters() });
    expect(again.stateRefs().state_root).toBe(root);
    await again.close();
    expect(existsSync(secretsFile)).toBe(false);
  }, 120_000);

  it("calls an OpenAI-compatible provider with the grant's api_key secret; without the value, a typed error receipt", async () => {
    const llm = await startLocalLlmServer({ apiKey: SECRET });
    try {
      const dir = join(mkdtempSync(join(tmpdir(), "wk-secrets-llm-")), "w");
      const source = await emitterSource({
        kind: "llm.generate",
        effect: "sys/llm.generate@1",
        cap: "sys/llm.basic@1",
        capType: "llm.basic",
        grantParams: { providers: ["openai"] },
        grantSecrets: { api_key: "t/llm@1" },
        secrets: [{ name: "t/llm@1", binding_id: "env:WK_TEST_LLM_KEY", allowed_caps: ["ok"] }],
      });
      const env: Record<string, string | undefined> = { WK_TEST_LLM_KEY: SECRET };
      const w = await createWorld(dir, source, {
        adapters: defaultAdapters({ llm: { base_url: llm.baseUrl } }),
        secrets: worldSecretStore(dir, env),
      });
      const messages = w.store.putBlobSync(
        new TextEncoder().encode(JSON.stringify([{ role: "user", content: "Say hello. Then stop." }])),
      );
      const params = {
        provider: "openai",
        model: "m",
        messages_ref: hashToBytes(messages),
        max_tokens: 16,
        temperature: null,
      };
      await w.send("t/Emit@1", emitEvent("llm.generate", "ok", params));
      expect(llm.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
      delete env.WK_TEST_LLM_KEY;
      await w.send("t/Emit@1", emitEvent("llm.generate", "ok", params));
      const rs = receiptsOf(w);
      expect(rs.map((r) => r.status)).toEqual(["ok", "error"]);
      const failed = decodeStored(Uint8Array.from([0xd9, 0xd9, 0xf7, ...rs[1]!.payload])) as CborObject;
      expect(failed).toMatchObject({ code: "secret_unavailable", secret: "t/llm@1", reason: "secret.unavailable" });
      await w.close();
      for (const f of files(dir))
        for (const n of secretEncodings(SECRET)) expect(readFileSync(f).includes(Buffer.from(n)), f).toBe(false);
    } finally {
      await llm.close();
    }
  }, 120_000);
});
