/**
 * @module IP address classification for the HTTP adapter's SSRF guard. Every resolved
 * address is classified before we connect; anything but `public` needs an explicit
 * `allow_private` entry in the grant. The deny list is data: every entry of the IANA IPv4
 * and IPv6 Special-Purpose Address Registries that is not globally reachable (below), plus
 * the multicast blocks and deprecated IPv6 forms those registries do not list, and every
 * IPv6 address outside global unicast 2000::/3. ipaddr.js parses, matches prefixes and
 * gives a second opinion from its own special-range table.
 *
 * Addresses that carry an IPv4 address are classified by it where the host would really
 * talk to that IPv4 address: IPv4-mapped `::ffff:a.b.c.d` and NAT64 `64:ff9b::a.b.c.d` are
 * exactly their IPv4 address (`::ffff:127.0.0.1` is loopback, `64:ff9b::8.8.8.8` public).
 * Tunnel and translation forms (6to4 `2002::/16`, Teredo `2001::/32`, IPv4-compatible
 * `::a.b.c.d`, SIIT `::ffff:0:a.b.c.d`) are always denied: they are named after the IPv4
 * address they carry when that is special (`2002:7f00:1::` is loopback), `reserved` otherwise.
 */
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

/** What kind of address an IP is; only `public` is reachable without an allow_private grant. */
export type AddressClass =
  | "public"
  | "loopback"
  | "private"
  | "link_local"
  | "cgnat"
  | "unspecified"
  | "metadata"
  | "multicast"
  | "reserved"
  | "invalid";

/**
 * How an address in a block carries an IPv4 address: `exact` blocks are that IPv4 address
 * (classified as it, public included); `tunnel` blocks are denied whatever they carry.
 */
interface Embedding {
  readonly kind: "exact" | "tunnel";
  /** The carried IPv4 address's 4 bytes, from the IPv6 address's 16. */
  readonly v4: (b: readonly number[]) => number[];
}

/** One special-purpose block: its CIDR, registry name and RFC, and the class it gets. */
export interface SpecialPurposeRange {
  readonly cidr: string;
  readonly name: string;
  readonly rfc: string;
  /** The registry's "Globally Reachable" column ("-" for blocks no special registry lists). */
  readonly globallyReachable: "False" | "N/A" | "-";
  readonly cls: Exclude<AddressClass, "public" | "invalid">;
  readonly embeds?: Embedding;
}

const last4 = (b: readonly number[]): number[] => b.slice(12, 16);
const sixToFour = (b: readonly number[]): number[] => b.slice(2, 6);
/** Teredo (RFC 4380 §4): the client's IPv4 address is the last 32 bits, every bit inverted. */
const teredoClient = (b: readonly number[]): number[] => b.slice(12, 16).map((x) => x ^ 0xff);

/**
 * IANA IPv4 Special-Purpose Address Registry (iana-ipv4-special-registry, RFC 6890 as
 * updated by RFC 8190): every entry whose "Globally Reachable" is False or N/A. Entries
 * that are globally reachable (192.0.0.9/32, 192.0.0.10/32, 192.31.196.0/24,
 * 192.52.193.0/24, 192.88.99.2/32, 192.175.48.0/24) are not listed; where one lies inside
 * a listed block (192.0.0.0/24, 192.88.99.0/24) it is denied with its parent.
 */
