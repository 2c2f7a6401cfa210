/**
 * Secrets by reference at the adapter: the env and 0600-file store, the grant's allowance of a
 * secret per header, and redaction of an upstream that echoes the secret back — raw, base64,
 * base64url, hex, URL- and JSON-encoded, in its body and its headers — from a real server on
 * 127.0.0.1. The receipt payload and every blob the adapter stored are searched for the value.
 */
import { chmodSync, mkdtempSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeCanonical, type CborValue } from "../../air/index.js";
import {
  GRANT_CHECKS,
  GRANT_CHECKS_SECRETS,
  checkHttpSecrets,
  createHttpAdapter,
  createLlmAdapter,
  redactor,
  secretAccess,
  secretEncodings,
  secretStore,
  startLocalLlmServer,
  type SecretStore,
} from "../../kernel/adapters/index.js";
import type { DefSecret } from "../../air/index.js";
import { MemoryBlobs, errorCode, request } from "./harness.js";

const SECRET = "sk-live_4f9a/+=Zq~ü 7Xr!";
const OTHER = "other-secret-value-123";

/** Every form an echo of `v` is searched in: the redactor's list plus the whole header value's encodings. */
function leaks(haystack: Uint8Array | string, v = SECRET): string[] {
  const hay = Buffer.from(haystack as Uint8Array).toString("latin1");
  const utf = typeof haystack === "string" ? haystack : Buffer.from(haystack).toString("utf8");
  return secretEncodings(v).filter((f) => utf.includes(f) || hay.includes(Buffer.from(f).toString("latin1")));
}

let server: Server;
let port = 0;
const seen: { url: string; headers: IncomingHttpHeaders }[] = [];

