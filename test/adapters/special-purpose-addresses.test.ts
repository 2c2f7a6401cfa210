/**
 * @module The HTTP SSRF guard against the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries: the first and last address of every non-globally-reachable registry block
 * (and of every other denied block) is denied, embedded IPv4 in mapped / NAT64 / 6to4 /
 * Teredo / SIIT addresses is classified as the spec says, ipaddr.js's own special ranges
 * agree, and well-known public addresses stay allowed — in the pure classifier, in the
 * gate's allowlist check and in the adapter after DNS resolution.
 */
import ipaddr from "ipaddr.js";
import { describe, expect, it } from "vitest";
import type { CborValue } from "../../air/index.js";
import { checkAddress, checkHttpAllowed, classifyAddress, createHttpAdapter } from "../../kernel/adapters/index.js";
import {
  IANA_IPV4_SPECIAL_PURPOSE,
  IANA_IPV6_SPECIAL_PURPOSE,
  OTHER_DENIED_RANGES,
  parseIp,
} from "../../kernel/adapters/http/address.js";
import { errorCode, request } from "./harness.js";

const get = (url: string): CborValue => ({ method: "GET", url, headers: {}, body_ref: null });

/** First and last address of a CIDR, as text. */
function bounds(cidr: string): [string, string] {
  const [net] = ipaddr.parseCIDR(cidr);
  const cls = net.kind() === "ipv4" ? ipaddr.IPv4 : ipaddr.IPv6;
  return [cls.networkAddressFromCIDR(cidr).toString(), cls.broadcastAddressFromCIDR(cidr).toString()];
}

const denied = (ip: string) => checkAddress(ip, ip, []).ok === false;

const PUBLIC = [
  "8.8.8.8",
  "1.1.1.1",
  "9.9.9.9",
  "93.184.216.34",
  "2606:4700:4700::1111",
  "2001:4860:4860::8888",
  "2620:fe::fe",
  "[2606:4700:4700::1001]",
];