export const IANA_IPV4_SPECIAL_PURPOSE: readonly SpecialPurposeRange[] = [
  { cidr: "0.0.0.0/8", name: '"This network"', rfc: "RFC 791 §3.2", globallyReachable: "False", cls: "unspecified" },
  {
    cidr: "0.0.0.0/32",
    name: '"This host on this network"',
    rfc: "RFC 1122 §3.2.1.3",
    globallyReachable: "False",
    cls: "unspecified",
  },
  { cidr: "10.0.0.0/8", name: "Private-Use", rfc: "RFC 1918", globallyReachable: "False", cls: "private" },
  { cidr: "100.64.0.0/10", name: "Shared Address Space", rfc: "RFC 6598", globallyReachable: "False", cls: "cgnat" },
  { cidr: "127.0.0.0/8", name: "Loopback", rfc: "RFC 1122 §3.2.1.3", globallyReachable: "False", cls: "loopback" },
  { cidr: "169.254.0.0/16", name: "Link Local", rfc: "RFC 3927", globallyReachable: "False", cls: "link_local" },
  { cidr: "172.16.0.0/12", name: "Private-Use", rfc: "RFC 1918", globallyReachable: "False", cls: "private" },
  {
    cidr: "192.0.0.0/24",
    name: "IETF Protocol Assignments",
    rfc: "RFC 6890 §2.1",
    globallyReachable: "False",
    cls: "reserved",
  },
  {
    cidr: "192.0.0.0/29",
    name: "IPv4 Service Continuity Prefix",
    rfc: "RFC 7335",
    globallyReachable: "False",
    cls: "reserved",
  },
  { cidr: "192.0.0.8/32", name: "IPv4 dummy address", rfc: "RFC 7600", globallyReachable: "False", cls: "reserved" },
  {
    cidr: "192.0.0.170/32",
    name: "NAT64/DNS64 Discovery",
    rfc: "RFC 8880, RFC 7050 §2.2",
    globallyReachable: "False",
    cls: "reserved",
  },
  {
    cidr: "192.0.0.171/32",
    name: "NAT64/DNS64 Discovery",
    rfc: "RFC 8880, RFC 7050 §2.2",
    globallyReachable: "False",
    cls: "reserved",
  },
  {
    cidr: "192.0.2.0/24",
    name: "Documentation (TEST-NET-1)",
    rfc: "RFC 5737",
    globallyReachable: "False",
    cls: "reserved",
  },
  {
    cidr: "192.88.99.0/24",
    name: "Deprecated (6to4 Relay Anycast)",
    rfc: "RFC 7526",
    globallyReachable: "N/A",
    cls: "reserved",
  },
  { cidr: "192.168.0.0/16", name: "Private-Use", rfc: "RFC 1918", globallyReachable: "False", cls: "private" },
  { cidr: "198.18.0.0/15", name: "Benchmarking", rfc: "RFC 2544", globallyReachable: "False", cls: "reserved" },
  {
    cidr: "198.51.100.0/24",
    name: "Documentation (TEST-NET-2)",
    rfc: "RFC 5737",
    globallyReachable: "False",
    cls: "reserved",
  },
  {
    cidr: "203.0.113.0/24",
    name: "Documentation (TEST-NET-3)",
    rfc: "RFC 5737",
    globallyReachable: "False",
    cls: "reserved",
  },
  { cidr: "240.0.0.0/4", name: "Reserved", rfc: "RFC 1112 §4", globallyReachable: "False", cls: "reserved" },
  {
    cidr: "255.255.255.255/32",
    name: "Limited Broadcast",
    rfc: "RFC 8190, RFC 919 §7",
    globallyReachable: "False",
    cls: "reserved",
  },
];

/**
 * IANA IPv6 Special-Purpose Address Registry (iana-ipv6-special-registry, RFC 6890 as
 * updated by RFC 8190): every entry whose "Globally Reachable" is False or N/A. Globally
 * reachable entries (64:ff9b::/96, 2001:1::1/128, 2001:1::2/128, 2001:1::3/128,
 * 2001:3::/32, 2001:4:112::/48, 2001:20::/28, 2001:30::/28, 2620:4f:8000::/48) are not
 * listed; those inside 2001::/23 are denied with it, and 64:ff9b::/96 is classified by the
 * IPv4 address it carries (NAT64_WELL_KNOWN below).
 */
export const IANA_IPV6_SPECIAL_PURPOSE: readonly SpecialPurposeRange[] = [
  { cidr: "::1/128", name: "Loopback Address", rfc: "RFC 4291", globallyReachable: "False", cls: "loopback" },
  { cidr: "::/128", name: "Unspecified Address", rfc: "RFC 4291", globallyReachable: "False", cls: "unspecified" },
  {
    cidr: "::ffff:0:0/96",
    name: "IPv4-mapped Address",
    rfc: "RFC 4291",
    globallyReachable: "False",
    cls: "reserved",
    embeds: { kind: "exact", v4: last4 },
  },
  {
    cidr: "64:ff9b:1::/48",
    name: "IPv4-IPv6 Translat. (local-use)",
    rfc: "RFC 8215",
    globallyReachable: "False",
    cls: "reserved",
  },
  {
    cidr: "100::/64",
    name: "Discard-Only Address Block",
    rfc: "RFC 6666",
    globallyReachable: "False",
    cls: "reserved",
  },
  { cidr: "100:0:0:1::/64", name: "Dummy IPv6 Prefix", rfc: "RFC 9780", globallyReachable: "False", cls: "reserved" },
  {
    cidr: "2001::/23",
    name: "IETF Protocol Assignments",
    rfc: "RFC 2928",
    globallyReachable: "False",
    cls: "reserved",
  },
  {
    cidr: "2001::/32",
    name: "TEREDO",
    rfc: "RFC 4380, RFC 8190",
    globallyReachable: "N/A",
    cls: "reserved",
    embeds: { kind: "tunnel", v4: teredoClient },
  },
  { cidr: "2001:2::/48", name: "Benchmarking", rfc: "RFC 5180", globallyReachable: "False", cls: "reserved" },
  {
    cidr: "2001:10::/28",
    name: "Deprecated (previously ORCHID)",
    rfc: "RFC 4843",
    globallyReachable: "N/A",
    cls: "reserved",
  },
  { cidr: "2001:db8::/32", name: "Documentation", rfc: "RFC 3849", globallyReachable: "False", cls: "reserved" },
  {
    cidr: "2002::/16",
    name: "6to4",
    rfc: "RFC 3056",
    globallyReachable: "N/A",
    cls: "reserved",
    embeds: { kind: "tunnel", v4: sixToFour },
  },
  { cidr: "3fff::/20", name: "Documentation", rfc: "RFC 9637", globallyReachable: "False", cls: "reserved" },
  {
    cidr: "5f00::/16",
    name: "Segment Routing (SRv6) SIDs",
    rfc: "RFC 9602",
    globallyReachable: "False",
    cls: "reserved",
  },
  { cidr: "fc00::/7", name: "Unique-Local", rfc: "RFC 4193, RFC 8190", globallyReachable: "False", cls: "private" },
  { cidr: "fe80::/10", name: "Link-Local Unicast", rfc: "RFC 4291", globallyReachable: "False", cls: "link_local" },
];