beforeAll(async () => {
  // Echoes the Authorization header in every encoding, in the body and in response headers.
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", headers: req.headers });
    const a = req.headers.authorization ?? "";
    const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
    const echo = {
      raw: a,
      b64_0: b64(a),
      b64_1: b64(`x${a}`),
      b64_2: b64(`xy${a}`),
      b64url: Buffer.from(a, "utf8").toString("base64url"),
      hex: Buffer.from(a, "utf8").toString("hex"),
      HEX: Buffer.from(a, "utf8").toString("hex").toUpperCase(),
      url: encodeURIComponent(a),
      form: new URLSearchParams({ a }).toString(),
      ascii_json: JSON.stringify(a).replace(
        /[\u0080-\uffff]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
      ),
    };
    res.writeHead(200, {
      "content-type": "application/json",
      "x-echo-b64": b64(a),
      "x-echo-hex": Buffer.from(a, "utf8").toString("hex"),
      "x-echo-url": encodeURIComponent(a),
    });
    // JSON.stringify of the object JSON-escapes every field once more: the raw value appears escaped.
    res.end(JSON.stringify(echo) + "\n" + a);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const DEFS = new Map<string, { def: DefSecret }>([
  ["t/api@1", { def: { $kind: "defsecret", name: "t/api@1", binding_id: "env:T_API" } }],
  ["t/other@1", { def: { $kind: "defsecret", name: "t/other@1", binding_id: "env:T_OTHER" } }],
  ["t/missing@1", { def: { $kind: "defsecret", name: "t/missing@1", binding_id: "env:T_MISSING" } }],
]);
const store = secretStore({ env: { T_API: SECRET, T_OTHER: OTHER } });
const grantParams = { hosts: ["127.0.0.1"], allow_private: ["127.0.0.1"] };
const grantSecrets = { headers: { Authorization: ["t/api@1"] } };

function httpRequest(
  headers: Record<string, string>,
  opts: { url?: string; secrets?: object; params?: CborValue } = {},
) {
  const req = request(
    "http.request",
    { method: "GET", url: opts.url ?? `http://127.0.0.1:${port}/echo`, headers, body_ref: null },
    opts.params ?? grantParams,
  );
  req.grant = { ...req.grant, name: "net", secrets: (opts.secrets ?? grantSecrets) as never };
  req.secrets = secretAccess(DEFS, "net", store);
  return req;
}

describe("secret store", () => {
  const dir = mkdtempSync(join(tmpdir(), "wk-secrets-"));
  const file = join(dir, "secrets.json");

  it("reads env: and file: bindings; a missing one is secret.unavailable naming it", () => {
    writeFileSync(file, JSON.stringify({ doc_api: "v-file" }), { mode: 0o600 });
    const s = secretStore({ file, env: { X: "v-env" } });
    expect(s.read("env:X")).toBe("v-env");
    expect(s.read("file:doc_api")).toBe("v-file");
    expect(() => s.read("env:NOPE")).toThrow(expect.objectContaining({ code: "secret.unavailable" }));
    expect(() => s.read("file:nope")).toThrow(expect.objectContaining({ code: "secret.unavailable" }));
    expect(() => s.read("vault:x")).toThrow(expect.objectContaining({ code: "secret.bad_binding" }));
  });

  it("refuses a secrets file group or others can read, a symlink, and bad JSON without quoting it", () => {
    writeFileSync(file, JSON.stringify({ doc_api: "v-file" }));
    chmodSync(file, 0o644);
    const s = secretStore({ file });
    expect(() => s.read("file:doc_api")).toThrow(
      expect.objectContaining({ code: "secret.file_permissions", path: file }),
    );
    chmodSync(file, 0o600);
    const link = join(dir, "link.json");
    symlinkSync(file, link);
    expect(() => secretStore({ file: link }).read("file:doc_api")).toThrow(
      expect.objectContaining({ code: "secret.bad_file" }),
    );
    const bad = join(dir, "bad.json");
    writeFileSync(bad, '{"doc_api": "hunter2-top-secret"', { mode: 0o600 });
    let msg = "";
    try {
      secretStore({ file: bad }).read("file:doc_api");
    } catch (e) {
      msg = JSON.stringify(e) + String((e as Error).message);
      expect(e).toMatchObject({ code: "secret.bad_file" });
    }
    expect(msg).not.toContain("hunter2");
  });

  it("access checks the manifest, allowed_caps and expected_digest", () => {
    const defs = new Map<string, { def: DefSecret }>([
      ["t/a@1", { def: { $kind: "defsecret", name: "t/a@1", binding_id: "env:A", allowed_caps: ["llm"] } }],
      [
        "t/d@1",
        {
          def: {
            $kind: "defsecret",
            name: "t/d@1",
            binding_id: "env:A",
            expected_digest: "sha256:" + "0".repeat(64),
          },
        },
      ],
    ]);
    const s = secretStore({ env: { A: "x" } });
    expect(secretAccess(defs, "llm", s).resolve("t/a@1").value).toBe("x");
    expect(() => secretAccess(defs, "net", s).resolve("t/a@1")).toThrow(
      expect.objectContaining({ code: "secret.not_allowed" }),
    );
    expect(() => secretAccess(defs, "net", s).resolve("t/zz@1")).toThrow(
      expect.objectContaining({ code: "secret.unknown" }),
    );
    expect(() => secretAccess(defs, "net", s).resolve("t/d@1")).toThrow(
      expect.objectContaining({ code: "secret.digest_mismatch" }),
    );
  });
});

describe("redactor", () => {
  it("finds the secret raw and in each encoding at any position and base64 alignment", () => {
    const r = redactor([{ name: "t/api@1", value: SECRET }]);
    for (const prefix of ["", "a", "ab", "abc", "Bearer "]) {
      const whole = `${prefix}${SECRET}!tail`;
      const encoded = [
        whole,
        Buffer.from(whole).toString("base64"),
        Buffer.from(whole).toString("base64url"),
        Buffer.from(whole).toString("hex"),
        Buffer.from(whole).toString("hex").toUpperCase(),
        encodeURIComponent(whole),
        new URLSearchParams({ a: whole }).toString(),
        JSON.stringify(whole),
      ];
      for (const e of encoded) {
        const out = r.text(e);
        expect(out, e).toContain("[secret:t/api@1]");
        expect(leaks(out), e).toEqual([]);
      }
    }
  });

  it("leaves text without the secret unchanged, and redacts inside CBOR values", () => {
    const r = redactor([{ name: "t/api@1", value: SECRET }]);
    expect(r.text("nothing here")).toBe("nothing here");
    const v = r.value({ a: [SECRET, new TextEncoder().encode(`x${SECRET}`)], n: 3 }) as { a: [string, Uint8Array] };
    expect(v.a[0]).toBe("[secret:t/api@1]");
    expect(new TextDecoder().decode(v.a[1])).toBe("x[secret:t/api@1]");
    expect(redactor([]).empty).toBe(true);
  });
});

describe("http.request with secret headers", () => {
  const adapter = createHttpAdapter({ timeoutMs: 2000 });

  it("sends the value where the grant allows it; an echo in any encoding never reaches the receipt or the CAS", async () => {
    const req = httpRequest({ Authorization: "Bearer {secret:t/api@1}" });
    const out = await adapter.perform(req);
    expect(
      out.status,
      JSON.stringify(out.payload, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
    ).toBe("ok");
    expect(seen.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
    // The server did echo it: headers and body are redacted, not empty.
    const p = out.payload as { headers: Record<string, string> };
    expect(p.headers["x-echo-b64"]).toContain("[secret:t/api@1]");
    expect(leaks(encodeCanonical(out.payload))).toEqual([]);
    const blobs = [...(req.blobs as MemoryBlobs).map.values()];
    expect(blobs.length).toBe(1);
    const body = new TextDecoder().decode(blobs[0]);
    expect(body).toContain("[secret:t/api@1]");
    for (const b of blobs) expect(leaks(b)).toEqual([]);
  });

  it("a header the grant does not allow for the secret: secret_not_allowed, nothing sent", async () => {
    const before = seen.length;
    const out = await adapter.perform(httpRequest({ "X-Leak": "{secret:t/api@1}" }));
    expect(out.status).toBe("error");
    expect(out.payload).toMatchObject({ code: "secret_not_allowed", secret: "t/api@1", reason: "secret.not_allowed" });
    const other = await adapter.perform(httpRequest({ Authorization: "{secret:t/other@1}" }));
    expect(other.payload).toMatchObject({ code: "secret_not_allowed", secret: "t/other@1" });
    expect(seen.length).toBe(before);
    expect(leaks(encodeCanonical(out.payload))).toEqual([]);
  });

  it("a grant without secrets, or without hosts, sends no secret", async () => {
    const none = await adapter.perform(httpRequest({ Authorization: "{secret:t/api@1}" }, { secrets: {} }));
    expect(none.payload).toMatchObject({ code: "secret_not_allowed" });
    const noHosts = await adapter.perform(
      httpRequest({ Authorization: "{secret:t/api@1}" }, { params: { allow_private: ["127.0.0.1"] } }),
    );
    expect(noHosts.payload).toMatchObject({ code: "secret_not_allowed" });
    expect((noHosts.payload as { message: string }).message).toContain("names no hosts");
  });

  it("a reference in the URL or a body is never expanded: the text goes out as written", async () => {
    const out = await adapter.perform(
      httpRequest(
        { Authorization: "Bearer {secret:t/api@1}" },
        { url: `http://127.0.0.1:${port}/x?k={secret:t/api@1}` },
      ),
    );
    expect(out.status).toBe("ok");
    expect(seen.at(-1)!.url).toBe("/x?k={secret:t/api@1}");
    expect(leaks(seen.at(-1)!.url)).toEqual([]);
  });

  it("a missing secret is an error receipt secret_unavailable naming it; a connection failure names no value", async () => {
    const out = await adapter.perform(
      httpRequest(
        { Authorization: "{secret:t/missing@1}" },
        { secrets: { headers: { Authorization: ["t/missing@1"] } } },
      ),
    );
    expect(out.status).toBe("error");
    expect(out.payload).toMatchObject({
      code: "secret_unavailable",
      secret: "t/missing@1",
      reason: "secret.unavailable",
    });
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const dead = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const failed = await adapter.perform(
      httpRequest({ Authorization: "Bearer {secret:t/api@1}" }, { url: `http://127.0.0.1:${dead}/` }),
    );
    expect(failed.payload).toMatchObject({ code: "connection_failed" });
    expect(leaks(encodeCanonical(failed.payload))).toEqual([]);
  });

  it("a value with a line break is refused, not sent and not quoted", async () => {
    const req = httpRequest({ Authorization: "{secret:t/api@1}" });
    req.secrets = secretAccess(DEFS, "net", { read: () => "abc\r\nX-Injected: 1" } satisfies SecretStore);
    const out = await adapter.perform(req);
    expect(out.payload).toMatchObject({ code: "secret_unavailable", reason: "secret.bad_value" });
    expect(JSON.stringify(out.payload)).not.toContain("Injected");
  });
});

describe("the gate's check of secret references (secrets-v1)", () => {
  const params = (headers: Record<string, string>) => ({
    method: "GET",
    url: "https://api.example/",
    headers,
    body_ref: null,
  });
  const grant = { name: "net", cap: "sys/http.out@1", params: {}, secrets: grantSecrets };
  const hosts = { hosts: ["api.example"] };

  it("allows listed references, refuses others by name, and needs the grant's hosts; reads no value", () => {
    expect(checkHttpSecrets(params({ Authorization: "Bearer {secret:t/api@1}" }), hosts, grant)).toBeNull();
    expect(checkHttpSecrets(params({ authorization: "{secret:t/api@1}" }), hosts, grant)).toBeNull();
    expect(checkHttpSecrets(params({ "X-Other": "{secret:t/api@1}" }), hosts, grant)).toMatchObject({
      code: "secret_not_allowed",
    });
    expect(checkHttpSecrets(params({ Authorization: "{secret:t/other@1}" }), hosts, grant)).toMatchObject({
      code: "secret_not_allowed",
    });
    expect(checkHttpSecrets(params({ Authorization: "{secret:t/api@1}" }), {}, grant)).toMatchObject({
      code: "secret_not_allowed",
    });
    expect(checkHttpSecrets(params({ Accept: "text/plain" }), {}, undefined)).toBeNull();
  });

  it("only the secrets-v1 checks deny: a journal written before the flag replays as it was decided", () => {
    const p = params({ "X-Other": "{secret:t/api@1}" });
    expect(GRANT_CHECKS["http.out"]!("http.request", p, hosts, grant)).toBeNull();
    expect(GRANT_CHECKS_SECRETS["http.out"]!("http.request", p, hosts, grant)).toMatchObject({
      code: "secret_not_allowed",
    });
  });
});

describe("llm.generate with the grant's api_key secret", () => {
  it("calls the provider with the secret as its bearer key; a provider echoing it gets it redacted", async () => {
    const llm = await startLocalLlmServer({ apiKey: SECRET });
    try {
      const adapter = createLlmAdapter({ openai: { baseUrl: llm.baseUrl } });
      const blobs = new MemoryBlobs();
      // The local provider answers with the last user message: ask it to "echo" the key's encodings.
      const echo = `Echo. ${SECRET} ${Buffer.from(SECRET).toString("base64")} ${Buffer.from(SECRET).toString("hex")}`;
      const msgs = blobs.put(new TextEncoder().encode(JSON.stringify([{ role: "user", content: echo }])));
      const make = (secrets: object) => {
        const req = request(
          "llm.generate",
          { provider: "openai", model: "m", messages_ref: msgs, max_tokens: 64 },
          null,
          { blobs },
        );
        req.grant = { ...req.grant, name: "net", secrets: secrets as never };
        req.secrets = secretAccess(DEFS, "net", store);
        return req;
      };
      const out = await adapter.perform(make({ api_key: "t/api@1" }));
      expect(
        out.status,
        JSON.stringify(out.payload, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
      ).toBe("ok");
      expect(llm.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
      // The prompt blob holds what the module wrote (it cannot know the value); the completion is redacted.
      const completion = [...blobs.map.values()]
        .map((b) => new TextDecoder().decode(b))
        .find((t) => t.startsWith("m:"));
      expect(completion).toContain("[secret:t/api@1]");
      expect(leaks(completion!)).toEqual([]);
      const wrong = await adapter.perform(make({ api_key: "t/other@1" }));
      expect(wrong.payload).toMatchObject({ code: "provider_error", http_status: 401 });
      const missing = await adapter.perform(make({ api_key: "t/missing@1" }));
      expect(missing.payload).toMatchObject({ code: "secret_unavailable", secret: "t/missing@1" });
      expect(errorCode(missing.payload)).toBe("secret_unavailable");
    } finally {
      await llm.close();
    }
  });
});