describe("IANA Special-Purpose Address Registries: every non-globally-reachable block is denied", () => {
  const registry = [...IANA_IPV4_SPECIAL_PURPOSE, ...IANA_IPV6_SPECIAL_PURPOSE];

  it("the tables hold only registry entries that are not globally reachable, each a network address", () => {
    expect(IANA_IPV4_SPECIAL_PURPOSE.length).toBeGreaterThanOrEqual(20);
    expect(IANA_IPV6_SPECIAL_PURPOSE.length).toBeGreaterThanOrEqual(16);
    for (const r of registry) {
      expect(["False", "N/A"], r.cidr).toContain(r.globallyReachable);
      const [net, bits] = ipaddr.parseCIDR(r.cidr);
      const cls = net.kind() === "ipv4" ? ipaddr.IPv4 : ipaddr.IPv6;
      expect(cls.networkAddressFromCIDR(r.cidr).toString(), r.cidr).toBe(net.toString());
      expect(bits).toBeGreaterThan(0);
    }
    const cidrs = registry.map((r) => r.cidr);
    for (const c of [
      "0.0.0.0/8",
      "10.0.0.0/8",
      "100.64.0.0/10",
      "127.0.0.0/8",
      "169.254.0.0/16",
      "172.16.0.0/12",
      "192.0.0.0/24",
      "192.0.2.0/24",
      "192.88.99.0/24",
      "192.168.0.0/16",
      "198.18.0.0/15",
      "198.51.100.0/24",
      "203.0.113.0/24",
      "240.0.0.0/4",
      "255.255.255.255/32",
      "::1/128",
      "::/128",
      "::ffff:0:0/96",
      "64:ff9b:1::/48",
      "100::/64",
      "2001::/23",
      "2001::/32",
      "2001:2::/48",
      "2001:10::/28",
      "2001:db8::/32",
      "2002::/16",
      "3fff::/20",
      "5f00::/16",
      "fc00::/7",
      "fe80::/10",
    ])
      expect(cidrs, c).toContain(c);
  });

  for (const r of [...registry, ...OTHER_DENIED_RANGES]) {
    const [first, last] = bounds(r.cidr);
    it(`${r.cidr} (${r.name}): first ${first} and last ${last} are denied`, () => {
      for (const ip of [first, last]) {
        expect(parseIp(ip), ip).not.toBeNull();
        const cls = classifyAddress(ip);
        expect(cls, ip).not.toBe("public");
        expect(cls, ip).not.toBe("invalid");
        expect(denied(ip), ip).toBe(true);
        expect(checkHttpAllowed(get(`http://${ip.includes(":") ? `[${ip}]` : ip}/`), null)?.code, ip).toBe(
          "private_address_denied",
        );
      }
    });
  }

  it("well-known public addresses are allowed", () => {
    for (const ip of PUBLIC) {
      expect(classifyAddress(ip), ip).toBe("public");
      expect(checkAddress(ip, ip, []).ok, ip).toBe(true);
    }
    expect(checkHttpAllowed(get("https://8.8.8.8/"), null)).toBeNull();
    expect(checkHttpAllowed(get("https://[2606:4700:4700::1111]/"), null)).toBeNull();
  });

  it("ipaddr.js's own special ranges agree: every non-unicast block it knows is denied, bar the globally reachable ones", () => {
    type Ranges = Record<string, [ipaddr.IPv4 | ipaddr.IPv6, number] | [ipaddr.IPv4 | ipaddr.IPv6, number][]>;
    const reachable = new Set([
      "as112",
      "amt",
      "as112v6",
      "orchid2",
      "droneRemoteIdProtocolEntityTags",
      "rfc6052",
      "ipv4Mapped",
    ]);
    for (const proto of [ipaddr.IPv4.prototype, ipaddr.IPv6.prototype]) {
      const ranges = (proto as unknown as { SpecialRanges: Ranges }).SpecialRanges;
      for (const [name, spec] of Object.entries(ranges)) {
        if (reachable.has(name)) continue;
        const list = (Array.isArray(spec[0]) ? spec : [spec]) as [ipaddr.IPv4 | ipaddr.IPv6, number][];
        for (const [net, bits] of list) {
          for (const ip of bounds(`${net.toString()}/${bits}`)) expect(denied(ip), `${name} ${ip}`).toBe(true);
        }
      }
    }
  });
});

