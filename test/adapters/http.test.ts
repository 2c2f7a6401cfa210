/**
 * HTTP adapter against real servers on 127.0.0.1: allowlists, the SSRF guard on resolved
 * addresses (loopback, metadata, `localhost`), the Idempotency-Key header, body in the CAS,
 * size cap, timeout, and redirects that are reported rather than followed.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashBytes, hashToBytes, type CborValue } from "../../air/index.js";
import { addressMatches, checkHttpAllowed, classifyAddress, createHttpAdapter } from "../../kernel/adapters/index.js";
import { MemoryBlobs, errorCode, ref, request } from "./harness.js";

let server: Server;
let port = 0;
const seen: { url: string; method: string; headers: IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({
        url: req.url ?? "",
        method: req.method ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      if (req.url === "/big") {
        res.writeHead(200);
        res.end(Buffer.alloc(64 * 1024, 1));
      } else if (req.url === "/slow") {
        setTimeout(() => res.end("late"), 2000).unref();
      } else if (req.url === "/redirect") {
        res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data" });
        res.end();
      } else {
        res.writeHead(200, { "content-type": "text/plain", "x-multi": ["a", "b"] });
        res.end(`hello ${req.method} ${req.url}`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const loopbackGrant = () => ({ hosts: ["127.0.0.1", "localhost"], allow_private: ["127.0.0.1"] });
const get = (url: string, extra: Record<string, CborValue> = {}): CborValue => ({
  method: "GET",
  url,
  headers: {},
  body_ref: null,
  ...extra,
});

describe("http.request", () => {
  const adapter = createHttpAdapter({ maxResponseBytes: 16 * 1024, timeoutMs: 300 });

  it("performs an allowed request, stores the body in the CAS and sends the Idempotency-Key", async () => {
    const req = request(
      "http.request",
      get(`http://127.0.0.1:${port}/hello?x=1`, { headers: { "X-Test": "yes" } }),
      loopbackGrant(),
    );
    const out = await adapter.perform(req);
    expect(out.status).toBe("ok");
    const p = out.payload as Record<string, CborValue>;
    expect(p.status).toBe(200);
    const body = new TextDecoder().decode(req.blobs.get(ref(p, "body_ref")));
    expect(body).toBe("hello GET /hello?x=1");
    expect(p.body_size).toBe(body.length);
    expect(ref(p, "body_ref")).toBe(hashBytes(new TextEncoder().encode(body)));
    expect((p.headers as Record<string, string>)["x-multi"]).toBe("a, b");
    const last = seen.at(-1)!;
    expect(last.headers["idempotency-key"]).toBe(req.idempotencyKey);
    expect(last.headers["x-test"]).toBe("yes");
    expect(out.finishedNs >= out.startedNs).toBe(true);
  });

  it("sends a request body from the CAS", async () => {
    const blobs = new MemoryBlobs();
    const bodyRef = hashToBytes(blobs.put(new TextEncoder().encode("payload!")));
    const out = await adapter.perform(
      request(
        "http.request",
        {
          method: "POST",
          url: `http://127.0.0.1:${port}/post`,
          headers: { "content-length": "999" },
          body_ref: bodyRef,
        },
        loopbackGrant(),
        { blobs },
      ),
    );
    expect(out.status).toBe("ok");
    expect(seen.at(-1)).toMatchObject({ method: "POST", body: "payload!" });
  });

  it("refuses header names and values that could split the request", async () => {
    for (const headers of [{ "X-A": "ok\r\nInjected: 1" }, { "Bad Name": "v" }]) {
      const out = await adapter.perform(
        request("http.request", get(`http://127.0.0.1:${port}/`, { headers }), loopbackGrant()),
      );
      expect(errorCode(out.payload)).toBe("invalid_params");
    }
  });

  it("denies a host outside the allowlist without connecting", async () => {
    const before = seen.length;
    const out = await adapter.perform(
      request("http.request", get(`http://127.0.0.1:${port}/`), {
        hosts: ["api.example.com"],
        allow_private: ["127.0.0.1"],
      }),
    );
    expect(out.status).toBe("error");
    expect(errorCode(out.payload)).toBe("host_not_allowed");
    expect(seen.length).toBe(before);
  });

  it("denies loopback and metadata addresses without an allow_private grant", async () => {
    const before = seen.length;
    for (const url of [
      `http://127.0.0.1:${port}/`,
      "http://169.254.169.254/latest/meta-data",
      `http://[::1]:${port}/`,
      "http://[fd00:ec2::254]/",
      "http://10.0.0.1/",
      "http://0.0.0.0/",
      `http://2130706433:${port}/`,
      `http://0177.0.0.1:${port}/`,
      `http://127.1:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      "http://100.64.0.1/",
      "http://[fe80::1]/",
    ]) {
      const out = await adapter.perform(request("http.request", get(url), null));
      expect(out.status, url).toBe("error");
      expect(errorCode(out.payload), url).toBe("private_address_denied");
    }
    expect(seen.length).toBe(before);
  });

  it("denies a host name that resolves to loopback (localhost), and allows it when allow_private names it", async () => {
    const denied = await adapter.perform(
      request("http.request", get(`http://localhost:${port}/`), { hosts: ["localhost"] }),
    );
    expect(errorCode(denied.payload)).toBe("private_address_denied");
    expect((denied.payload as Record<string, CborValue>).address_class).toBe("loopback");
    for (const allow of [["localhost"], ["127.0.0.0/8", "::1"]]) {
      const ok = await adapter.perform(
        request("http.request", get(`http://localhost:${port}/named`), { hosts: ["localhost"], allow_private: allow }),
      );
      expect(ok.status, allow.join()).toBe("ok");
      expect(seen.at(-1)!.headers.host).toBe(`localhost:${port}`);
    }
  });

  it("connects to the address it checked (not a second DNS answer) and keeps the Host header", async () => {
    const answers: Record<string, string[]> = {
      "rebind.test": ["127.0.0.1"],
      "mixed.test": ["93.184.216.34", "127.0.0.1"],
    };
    let calls = 0;
    const pinned = createHttpAdapter({
      timeoutMs: 1000,
      resolve: async (h) => {
        calls++;
        return (answers[h] ?? []).map((address) => ({ address, family: 4 }));
      },
    });
    // rebind.test exists in no real DNS: a connect that re-resolved would fail.
    const ok = await pinned.perform(
      request("http.request", get(`http://rebind.test:${port}/pinned`), { allow_private: ["127.0.0.1"] }),
    );
    expect(ok.status).toBe("ok");
    expect(calls).toBe(1);
    expect(seen.at(-1)!.headers.host).toBe(`rebind.test:${port}`);
    const before = seen.length;
    const mixed = await pinned.perform(request("http.request", get(`http://mixed.test:${port}/`), null));
    expect(errorCode(mixed.payload)).toBe("private_address_denied");
    expect((mixed.payload as Record<string, CborValue>).address).toBe("127.0.0.1");
    expect(seen.length).toBe(before);
  });

  it("aborts an oversized response with response_too_large", async () => {
    const out = await adapter.perform(request("http.request", get(`http://127.0.0.1:${port}/big`), loopbackGrant()));
    expect(out.status).toBe("error");
    expect(errorCode(out.payload)).toBe("response_too_large");
  });

  it("reports a slow server as timeout", async () => {
    const out = await adapter.perform(request("http.request", get(`http://127.0.0.1:${port}/slow`), loopbackGrant()));
    expect(out.status).toBe("timeout");
  });

  it("does not follow redirects", async () => {
    const out = await adapter.perform(
      request("http.request", get(`http://127.0.0.1:${port}/redirect`), loopbackGrant()),
    );
    expect(out.status).toBe("ok");
    const p = out.payload as Record<string, CborValue>;
    expect(p.status).toBe(302);
    expect((p.headers as Record<string, string>).location).toContain("169.254.169.254");
  });

  it("reports a refused connection as an error", async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
    const dead = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const out = await adapter.perform(request("http.request", get(`http://127.0.0.1:${dead}/`), loopbackGrant()));
    expect(out.status).toBe("error");
    expect(errorCode(out.payload)).toBe("connection_failed");
  });

  it("reports the kernel's cancellation as aborted", async () => {
    const ac = new AbortController();
    const p = adapter.perform(
      request("http.request", get(`http://127.0.0.1:${port}/slow`), loopbackGrant(), { signal: ac.signal }),
    );
    setTimeout(() => ac.abort(), 20);
    const out = await p;
    expect(out.status).toBe("error");
    expect(errorCode(out.payload)).toBe("aborted");
  });
});

describe("checkHttpAllowed (pure)", () => {
  const p = (url: string, method = "GET"): CborValue => ({ method, url, headers: {}, body_ref: null });
  it.each([
    [p("https://api.example.com/v1/x"), { hosts: ["*.example.com"] }, null],
    [p("https://example.com/v1/x"), { hosts: ["*.example.com"] }, "host_not_allowed"],
    [p("https://a.b.example.com./"), { hosts: ["*.example.com"] }, null],
    [p("https://evilexample.com/"), { hosts: ["*.example.com"] }, "host_not_allowed"],
    [p("https://API.Example.com/"), { hosts: ["api.example.com"] }, null],
    [p("http://api.example.com/"), { schemes: ["https"] }, "scheme_not_allowed"],
    [p("ftp://api.example.com/"), null, "unsupported_scheme"],
    [p("https://api.example.com/", "DELETE"), { methods: ["GET", "POST"] }, "method_not_allowed"],
    [p("https://api.example.com/", "post"), { methods: ["POST"] }, null],
    [p("https://api.example.com:8443/"), { ports: [443] }, "port_not_allowed"],
    [p("https://api.example.com/"), { ports: [443] }, null],
    [p("https://api.example.com/v2/x"), { path_prefixes: ["/v1/"] }, "path_not_allowed"],
    [p("https://api.example.com/v1/../v2/x"), { path_prefixes: ["/v1/"] }, "path_not_allowed"],
    [p("https://api.example.com/v1/%2e%2e/v2"), { path_prefixes: ["/v1/"] }, "path_not_allowed"],
    [p("https://user:pw@api.example.com/"), null, "invalid_url"],
    [p("not a url"), null, "invalid_url"],
    [p("https://api.example.com/"), { hosts: null, methods: null }, null],
  ] as [CborValue, CborValue, string | null][])("%j under %j → %s", (params, grant, code) => {
    expect(checkHttpAllowed(params, grant)?.code ?? null).toBe(code);
  });
});

describe("classifyAddress / addressMatches (pure)", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["::1", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["10.1.2.3", "private"],
    ["172.20.0.1", "private"],
    ["172.32.0.1", "public"],
    ["192.168.1.1", "private"],
    ["fc00::1", "private"],
    ["fd12::1", "private"],
    ["169.254.1.1", "link_local"],
    ["fe80::1", "link_local"],
    ["fe80::1%eth0", "link_local"],
    ["100.64.0.1", "cgnat"],
    ["100.128.0.1", "public"],
    ["0.0.0.0", "unspecified"],
    ["::", "unspecified"],
    ["169.254.169.254", "metadata"],
    ["fd00:ec2::254", "metadata"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "reserved"],
    ["8.8.8.8", "public"],
    ["2606:4700::1111", "public"],
    ["localhost", "invalid"],
  ])("%s is %s", (ip, cls) => expect(classifyAddress(ip)).toBe(cls));

  it("matches IPs and CIDRs, including v4-mapped addresses against v4 ranges", () => {
    expect(addressMatches("10.9.8.7", "10.0.0.0/8")).toBe(true);
    expect(addressMatches("11.0.0.1", "10.0.0.0/8")).toBe(false);
    expect(addressMatches("::ffff:10.0.0.1", "10.0.0.0/8")).toBe(true);
    expect(addressMatches("fd00::5", "fc00::/7")).toBe(true);
    expect(addressMatches("::1", "::1")).toBe(true);
    expect(addressMatches("127.0.0.1", "127.0.0.0/33")).toBe(false);
  });
});
