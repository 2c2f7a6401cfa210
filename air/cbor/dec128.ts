/**
 * @module IEEE 754-2008 decimal128 in the binary integer (BID) encoding, big-endian.
 * Values are normalized before encoding (trailing zeros folded into the exponent, zero
 * is +0E0) so that "1.50" and "1.5" have one identity. Inexact input is rejected, never rounded.
 */
import { AirError } from "../errors.js";

const DECIMAL = /^([+-]?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;
const MAX_DIGITS = 34;
const BIAS = 6176;
const E_MIN = -6176;
const E_MAX = 6111;

/** A decimal as sign, integer coefficient and power-of-ten exponent. */
export interface Decimal {
  negative: boolean;
  coefficient: bigint;
  exponent: number;
}

/** Parses and normalizes a decimal string; throws `air.out_of_range` if it needs rounding. */
export function parseDecimal(text: string, path = "$"): Decimal {
  const m = DECIMAL.exec(text);
  if (!m) throw new AirError("air.type_mismatch", `"${text}" is not a decimal string`, path);
  const frac = m[3] ?? "";
  let digits = (m[2]! + frac).replace(/^0+/, "");
  let exponent = Number(m[4] ?? "0") - frac.length;
  if (!Number.isSafeInteger(exponent))
    throw new AirError("air.out_of_range", `decimal exponent of "${text}" is out of range`, path);
  if (digits === "") return { negative: false, coefficient: 0n, exponent: 0 };
  while (digits.endsWith("0") && exponent < E_MAX) {
    digits = digits.slice(0, -1);
    exponent++;
  }
  while (exponent > E_MAX && digits.length < MAX_DIGITS) {
    digits += "0";
    exponent--;
  }
  if (digits.length > MAX_DIGITS || exponent < E_MIN || exponent > E_MAX) {
    throw new AirError(
      "air.out_of_range",
      `"${text}" does not fit decimal128 exactly (34 digits, exponent ${E_MIN}..${E_MAX})`,
      path,
    );
  }
  return { negative: m[1] === "-", coefficient: BigInt(digits), exponent };
}

/** The 16-byte BID encoding of a decimal string. */
export function encodeDec128(text: string, path = "$"): Uint8Array {
  const d = parseDecimal(text, path);
  let bits = (BigInt(d.exponent + BIAS) << 113n) | d.coefficient;
  if (d.negative) bits |= 1n << 127n;
  const out = new Uint8Array(16);
  for (let i = 15; i >= 0; i--) {
    out[i] = Number(bits & 0xffn);
    bits >>= 8n;
  }
  return out;
}

/** Decodes 16 BID bytes (as produced by `encodeDec128`) back to a normalized decimal string. */
export function decodeDec128(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new AirError("air.type_mismatch", `decimal128 needs 16 bytes, got ${bytes.length}`);
  let bits = 0n;
  for (const b of bytes) bits = (bits << 8n) | BigInt(b);
  const negative = bits >> 127n === 1n;
  if (((bits >> 125n) & 3n) === 3n)
    throw new AirError("air.type_mismatch", "decimal128 special or large-coefficient forms are not canonical");
  const exponent = Number((bits >> 113n) & 0x3fffn) - BIAS;
  const coefficient = bits & ((1n << 113n) - 1n);
  return formatDecimal({ negative, coefficient, exponent });
}

/** Renders a decimal as plain text when short, else with an exponent. */
export function formatDecimal(d: Decimal): string {
  const sign = d.negative ? "-" : "";
  const digits = d.coefficient.toString();
  if (d.exponent === 0) return sign + digits;
  if (d.exponent > 0) return `${sign}${digits}E${d.exponent}`;
  const point = digits.length + d.exponent;
  if (point > 0) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  if (point > -20) return `${sign}0.${"0".repeat(-point)}${digits}`;
  return `${sign}${digits}E${d.exponent}`;
}