describe("the specific examples", () => {
  it.each([
    // 6to4 2002::/16: wrapping 127.0.0.1 is loopback; wrapping a public v4 is still 6to4 (denied).
    ["2002:7f00:1::", "loopback"],
    ["2002:7f00:1::1", "loopback"],
    ["2002:a00:1::", "private"],
    ["2002:a9fe:a9fe::", "metadata"],
    ["2002:808:808::", "reserved"],
    // Teredo 2001::/32: the client v4 is the inverted last 32 bits (80ff:fffe = 127.0.0.1).
    ["2001:0:4136:e378:8000:63bf:80ff:fffe", "loopback"],
    ["2001:0:4136:e378:8000:63bf:f7f7:f7f7", "reserved"],
    ["2001::1", "reserved"],
    // NAT64: the well-known prefix is its v4 address; the local-use /48 is always denied.
    ["64:ff9b::7f00:1", "loopback"],
    ["64:ff9b::10.0.0.1", "private"],
    ["64:ff9b::a9fe:a9fe", "metadata"],
    ["64:ff9b::808:808", "public"],
    ["64:ff9b:1::", "reserved"],
    ["64:ff9b:1::808:808", "reserved"],
    ["64:ff9b:1:ffff:ffff:ffff:ffff:ffff", "reserved"],
    // IPv4-mapped is its v4 address; SIIT (IPv4-translated) and IPv4-compatible are always denied.
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:7f00:1", "loopback"],
    ["::ffff:169.254.169.254", "metadata"],
    ["::ffff:8.8.8.8", "public"],
    ["::ffff:0:7f00:1", "loopback"],
    ["::ffff:0:8.8.8.8", "reserved"],
    ["::127.0.0.1", "loopback"],
    ["::8.8.8.8", "reserved"],
    ["::808:808", "reserved"],
    // Other IPv6 special blocks.
    ["fec0::1", "private"],
    ["feff::1", "private"],
    ["2001:db8::1", "reserved"],
    ["3fff::1", "reserved"],
    ["5f00::1", "reserved"],
    ["100::1", "reserved"],
    ["100:0:0:1::1", "reserved"],
    ["2001:2::1", "reserved"],
    ["2001:10::1", "reserved"],
    ["2001:20::1", "reserved"],
    ["ff02::1", "multicast"],
    ["4000::1", "reserved"],
    ["1::1", "reserved"],
    ["e000::1", "reserved"],
    // IPv4 special blocks.
    ["198.18.0.1", "reserved"],
    ["198.19.255.255", "reserved"],
    ["192.0.0.1", "reserved"],
    ["192.0.0.9", "reserved"],
    ["192.0.0.170", "reserved"],
    ["192.0.2.1", "reserved"],
    ["198.51.100.7", "reserved"],
    ["203.0.113.9", "reserved"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.254", "reserved"],
    ["192.88.99.1", "reserved"],
    ["100.64.0.1", "cgnat"],
    ["100.127.255.255", "cgnat"],
    ["0.1.2.3", "unspecified"],
    ["239.255.255.255", "multicast"],
    // Just outside the blocks: public.
    ["100.63.255.255", "public"],
    ["100.128.0.0", "public"],
    ["198.17.255.255", "public"],
    ["198.20.0.0", "public"],
    ["192.0.1.0", "public"],
    ["223.255.255.255", "public"],
    ["2003::1", "public"],
    ["2001:200::1", "public"],
    ["2620:4f:8000::1", "public"],
  ])("%s is %s", (ip, cls) => {
    expect(classifyAddress(ip)).toBe(cls);
    expect(checkAddress(ip, ip, []).ok).toBe(cls === "public");
  });

  it("allow_private still opens a special range when the grant names it (by v6 CIDR, not by the carried v4)", () => {
    expect(checkAddress("2002:7f00:1::", "2002:7f00:1::", ["127.0.0.1"]).ok).toBe(false);
    expect(checkAddress("2002:7f00:1::", "2002:7f00:1::", ["2002:7f00::/24"]).ok).toBe(true);
    expect(checkAddress("198.18.0.5", "198.18.0.5", ["198.18.0.0/15"]).ok).toBe(true);
    expect(checkHttpAllowed(get("http://[2002:7f00:1::]/"), { allow_private: ["2002::/16"] })).toBeNull();
    expect(checkHttpAllowed(get("http://[2002:7f00:1::]/"), { allow_private: ["127.0.0.0/8"] })?.code).toBe(
      "private_address_denied",
    );
  });

  it("the adapter refuses host names resolving to special-purpose addresses, before connecting", async () => {
    const answers: Record<string, { address: string; family: number }[]> = {
      "sixtofour.test": [{ address: "2002:7f00:1::", family: 6 }],
      "teredo.test": [{ address: "2001:0:4136:e378:8000:63bf:80ff:fffe", family: 6 }],
      "nat64.test": [{ address: "64:ff9b:1::a00:1", family: 6 }],
      "bench.test": [{ address: "198.18.0.1", family: 4 }],
      "doc.test": [{ address: "203.0.113.5", family: 4 }],
      "cgnat.test": [{ address: "100.64.1.1", family: 4 }],
    };
    const adapter = createHttpAdapter({ timeoutMs: 500, resolve: async (h) => answers[h] ?? [] });
    for (const host of Object.keys(answers)) {
      const out = await adapter.perform(request("http.request", get(`http://${host}/`), null));
      expect(out.status, host).toBe("error");
      expect(errorCode(out.payload), host).toBe("private_address_denied");
    }
  });
});
