/**
 * The pure checks of an `mcp.call` against its `mcp` grant (the gate's under mcp-v1, and the
 * adapter's again at perform): servers and tools the grant lists, URL normalization, private
 * and loopback IP literals, arguments that are canonical CBOR with a JSON form, headers and
 * their secrets; and what a policy condition sees of the arguments.
 */
import { describe, expect, it } from "vitest";
import { CborTag, encodeCanonical, type CborValue } from "../../air/index.js";
import { checkMcpAllowed, conditionView, readArguments } from "../../kernel/adapters/index.js";

const call = (server: string, tool: string, args: CborValue = {}, headers: Record<string, string> = {}) => ({
  server,
  tool,
  arguments: args instanceof Uint8Array ? args : encodeCanonical(args),
  headers,
});
const grant = (servers: Record<string, string[]>, allowPrivate?: string[]) => ({
  servers: Object.fromEntries(Object.entries(servers).map(([s, tools]) => [s, { tools }])),
  allow_private: allowPrivate ?? null,
});
const codeOf = (params: CborValue, g: CborValue, secrets?: { headers?: Record<string, string[]> }) =>
  checkMcpAllowed(params, g, secrets, "tools")?.code ?? null;

const URL = "https://mcp.example.com/mcp";

describe("mcp.call grant checks", () => {
  it("allows a listed tool of a listed server, and nothing else", () => {
    const g = grant({ [URL]: ["search"], "stdio:files": ["read"] });
    expect(codeOf(call(URL, "search"), g)).toBeNull();
    expect(codeOf(call("stdio:files", "read"), g)).toBeNull();
    expect(codeOf(call(URL, "delete"), g)).toBe("tool_not_allowed");
    expect(codeOf(call("stdio:files", "search"), g)).toBe("tool_not_allowed");
    expect(codeOf(call("https://other.example.com/mcp", "search"), g)).toBe("server_not_allowed");
    expect(codeOf(call("stdio:shell", "read"), g)).toBe("server_not_allowed");
    expect(checkMcpAllowed(call(URL, "delete"), g, undefined, "tools")?.message).toBe(
      `tool "delete" is not in the tools grant tools allows on ${URL}`,
    );
  });

  it("compares URLs in their normalized form; a different path or port is another server", () => {
    const g = grant({ "HTTPS://MCP.Example.com:443/mcp": ["search"] });
    expect(codeOf(call(URL, "search"), g)).toBeNull();
    expect(codeOf(call("https://mcp.example.com:8443/mcp", "search"), g)).toBe("server_not_allowed");
    expect(codeOf(call("https://mcp.example.com/mcp/", "search"), g)).toBe("server_not_allowed");
  });

  it("refuses what is not a server: another scheme, credentials in the URL, a bad stdio name", () => {
    const g = grant({ [URL]: ["search"] });
    expect(codeOf(call("ftp://mcp.example.com/", "search"), g)).toBe("invalid_server");
    expect(codeOf(call("https://user:pw@mcp.example.com/mcp", "search"), g)).toBe("invalid_server");
    expect(codeOf(call("stdio:../bin/sh", "search"), g)).toBe("invalid_server");
    expect(codeOf(call("mcp.example.com", "search"), g)).toBe("invalid_server");
    expect(codeOf({ server: 7, tool: "x", arguments: new Uint8Array([0xa0]), headers: null }, g)).toBe(
      "invalid_params",
    );
  });

  it("denies a private or loopback IP literal unless allow_private names it", () => {
    const local = "http://127.0.0.1:8931/mcp";
    expect(codeOf(call(local, "t"), grant({ [local]: ["t"] }))).toBe("private_address_denied");
    expect(codeOf(call(local, "t"), grant({ [local]: ["t"] }, ["127.0.0.1"]))).toBeNull();
    const meta = "http://169.254.169.254/mcp";
    expect(codeOf(call(meta, "t"), grant({ [meta]: ["t"] }, ["127.0.0.1"]))).toBe("private_address_denied");
  });

  it("takes arguments that are canonical CBOR of a text-keyed map with a JSON form", () => {
    const g = grant({ [URL]: ["search"] });
    const ok = { q: "cats", n: 3, ratio: 0.5, tags: ["a", null, true], nested: { x: -1 } };
    expect(codeOf(call(URL, "search", ok), g)).toBeNull();
    expect(readArguments(encodeCanonical(ok))).toEqual({ ok: true, value: ok });
    const bad: [string, CborValue | Uint8Array][] = [
      ["not canonical (a long head)", new Uint8Array([0xa1, 0x61, 0x6e, 0x18, 0x01])],
      ["not a map", encodeCanonical(["q"])],
      ["bytes", { b: new Uint8Array([1]) }],
      ["past 2^53", { n: 2n ** 60n }],
      ["a dec128 tag", { d: new CborTag(1234, new Uint8Array(16)) }],
      ["NaN", { f: Number.NaN }],
      ["an int-keyed map", { m: new Map([[1, "x"]]) }],
    ];
    for (const [what, args] of bad) expect(codeOf(call(URL, "search", args), g), what).toBe("invalid_arguments");
    expect(checkMcpAllowed(call(URL, "search", { a: [{ b: new Uint8Array([1]) }] }), g)?.message).toContain(
      "arguments.a[0].b",
    );
  });

  it("checks headers: no transport header, none to a stdio server, secrets only where the grant lists them", () => {
    const g = grant({ [URL]: ["search"], "stdio:files": ["read"] });
    const secrets = { headers: { Authorization: ["t/api@1"] } };
    expect(codeOf(call(URL, "search", {}, { "X-Trace": "1" }), g)).toBeNull();
    expect(codeOf(call(URL, "search", {}, { "Mcp-Session-Id": "s" }), g)).toBe("invalid_params");
    expect(codeOf(call(URL, "search", {}, { "X-A": "a\r\nHost: evil" }), g)).toBe("invalid_params");
    expect(codeOf(call("stdio:files", "read", {}, { "X-Trace": "1" }), g)).toBe("invalid_params");
    const auth = { Authorization: "Bearer {secret:t/api@1}" };
    expect(codeOf(call(URL, "search", {}, auth), g, secrets)).toBeNull();
    expect(codeOf(call(URL, "search", {}, auth), g)).toBe("secret_not_allowed");
    expect(codeOf(call(URL, "search", {}, { "X-Leak": "{secret:t/api@1}" }), g, secrets)).toBe("secret_not_allowed");
  });

  it("shows policy conditions the decoded arguments, floats as their decimal text", () => {
    const params = {
      server: URL,
      tool: "pay",
      arguments: encodeCanonical({ amount: 1200, rate: 0.25 }),
      headers: null,
    };
    expect(conditionView("mcp.call", params)).toEqual({ ...params, arguments: { amount: 1200, rate: "0.25" } });
    expect(conditionView("http.request", params)).toBe(params);
    const broken = { ...params, arguments: new Uint8Array([0xff]) };
    expect(conditionView("mcp.call", broken)).toBe(broken);
  });
});
