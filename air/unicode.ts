/**
 * @module Text is valid Unicode or refused. A JS string can hold a lone UTF-16 surrogate
 * (JSON's `"\udc00"` escape makes one), which has no UTF-8 encoding: `TextEncoder` would
 * silently write U+FFFD, so the string a cell id is built from and the bytes that are
 * hashed and journaled would disagree. Every string that enters the canonical data model
 * (ingress JSON, AIR, generic JSON) is checked here and refused with `air.invalid_unicode`
 * naming its JSON path; the CBOR encoder and strict decoder enforce the same rule on bytes.
 */
import { AirError, jsonPath } from "./errors.js";
import { CborTag } from "./cbor/value.js";

type Path = (string | number)[];

/** True when `s` has no lone surrogate, i.e. it has a UTF-8 encoding. */
export function isWellFormedText(s: string): boolean {
  // ES2024 (Node 20+); the repo's TS lib is ES2023, hence the cast.
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** The index of the first lone surrogate in `s`, or -1. Only called on error paths. */
export function loneSurrogateAt(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}

/** The `air.invalid_unicode` error for an ill-formed string found at `path`. */
export function invalidUnicode(s: string, path: string, what: "text" | "object key" | "map key" = "text"): AirError {
  const at = loneSurrogateAt(s);
  const unit =
    at < 0 ? "" : `: lone surrogate U+${s.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0")} at index ${at}`;
  return new AirError("air.invalid_unicode", `${what} is not valid Unicode (air.invalid_unicode)${unit}`, path);
}

/** An ill-formed string found by `findInvalidText`: where it is and whether it was a key. */
export interface InvalidText {
  path: Path;
  text: string;
  what: "text" | "object key" | "map key";
}

/**
 * True when some string in `v` (a value, object key or map key, at any depth; JSON values
 * plus the Maps, tags and bytes the typed lenses allow) is not valid Unicode. The hot-path
 * check: one walk, no allocation, no path bookkeeping (about 50 ns for a small event).
 */
export function hasInvalidText(x: unknown): boolean {
  if (typeof x === "string") return !isWellFormedText(x);
  if (typeof x !== "object" || x === null || x instanceof Uint8Array) return false;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) if (hasInvalidText(x[i])) return true;
    return false;
  }
  if (x instanceof CborTag) return hasInvalidText(x.value);
  if (x instanceof Map) {
    for (const [k, val] of x) if (hasInvalidText(k) || hasInvalidText(val)) return true;
    return false;
  }
  const keys = Object.keys(x);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (!isWellFormedText(k) || hasInvalidText((x as Record<string, unknown>)[k])) return true;
  }
  return false;
}

/**
 * Finds the first string (value, object key, map key, at any depth) that is not valid
 * Unicode, with its path (`base` prefixes it). Slower than `hasInvalidText`: error paths.
 */
export function findInvalidText(v: unknown, base: readonly (string | number)[] = []): InvalidText | undefined {
  const path: Path = [...base];
  const walk = (x: unknown): InvalidText | undefined => {
    if (typeof x === "string") return isWellFormedText(x) ? undefined : { path: path.slice(), text: x, what: "text" };
    if (typeof x !== "object" || x === null || x instanceof Uint8Array) return undefined;
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        path.push(i);
        const r = walk(x[i]);
        path.pop();
        if (r) return r;
      }
      return undefined;
    }
    if (x instanceof CborTag) return walk(x.value);
    if (x instanceof Map) {
      let i = 0;
      for (const [k, val] of x) {
        path.push(i, "key");
        const rk = walk(k);
        path.pop();
        path.pop();
        if (rk) return typeof k === "string" ? { ...rk, what: "map key" } : rk;
        path.push(typeof k === "string" ? k : i);
        const rv = walk(val);
        path.pop();
        if (rv) return rv;
        i++;
      }
      return undefined;
    }
    for (const k of Object.keys(x)) {
      path.push(k);
      if (!isWellFormedText(k)) return { path: path.slice(), text: k, what: "object key" };
      const r = walk((x as Record<string, unknown>)[k]);
      path.pop();
      if (r) return r;
    }
    return undefined;
  };
  return walk(v);
}

/** Throws `air.invalid_unicode` (with the JSON path) if any string in `v` is not valid Unicode. */
export function assertValidText(v: unknown, base: readonly (string | number)[] = []): void {
  if (!hasInvalidText(v)) return;
  const bad = findInvalidText(v, base);
  if (bad) throw invalidUnicode(bad.text, jsonPath(bad.path), bad.what);
}

/** The offset of the first byte that does not start a valid UTF-8 sequence, or -1 (error paths: messages). */
export function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    // Lead byte → sequence length and the allowed range of the second byte (no overlongs, surrogates, > U+10FFFF).
    const [n, lo, hi] =
      c >= 0xc2 && c <= 0xdf
        ? [2, 0x80, 0xbf]
        : c === 0xe0
          ? [3, 0xa0, 0xbf]
          : c === 0xed
            ? [3, 0x80, 0x9f]
            : c >= 0xe1 && c <= 0xef
              ? [3, 0x80, 0xbf]
              : c === 0xf0
                ? [4, 0x90, 0xbf]
                : c >= 0xf1 && c <= 0xf3
                  ? [4, 0x80, 0xbf]
                  : c === 0xf4
                    ? [4, 0x80, 0x8f]
                    : [0, 0, 0];
    if (n === 0 || i + n > b.length) return i;
    const second = b[i + 1]!;
    if (second < lo || second > hi) return i;
    for (let j = 2; j < n; j++) if ((b[i + j]! & 0xc0) !== 0x80) return i;
    i += n;
  }
  return -1;
}
