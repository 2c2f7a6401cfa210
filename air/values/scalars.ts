/**
 * @module Parsers for scalar authoring forms: RFC 3339 times with nanoseconds, RFC 4122
 * UUIDs, strict base64. Each error names the JSON path of the bad literal.
 */
import { AirError, jsonPath } from "../errors.js";

type Path = (string | number)[];
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/** Nanoseconds since the epoch of an RFC 3339 timestamp (fraction up to 9 digits). */
export function parseRfc3339(s: string, path: Path): bigint {
  const m = RFC3339.exec(s);
  const ms = m ? Date.parse(`${m[1]}T${m[2]}${m[4]!.toUpperCase()}`) : NaN;
  if (!m || Number.isNaN(ms))
    throw new AirError(
      "air.type_mismatch",
      `"${s}" is not an RFC 3339 timestamp or integer nanoseconds`,
      jsonPath(path),
    );
  const frac = BigInt((m[3] ?? "").padEnd(9, "0") || "0");
  return BigInt(ms) * 1_000_000n + frac;
}

/** The 16 bytes of an RFC 4122 UUID string. */
export function parseUuid(s: string, path: Path): Uint8Array {
  if (!/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(s)) {
    throw new AirError("air.type_mismatch", `"${s}" is not a UUID`, jsonPath(path));
  }
  return Uint8Array.from(Buffer.from(s.replace(/-/g, ""), "hex"));
}

/** Formats 16 bytes as a lowercase UUID string. */
export function formatUuid(b: Uint8Array): string {
  const h = Buffer.from(b).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Strict base64 (standard alphabet, padding required) to bytes. */
export function parseBase64(s: string, path: Path): Uint8Array {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) {
    throw new AirError("air.type_mismatch", "bytes must be standard base64 with padding", jsonPath(path));
  }
  return Uint8Array.from(Buffer.from(s, "base64"));
}