/**
 * Blocks no special-purpose registry lists that are never a public unicast destination:
 * multicast (IANA IPv4 and IPv6 Multicast Address Space registries), deprecated IPv6 forms
 * (IANA IPv6 Address Space registry) and cloud instance-metadata endpoints. IPv6 outside
 * 2000::/3 that no row names is `reserved` too (see classify6).
 */
export const OTHER_DENIED_RANGES: readonly SpecialPurposeRange[] = [
  { cidr: "224.0.0.0/4", name: "Multicast", rfc: "RFC 5771", globallyReachable: "-", cls: "multicast" },
  { cidr: "169.254.169.254/32", name: "Cloud instance metadata", rfc: "-", globallyReachable: "-", cls: "metadata" },
  {
    cidr: "::/96",
    name: "IPv4-compatible (deprecated)",
    rfc: "RFC 4291 §2.5.5.1",
    globallyReachable: "-",
    cls: "reserved",
    embeds: { kind: "tunnel", v4: last4 },
  },
  {
    cidr: "::ffff:0:0:0/96",
    name: "IPv4-translated (SIIT)",
    rfc: "RFC 2765 §2.1, RFC 6145",
    globallyReachable: "-",
    cls: "reserved",
    embeds: { kind: "tunnel", v4: last4 },
  },
  { cidr: "fec0::/10", name: "Site-local (deprecated)", rfc: "RFC 3879", globallyReachable: "-", cls: "private" },
  { cidr: "ff00::/8", name: "Multicast", rfc: "RFC 4291 §2.7", globallyReachable: "-", cls: "multicast" },
  {
    cidr: "fd00:ec2::254/128",
    name: "Cloud instance metadata (AWS IPv6)",
    rfc: "-",
    globallyReachable: "-",
    cls: "metadata",
  },
];

/** The NAT64 well-known prefix (RFC 6052, globally reachable): exactly the IPv4 address it carries. */
const NAT64_WELL_KNOWN: SpecialPurposeRange = {
  cidr: "64:ff9b::/96",
  name: "IPv4-IPv6 Translat.",
  rfc: "RFC 6052",
  globallyReachable: "-",
  cls: "reserved",
  embeds: { kind: "exact", v4: last4 },
};

/** IPv6 global unicast (IANA IPv6 Address Space registry); nothing outside it is public. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");

/** ipaddr.js `range()` names that are globally reachable (registry: True); any other is denied. */
const REACHABLE_V4_RANGES: ReadonlySet<string> = new Set(["unicast", "as112", "amt"]);
const REACHABLE_V6_RANGES: ReadonlySet<string> = new Set([
  "unicast",
  "rfc6052",
  "as112v6",
  "amt",
  "orchid2",
  "droneRemoteIdProtocolEntityTags",
]);

interface CompiledRange {
  range: SpecialPurposeRange;
  net: [ipaddr.IPv4 | ipaddr.IPv6, number];
}

function compile(list: readonly SpecialPurposeRange[], kind: "ipv4" | "ipv6"): CompiledRange[] {
  // Most specific first, so the first match names the block (169.254.169.254/32 before 169.254.0.0/16).
  return list
    .map((r): CompiledRange => ({ range: r, net: ipaddr.parseCIDR(r.cidr) }))
    .filter((c) => c.net[0].kind() === kind)
    .sort((a, b) => b.net[1] - a.net[1]);
}

