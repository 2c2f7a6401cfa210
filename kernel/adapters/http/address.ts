/**
 * @module IP address classification for the HTTP adapter's SSRF guard. Every resolved
 * address is classified before we connect; anything but `public` needs an explicit
 * `allow_private` entry in the grant. IPv4-mapped, IPv4-compatible and NAT64 IPv6
 * addresses are classified by the IPv4 address they embed, so `::ffff:127.0.0.1` is loopback.
 */
import { isIP } from "node:net";

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

/** Parses an IP literal (v4 or v6, optional brackets and zone) to 4 or 16 bytes, or null. */
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
    const v4 = s.slice(lastColon + 1).split(".").map(Number);
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

/** True when the first `bits` bits of `a` and `b` agree. */
function prefixEq(a: Uint8Array, b: readonly number[], bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const byte = i >> 3;
    const mask = 0x80 >> (i & 7);
    if ((a[byte]! & mask) !== ((b[byte] ?? 0) & mask)) return false;
  }
  return true;
}

function classify4(b: Uint8Array): AddressClass {
  const [a, c] = [b[0]!, b[1]!];
  if (a === 169 && c === 254 && b[2] === 169 && b[3] === 254) return "metadata";
  if (a === 0) return "unspecified";
  if (a === 127) return "loopback";
  if (a === 10 || (a === 172 && (c & 0xf0) === 16) || (a === 192 && c === 168)) return "private";
  if (a === 169 && c === 254) return "link_local";
  if (a === 100 && (c & 0xc0) === 64) return "cgnat";
  if (a >= 224 && a <= 239) return "multicast";
  if (a >= 240) return "reserved";
  return "public";
}

/** Classifies an IP literal; a non-IP string is `invalid`. */
export function classifyAddress(ip: string): AddressClass {
  const b = parseIp(ip);
  if (!b) return "invalid";
  if (b.length === 4) return classify4(b);
  const zero10 = b.subarray(0, 10).every((x) => x === 0);
  if (zero10 && b[10] === 0xff && b[11] === 0xff) return classify4(b.subarray(12));
  if (prefixEq(b, [0, 0x64, 0xff, 0x9b], 96)) return classify4(b.subarray(12));
  if (b.every((x) => x === 0)) return "unspecified";
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1) return "loopback";
  if (zero10 && b[10] === 0 && b[11] === 0) return classify4(b.subarray(12));
  if (prefixEq(b, [0xfd, 0x00, 0x0e, 0xc2], 32) && b.subarray(4, 14).every((x) => x === 0) && b[14] === 0x02 && b[15] === 0x54) return "metadata";
  if ((b[0]! & 0xfe) === 0xfc) return "private";
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return "link_local";
  if (b[0] === 0xff) return "multicast";
  return "public";
}

/** True when `ip` equals an IP entry or lies inside a CIDR entry (`10.0.0.0/8`, `fc00::/7`). */
export function addressMatches(ip: string, entry: string): boolean {
  const addr = parseIp(ip);
  if (!addr) return false;
  const slash = entry.indexOf("/");
  const net = parseIp(slash >= 0 ? entry.slice(0, slash) : entry);
  if (!net) return false;
  const bits = slash >= 0 ? Number(entry.slice(slash + 1)) : net.length * 8;
  if (!Number.isInteger(bits) || bits < 0 || bits > net.length * 8) return false;
  const a = addr.length === net.length ? addr : addr.length === 16 && net.length === 4 && isMapped(addr) ? addr.subarray(12) : null;
  return a !== null && prefixEq(a, [...net], bits);
}

function isMapped(b: Uint8Array): boolean {
  return b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
}
