/**
 * @module `__proto__`, `constructor` and `prototype` are ordinary JSON object keys: parsing and
 * the JSON → CBOR mapping must keep them as own map keys (never touch the prototype), so that
 * `wk air hash` of `{"__proto__": {"a": 1}}` is the hash of the canonical map with that key.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  canonicalizeJson,
  conformCbor,
  decodeStored,
  encodeCanonical,
  encodeStored,
  hashValue,
  jsonToCbor,
  parseJsonLossless,
  toSugarJson,
} from "../../air/index.js";

const CLI = new URL("../../tools/cli/main.ts", import.meta.url).pathname;
const wk = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { encoding: "utf8" });

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const text = (s: string) => hex(encodeCanonical(s));
/** sha256 of d9d9f7 ‖ canonical bytes, written out by hand so no code under test builds the map. */
const storedHash = (canonicalHex: string) =>
  `sha256:${createHash("sha256")
    .update(Buffer.from("d9d9f7" + canonicalHex, "hex"))
    .digest("hex")}`;

// {"__proto__": {"a": 1}}: a1, text(9) "__proto__", a1, text(1) "a", 01.
const PROTO_HEX = "a1" + "69" + Buffer.from("__proto__").toString("hex") + "a1" + "6161" + "01";

describe("JSON keys named __proto__ / constructor / prototype", () => {
  it("parseJsonLossless keeps __proto__ as an own key and leaves the prototype alone", () => {
    const v = parseJsonLossless('{"__proto__": {"a": 1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(v, "__proto__")?.value).toEqual({ a: 1 });
    expect((v as { a?: unknown }).a).toBeUndefined();
  });

  it("jsonToCbor maps __proto__ to an own key, not a prototype (no pollution, still encodable)", () => {
    const c = jsonToCbor(parseJsonLossless('{"__proto__": {"a": 1}}')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    expect(Object.keys(c)).toEqual(["__proto__"]);
    expect((c as { a?: unknown }).a).toBeUndefined();
    expect(({} as { a?: unknown }).a).toBeUndefined();
    expect(hex(encodeCanonical(c as never))).toBe(PROTO_HEX);
  });

  it('hashing {"__proto__": {"a": 1}} equals the hash of the canonical map with key "__proto__"', () => {
    const h = hashValue(jsonToCbor(parseJsonLossless('{"__proto__": {"a": 1}}')));
    expect(h).toBe(storedHash(PROTO_HEX));
    // The same map built as a Map (no object-key semantics involved) hashes identically.
    expect(hashValue(new Map([["__proto__", new Map([["a", 1]])]]))).toBe(h);
    // And the strict decoder reads the bytes back as the same own key.
    const back = decodeStored(encodeStored(jsonToCbor(parseJsonLossless('{"__proto__": {"a": 1}}')))) as Record<
      string,
      unknown
    >;
    expect(Object.keys(back)).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
  });

  it("a non-object __proto__ value is kept, not silently dropped", () => {
    const c = jsonToCbor(parseJsonLossless('{"__proto__": 1, "b": 2}'));
    // Canonical order: "b" (shorter encoding) before "__proto__".
    expect(hex(encodeCanonical(c))).toBe("a2" + text("b") + "02" + text("__proto__") + "01");
    const nested = jsonToCbor(parseJsonLossless('[{"x": {"__proto__": null}}]'));
    expect(hex(encodeCanonical(nested))).toBe("81a1" + text("x") + "a1" + text("__proto__") + "f6");
  });

  it("constructor and prototype are ordinary keys", () => {
    const c = jsonToCbor(
      parseJsonLossless('{"constructor": {"prototype": 1}, "prototype": "p", "toString": 3}'),
    ) as Record<string, unknown>;
    expect(Object.keys(c).sort()).toEqual(["constructor", "prototype", "toString"]);
    expect(Object.getPrototypeOf(c)).toBe(Object.prototype);
    const expected =
      "a3" +
      text("toString") +
      "03" +
      text("prototype") +
      text("p") +
      text("constructor") +
      "a1" +
      text("prototype") +
      "01";
    expect(hex(encodeCanonical(c as never))).toBe(expected);
    expect(hashValue(c as never)).toBe(storedHash(expected));
  });

  it('wk air hash of {"__proto__": {"a": 1}} prints the canonical map\'s hash', () => {
    const dir = mkdtempSync(join(tmpdir(), "wk-json-proto-"));
    writeFileSync(join(dir, "proto.json"), '{"__proto__": {"a": 1}}');
    const r = wk("air", "hash", join(dir, "proto.json"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(storedHash(PROTO_HEX));
  });
});

describe("record fields and variant tags named like Object.prototype members", () => {
  const rec = { record: { a: { text: {} }, toString: { option: { text: {} } } } } as never;
  const variant = { variant: { A: { unit: {} } } } as never;
  const mismatch = (message: string) =>
    expect.objectContaining({ code: "air.type_mismatch", message: expect.stringContaining(message) });

  it("canonicalizeJson rejects an unknown field even when the prototype has it, and an inherited tag", () => {
    expect(() => canonicalizeJson(rec, { a: "x", constructor: 1 })).toThrow(mismatch('unknown field "constructor"'));
    expect(() => canonicalizeJson(rec, parseJsonLossless('{"a": "x", "__proto__": 1}'))).toThrow(
      mismatch('unknown field "__proto__"'),
    );
    expect(() => canonicalizeJson(variant, "constructor")).toThrow(mismatch('unknown variant tag "constructor"'));
    expect(() => canonicalizeJson(variant, { toString: null })).toThrow(mismatch('unknown variant tag "toString"'));
  });

  it("conformCbor: an absent optional toString is null, an extra constructor key is refused", () => {
    expect(conformCbor(rec, decodeStored(encodeStored({ a: "x" })))).toEqual({ a: "x", toString: null });
    expect(() => conformCbor(rec, decodeStored(encodeStored({ a: "x", constructor: 1 })))).toThrow(
      mismatch('unknown field "constructor"'),
    );
    expect(() => conformCbor(variant, decodeStored(encodeStored({ $tag: "constructor", $value: null })))).toThrow(
      mismatch('unknown variant tag "constructor"'),
    );
    expect(() => toSugarJson(variant, { $tag: "B", $value: null })).toThrow(mismatch('unknown variant tag "B"'));
  });

  it("an unexpanded or empty type is air.invalid_type, not a TypeError", () => {
    expect(() => canonicalizeJson({ ref: "x" } as never, { a: 1 })).toThrow(
      expect.objectContaining({ code: "air.invalid_type" }),
    );
    expect(() => canonicalizeJson({} as never, { a: 1 })).toThrow(
      expect.objectContaining({ code: "air.invalid_type" }),
    );
  });
});
