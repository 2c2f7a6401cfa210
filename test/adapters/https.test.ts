/**
 * HTTPS through the pinned address: the adapter connects to the IP it checked while TLS
 * still verifies the certificate against the original host name (SNI + hostname check).
 * The self-signed test certificate (test/adapters/fixtures, SAN rebind.test, localhost,
 * 127.0.0.1, valid 100 years) is trusted only through the adapter's `ca` option.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CborValue } from "../../air/index.js";
import { createHttpAdapter } from "../../kernel/adapters/index.js";
import { errorCode, ref, request } from "./harness.js";

const cert = readFileSync(new URL("./fixtures/tls-test.cert.pem", import.meta.url));
const key = readFileSync(new URL("./fixtures/tls-test.key.pem", import.meta.url));
let server: Server;
let port = 0;
const sni: (string | false)[] = [];

beforeAll(async () => {
  server = createServer({ cert, key }, (req, res) => {
    sni.push((req.socket as unknown as { servername: string | false }).servername);
    res.end(`tls ${req.headers.host}`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const get = (url: string): CborValue => ({ method: "GET", url, headers: {}, body_ref: null });
const resolve = async (h: string) =>
  h === "rebind.test" || h === "other.test" ? [{ address: "127.0.0.1", family: 4 }] : [];

describe("http.request over TLS", () => {
  it("verifies the certificate against the original host while connecting to the checked address", async () => {
    const adapter = createHttpAdapter({ ca: cert, resolve, timeoutMs: 2000 });
    const req = request("http.request", get(`https://rebind.test:${port}/`), { allow_private: ["127.0.0.1"] });
    const out = await adapter.perform(req);
    expect(
      out.status,
      JSON.stringify(out.payload, (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v)),
    ).toBe("ok");
    expect(new TextDecoder().decode(req.blobs.get(ref(out.payload, "body_ref")))).toBe(`tls rebind.test:${port}`);
    expect(sni.at(-1)).toBe("rebind.test");
  });

  it("fails when the certificate does not name the host, and without the test CA", async () => {
    const wrongName = await createHttpAdapter({ ca: cert, resolve, timeoutMs: 2000 }).perform(
      request("http.request", get(`https://other.test:${port}/`), { allow_private: ["127.0.0.1"] }),
    );
    expect(errorCode(wrongName.payload)).toBe("connection_failed");
    const untrusted = await createHttpAdapter({ resolve, timeoutMs: 2000 }).perform(
      request("http.request", get(`https://rebind.test:${port}/`), { allow_private: ["127.0.0.1"] }),
    );
    expect(errorCode(untrusted.payload)).toBe("connection_failed");
  });
});