const ALL_DENIED = [...IANA_IPV4_SPECIAL_PURPOSE, ...IANA_IPV6_SPECIAL_PURPOSE, ...OTHER_DENIED_RANGES];
const DENIED_V4 = compile(ALL_DENIED, "ipv4");
const DENIED_V6 = compile([...ALL_DENIED, NAT64_WELL_KNOWN], "ipv6");

/**
 * Parses an IP literal (v4 or v6, optional brackets and zone) to 4 or 16 bytes, or null.
 * node:net's isIP gates it (strict: dotted-quad IPv4 only, so `127.1`, `0x7f.0.0.1` and
 * `0177.0.0.1` are not addresses), then the groups are expanded by hand rather than by
 * ipaddr.parse: ipaddr.js reads the IPv4-compatible `::8.8.8.8` as the IPv4-mapped
 * `::ffff:8.8.8.8`, which is not the address a socket would connect to.
 */
export function parseIp(ip: string): Uint8Array | null {
  let s = ip.startsWith("[") && ip.endsWith("]") ? ip.slice(1, -1) : ip;
  const zone = s.indexOf("%");
  if (zone >= 0) s = s.slice(0, zone);
  const fam = isIP(s);
  if (fam === 4) return Uint8Array.from(s.split(".").map(Number));
  if (fam !== 6) return null;
  let tail: number[] = [];
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const v4 = s
      .slice(lastColon + 1)
      .split(".")
      .map(Number);
    tail = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const [head, rest] = s.includes("::") ? (s.split("::") as [string, string]) : [s, null];
  const hg = head === "" ? [] : head.split(":");
  const rg = rest === null || rest === "" ? [] : rest.split(":");
  const groups = rest === null ? hg : [...hg, ...Array<string>(8 - hg.length - rg.length).fill("0"), ...rg];
  const words = groups.map((g) => parseInt(g, 16));
  if (tail.length) words.splice(6, 2, ...tail);
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

/** The ipaddr.js address of an IP literal (see parseIp), or null. */
function parseAddr(ip: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  const b = parseIp(ip);
  return b === null ? null : ipaddr.fromByteArray([...b]);
}

function firstMatch(table: readonly CompiledRange[], a: ipaddr.IPv4 | ipaddr.IPv6): SpecialPurposeRange | null {
  for (const c of table) if (a.match(c.net)) return c.range;
  return null;
}

function classify4(a: ipaddr.IPv4): AddressClass {
  const hit = firstMatch(DENIED_V4, a);
  if (hit) return hit.cls;
  return REACHABLE_V4_RANGES.has(a.range()) ? "public" : "reserved";
}

function classify6(a: ipaddr.IPv6): AddressClass {
  const hit = firstMatch(DENIED_V6, a);
  if (hit?.embeds) {
    const inner = classify4(new ipaddr.IPv4(hit.embeds.v4(a.toByteArray())));
    if (hit.embeds.kind === "exact") return inner;
    return inner === "public" ? hit.cls : inner;
  }
  if (hit) return hit.cls;
  if (!a.match(GLOBAL_UNICAST_V6)) return "reserved";
  return REACHABLE_V6_RANGES.has(a.range()) ? "public" : "reserved";
}

/** Classifies an IP literal; a non-IP string is `invalid`. */
export function classifyAddress(ip: string): AddressClass {
  const a = parseAddr(ip);
  if (!a) return "invalid";
  return a.kind() === "ipv4" ? classify4(a as ipaddr.IPv4) : classify6(a as ipaddr.IPv6);
}

/** True when `ip` equals an IP entry or lies inside a CIDR entry (`10.0.0.0/8`, `fc00::/7`). */
export function addressMatches(ip: string, entry: string): boolean {
  const addr = parseAddr(ip);
  if (!addr) return false;
  const slash = entry.indexOf("/");
  const net = parseAddr(slash >= 0 ? entry.slice(0, slash) : entry);
  if (!net) return false;
  const width = net.kind() === "ipv4" ? 32 : 128;
  const bitsText = slash >= 0 ? entry.slice(slash + 1) : String(width);
  const bits = /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return false;
  // An IPv4-mapped address matches IPv4 entries: it is that IPv4 address on the wire.
  const a =
    addr.kind() === net.kind()
      ? addr
      : addr.kind() === "ipv6" && net.kind() === "ipv4" && (addr as ipaddr.IPv6).isIPv4MappedAddress()
        ? (addr as ipaddr.IPv6).toIPv4Address()
        : null;
  return a !== null && a.match(net, bits);
}
