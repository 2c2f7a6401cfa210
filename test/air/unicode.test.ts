/**
 * @module Text is valid Unicode or refused (issue 11, item 7). A lone UTF-16 surrogate has
 * no UTF-8 form: TextEncoder would write U+FFFD, so ids built from the string and the bytes
 * hashed and journaled would disagree. Ingress JSON, generic JSON, AIR and the CBOR encoder
 * refuse such strings with `air.invalid_unicode` and the JSON path; the strict decoder
 * refuses invalid UTF-8 and never drops a leading U+FEFF.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  AirError,
  CborRaw,
  buildCatalog,
  buildCatalogOrThrow,
  canonicalizeJson,
  decodeCanonical,
  decodeStored,
  encodeCanonical,
  encodeStored,
  expandType,
  fromHex,
  jsonToCbor,
  parseJsonLossless,
  toHex,
  type AirIssue,
  type CborValue,
  type TypeExpr,
} from "../../air/index.js";
import {
  findInvalidText,
  hasInvalidText,
  invalidUtf8At,
  isWellFormedText,
  loneSurrogateAt,
} from "../../air/unicode.js";
import { loadAirDir } from "../../kernel/air-dir.js";
import { parseStepOutput } from "../../kernel/core/envelope.js";

const LONE = ["\udc00", "\ud800", "a\ud800", "\ud800a", "\udc00\ud800", "x\ud83d", "\ude00y", "\ud800\ud800\udc00"];

function caught(fn: () => unknown): AirError {
  try {
    fn();
  } catch (e) {
    return e as AirError;
  }
  throw new Error("expected a throw");
}

const T = (t: TypeExpr): TypeExpr => expandType(t, () => undefined);
const EVENT = T({ record: { key: { text: {} }, by: { nat: {} } } });

describe("lone surrogate detection", () => {
  it("finds lone high and low surrogates and accepts proper pairs", () => {
    for (const s of LONE) {
      expect(isWellFormedText(s), JSON.stringify(s)).toBe(false);
      expect(loneSurrogateAt(s), JSON.stringify(s)).toBeGreaterThanOrEqual(0);
    }
    for (const s of ["", "abc", "é", "\ud83d\ude00", "a\ud83d\ude00b", "\uFEFF", "\uFFFD", "\u{10FFFF}"]) {
      expect(isWellFormedText(s), JSON.stringify(s)).toBe(true);
      expect(loneSurrogateAt(s)).toBe(-1);
    }
    expect(loneSurrogateAt("ab\ud83d\ude00\udc00")).toBe(4);
    expect(loneSurrogateAt("\ud800\ud800\udc00")).toBe(0);
  });

  it("walks values, object keys, map keys, tags and arrays", () => {
    expect(findInvalidText({ a: [1, "ok", { b: "\udc00" }] })).toMatchObject({ path: ["a", 2, "b"], what: "text" });
    expect(findInvalidText({ a: { "k\udc00": 1 } })).toMatchObject({ path: ["a", "k\udc00"], what: "object key" });
    expect(
      findInvalidText(
        new Map<unknown, unknown>([
          ["ok", 1],
          ["\ud800", 2],
        ]),
      ),
    ).toMatchObject({ path: [1, "key"], what: "map key" });
    expect(findInvalidText(new Map([["ok", "\ud800"]]))).toMatchObject({ path: ["ok"], what: "text" });
    expect(findInvalidText({ a: [new Uint8Array([0xed, 0xa0, 0x80]), 1n, null, true, 1.5] })).toBeUndefined();
    expect(findInvalidText("\udc00", ["x", 1])).toMatchObject({ path: ["x", 1] });
    for (const v of [
      { a: [1, "ok", { b: "\udc00" }] },
      { a: { "k\udc00": 1 } },
      new Map([["\ud800", 1]]),
      new Map([[1, ["\ud800"]]]),
      ["x", "\ud800"],
    ])
      expect(hasInvalidText(v)).toBe(true);
    for (const v of [{ a: [1, "ok", { b: "😀" }] }, new Map([[1, ["é"]]]), [new Uint8Array(3), null, 1n], "\uFEFF"])
      expect(hasInvalidText(v)).toBe(false);
  });
});

describe("ingress JSON (canonicalizeJson) refuses lone surrogates with the JSON path", () => {
  it("refuses the issue's event: $.key, code air.invalid_unicode", () => {
    const e = caught(() => canonicalizeJson(EVENT, parseJsonLossless('{"key":"\\udc00","by":1}')));
    expect(e).toBeInstanceOf(AirError);
    expect(e).toMatchObject({ code: "air.invalid_unicode", path: "$.key" });
    expect(e.message).toContain("U+DC00");
    expect(e.message).toContain("air.invalid_unicode");
  });

  it("refuses every kind of lone surrogate in a text value", () => {
    for (const s of LONE)
      expect(
        caught(() => canonicalizeJson(EVENT, { key: s, by: 1 })),
        JSON.stringify(s),
      ).toMatchObject({ code: "air.invalid_unicode", path: "$.key" });
  });

  it("accepts well-formed text, including astral characters and U+FEFF", () => {
    expect(canonicalizeJson(EVENT, parseJsonLossless('{"key":"\\ud83d\\ude00\\ufeff","by":1}'))).toEqual({
      key: "😀\uFEFF",
      by: 1,
    });
  });

  it("names the path in lists, sets, maps (values, object keys, pair keys), options, variants", () => {
    const t = T({
      record: {
        items: { list: { text: {} } },
        tags: { set: { text: {} } },
        m: { map: { key: { text: {} }, value: { text: {} } } },
        n: { map: { key: { nat: {} }, value: { text: {} } } },
        o: { option: { text: {} } },
        v: { variant: { A: { text: {} }, B: { unit: {} } } },
      },
    });
    const ok = { items: [], tags: [], m: {}, n: [], o: null, v: "B" };
    const cases: [Record<string, unknown>, string][] = [
      [{ items: ["a", "b", "\udc00"] }, "$.items[2]"],
      [{ tags: ["a", "\ud800"] }, "$.tags[1]"],
      [{ m: { a: "\ud800" } }, "$.m.a"],
      [{ m: { "k\udc00": "v" } }, '$.m["k\\udc00"]'],
      [{ m: [["k\udc00", "v"]] }, "$.m[0][0]"],
      [{ m: [{ key: "ok", value: "\udc00" }] }, "$.m[0].value"],
      [{ n: [[1, "\udc00"]] }, "$.n[0][1]"],
      [{ o: "\ud800" }, "$.o"],
      [{ o: { option: "\ud800" } }, "$.o.option"],
      [{ v: { A: "\udc00" } }, "$.v.A"],
      [{ v: "\udc00" }, "$.v"],
      [{ v: { $tag: "B", $value: null, "junk\udc00": 1 } }, '$.v["junk\\udc00"]'],
      // An unknown field is refused as invalid Unicode first: nothing about it is trusted.
      [{ "x\ud800": 1 }, '$["x\\ud800"]'],
      // A string in a non-text position is still a string that is not Unicode.
      [{ n: [["\udc00", "a"]] }, "$.n[0][0]"],
    ];
    for (const [patch, path] of cases) {
      expect(
        caught(() => canonicalizeJson(t, { ...ok, ...patch })),
        path,
      ).toMatchObject({ code: "air.invalid_unicode", path });
    }
    expect(canonicalizeJson(t, ok)).toBeDefined();
  });

  it("prefixes the caller's base path", () => {
    expect(
      caught(() => canonicalizeJson(T({ text: {} }), "\ud800", ["defaults", "cap_grants", 0, "params"])),
    ).toMatchObject({ path: "$.defaults.cap_grants[0].params" });
  });

  it("costs little: the check is a small fraction of canonicalization", () => {
    const big = T({
      record: {
        key: { text: {} },
        by: { nat: {} },
        notes: { list: { text: {} } },
        m: { map: { key: { text: {} }, value: { nat: {} } } },
      },
    });
    const v = {
      key: "alice",
      by: 3,
      notes: Array.from({ length: 50 }, (_, i) => `note ${i} — ünïcödé 😀`),
      m: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])),
    };
    // Best of several interleaved rounds: robust against a busy machine.
    const best = { check: Infinity, whole: Infinity };
    for (let round = 0; round < 8; round++) {
      let t0 = performance.now();
      for (let i = 0; i < 500; i++) hasInvalidText(v);
      best.check = Math.min(best.check, performance.now() - t0);
      t0 = performance.now();
      for (let i = 0; i < 500; i++) canonicalizeJson(big, v);
      best.whole = Math.min(best.whole, performance.now() - t0);
    }
    const { check, whole } = best;
    expect(check).toBeLessThan(whole * 0.5);
  });
});

describe("generic JSON (jsonToCbor) refuses lone surrogates", () => {
  it("in values and keys, with paths", () => {
    expect(caught(() => jsonToCbor({ a: [1, "\udc00"] }))).toMatchObject({
      code: "air.invalid_unicode",
      path: "$.a[1]",
    });
    expect(caught(() => jsonToCbor({ a: { "b\ud800": 1 } }))).toMatchObject({
      code: "air.invalid_unicode",
      path: '$.a["b\\ud800"]',
    });
    expect(jsonToCbor({ a: ["😀", "\uFEFF"] })).toEqual({ a: ["😀", "\uFEFF"] });
  });
});

describe("the CBOR encoder never writes a string that is not Unicode", () => {
  it("throws air.invalid_unicode for bare, nested, keyed and long strings", () => {
    for (const s of LONE) {
      expect(caught(() => encodeCanonical(s))).toMatchObject({ code: "air.invalid_unicode", path: "$" });
      expect(caught(() => encodeStored(s))).toMatchObject({ code: "air.invalid_unicode", path: "$" });
      expect(caught(() => encodeCanonical("x".repeat(300) + s))).toMatchObject({ code: "air.invalid_unicode" });
      expect(caught(() => encodeCanonical("é".repeat(10) + s))).toMatchObject({ code: "air.invalid_unicode" });
    }
    expect(caught(() => encodeCanonical(["a", "\udc00"]))).toMatchObject({ code: "air.invalid_unicode", path: "$[1]" });
    expect(caught(() => encodeCanonical({ a: { b: ["ok", "\ud800"] } }))).toMatchObject({
      code: "air.invalid_unicode",
      path: "$.a.b[1]",
    });
    expect(caught(() => encodeCanonical({ a: { "k\udc00": 1 } }))).toMatchObject({
      code: "air.invalid_unicode",
      path: '$.a["k\\udc00"]',
    });
    expect(
      caught(() =>
        encodeCanonical(
          new Map<CborValue, CborValue>([
            [1, 2],
            ["\udc00", 3],
          ]),
        ),
      ),
    ).toMatchObject({ code: "air.invalid_unicode", path: '$["\\udc00"]' });
    expect(caught(() => encodeCanonical(new Map<CborValue, CborValue>([[["\udc00"], 3]])))).toMatchObject({
      code: "air.invalid_unicode",
      path: "$[key][0]",
    });
  });

  it("keeps working after a refusal (no poisoned writer, slab or caches)", () => {
    for (let i = 0; i < 3; i++) {
      expect(() => encodeCanonical({ "k\udc00": 1 })).toThrow();
      expect(() => encodeCanonical({ z: "x".repeat(300) + "\ud800" })).toThrow();
    }
    expect(toHex(encodeCanonical({ k: "é" }))).toBe("a1616b62c3a9");
    expect(toHex(encodeCanonical({ "k\u00e9": 1 }))).toBe("a1636bc3a901");
  });

  it("writes exactly the UTF-8 of well-formed strings (both paths), and decodes them back", () => {
    const samples = [
      "",
      "a",
      "abc".repeat(100),
      "é",
      "😀",
      "\uFEFF",
      "\uFEFFabc",
      "\uFEFF".repeat(30) + "é".repeat(30),
      "ü".repeat(300),
      "\u{10FFFF}",
      "\u0000\u007f\u0080\u07ff\u0800\uffff",
    ];
    let seed = 7;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let n = 0; n < 300; n++) {
      let s = "";
      const len = Math.floor(rnd() * 90);
      for (let i = 0; i < len; i++) {
        const r = rnd();
        let cp =
          r < 0.5
            ? Math.floor(rnd() * 0x80)
            : r < 0.8
              ? Math.floor(rnd() * 0x10000)
              : 0x10000 + Math.floor(rnd() * 0x100000);
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x41;
        s += String.fromCodePoint(cp);
      }
      samples.push(s);
    }
    for (const s of samples) {
      const utf8 = Buffer.from(s, "utf8");
      const bytes = encodeCanonical(s);
      expect(Buffer.from(bytes.subarray(bytes.length - utf8.length)).equals(utf8), JSON.stringify(s)).toBe(true);
      expect(decodeCanonical(bytes)).toBe(s);
      expect(decodeStored(encodeStored({ [s]: s }))).toEqual({ [s]: s });
    }
  });
});

describe("the strict decoder rejects invalid UTF-8", () => {
  const text = (body: number[]): Uint8Array => {
    const n = body.length;
    return Uint8Array.from([...(n < 24 ? [0x60 | n] : n < 256 ? [0x78, n] : [0x79, n >> 8, n & 0xff]), ...body]);
  };
  const BAD: [string, number[]][] = [
    ["overlong NUL (C0 80)", [0xc0, 0x80]],
    ["overlong '/' (C1 AF)", [0xc1, 0xaf]],
    ["overlong 3-byte (E0 80 80)", [0xe0, 0x80, 0x80]],
    ["overlong 3-byte for U+07FF (E0 9F BF)", [0xe0, 0x9f, 0xbf]],
    ["overlong 4-byte (F0 80 80 80)", [0xf0, 0x80, 0x80, 0x80]],
    ["overlong 4-byte for U+FFFF (F0 8F BF BF)", [0xf0, 0x8f, 0xbf, 0xbf]],
    ["encoded high surrogate (ED A0 80)", [0xed, 0xa0, 0x80]],
    ["encoded low surrogate (ED B0 80)", [0xed, 0xb0, 0x80]],
    ["encoded last surrogate (ED BF BF)", [0xed, 0xbf, 0xbf]],
    ["CESU-8 surrogate pair (ED A0 BD ED B8 80)", [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]],
    ["truncated 2-byte (C3)", [0x61, 0xc3]],
    ["truncated 3-byte (E2 82)", [0xe2, 0x82]],
    ["truncated 4-byte (F0 9F 98)", [0xf0, 0x9f, 0x98]],
    ["interrupted sequence (E2 41 AC)", [0xe2, 0x41, 0xac]],
    ["lone continuation byte (80)", [0x80]],
    ["byte FF", [0xff]],
    ["byte FE", [0xfe]],
    ["byte F5", [0xf5, 0x80, 0x80, 0x80]],
    ["beyond U+10FFFF (F4 90 80 80)", [0xf4, 0x90, 0x80, 0x80]],
  ];
  for (const [label, body] of BAD) {
    it(label, () => {
      for (const b of [
        body,
        [...Buffer.from("x".repeat(70)), ...body],
        [...body, ...Buffer.from("é".repeat(40))],
        [...Buffer.from("ab"), ...body, 0x63],
      ]) {
        const e = caught(() => decodeCanonical(text(b)));
        expect(e, toHex(text(b))).toMatchObject({ code: "cbor.malformed" });
        expect(e.message).toMatch(/invalid UTF-8 in text string at byte \d+/);
        // In a map key and deep inside a value, too.
        expect(caught(() => decodeCanonical(Uint8Array.from([0xa1, ...text(b), 0x01])))).toMatchObject({
          code: "cbor.malformed",
        });
        expect(caught(() => decodeStored(encodeStored({ a: [1, new CborRaw(text(b))] })))).toMatchObject({
          code: "cbor.malformed",
        });
      }
    });
  }

  it("keeps a leading U+FEFF (EF BB BF) instead of dropping it as a byte-order mark", () => {
    for (const s of ["\uFEFF", "\uFEFFabc", "\uFEFF" + "é".repeat(50), "\uFEFF".repeat(3)]) {
      const bytes = encodeCanonical(s);
      const back = decodeCanonical(bytes) as string;
      expect(back).toBe(s);
      expect(toHex(encodeCanonical(back))).toBe(toHex(bytes));
    }
    expect(decodeCanonical(fromHex("63efbbbf"))).toBe("\uFEFF");
  });

  it("accepts the boundaries of valid UTF-8", () => {
    const ok: [number[], string][] = [
      [[0x7f], "\u007f"],
      [[0xc2, 0x80], "\u0080"],
      [[0xdf, 0xbf], "\u07ff"],
      [[0xe0, 0xa0, 0x80], "\u0800"],
      [[0xed, 0x9f, 0xbf], "\ud7ff"],
      [[0xee, 0x80, 0x80], "\ue000"],
      [[0xef, 0xbf, 0xbf], "\uffff"],
      [[0xf0, 0x90, 0x80, 0x80], "\u{10000}"],
      [[0xf4, 0x8f, 0xbf, 0xbf], "\u{10FFFF}"],
    ];
    for (const [b, s] of ok) expect(decodeCanonical(text(b))).toBe(s);
  });
});

describe("JSON bytes (parseJsonLossless on a file as read) must be UTF-8", () => {
  it("parses valid UTF-8 (a leading BOM is a file's byte-order mark) and refuses invalid bytes with the offset", () => {
    expect(parseJsonLossless(Buffer.from('{"a":"é😀","n":12345678901234567890}'))).toEqual({
      a: "é😀",
      n: 12345678901234567890n,
    });
    expect(parseJsonLossless(Uint8Array.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"a":1}')]))).toEqual({ a: 1 });
    for (const [hex, at] of [
      ["7b2261223a2262ff227d", 7],
      ["7b2261223a22eda080227d", 6],
      ["22c080", 1],
      ["2261e282", 2],
    ] as const) {
      const e = caught(() => parseJsonLossless(fromHex(hex), "x.air.json"));
      expect(e, hex).toMatchObject({ code: "air.invalid_unicode", path: `@${at}` });
      expect(e.message).toContain("x.air.json");
    }
  });

  it("locates the first invalid byte exactly where the strict decoder fails", () => {
    const strict = new TextDecoder("utf-8", { fatal: true });
    let seed = 11;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const pool = [
      0x41, 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff, 0x8f, 0x90,
      0x9f, 0xa0,
    ];
    for (let n = 0; n < 5000; n++) {
      const b = Uint8Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => pool[Math.floor(rnd() * pool.length)]!);
      let valid = true;
      try {
        strict.decode(b);
      } catch {
        valid = false;
      }
      const at = invalidUtf8At(b);
      expect(at === -1, toHex(b)).toBe(valid);
      if (!valid) {
        expect(() => strict.decode(b.subarray(0, at)), toHex(b)).not.toThrow();
      }
    }
  });
});

describe("AIR: the loader reports lone surrogates with file and JSON path", () => {
  const defs = (note: string, name = "u/Ev@1") => [
    { $kind: "defschema", name, type: { record: { key: { text: {} } } } },
    { $kind: "defschema", name: "u/St@1", $comment: note, type: { record: { note: { text: {} } } } },
  ];
  const manifest = {
    $kind: "manifest",
    air_version: "1",
    schemas: [{ name: "u/Ev@1" }, { name: "u/St@1" }],
    modules: [],
    effects: [],
    caps: [],
    policies: [],
  };

  it("in a $comment, a name, a manifest field", () => {
    expect(
      buildCatalog([
        { file: "s.air.json", value: defs("fine") },
        { file: "m.air.json", value: manifest },
      ]).ok,
    ).toBe(true);
    const r = buildCatalog([
      { file: "s.air.json", value: defs("bad \ud800 note") },
      { file: "m.air.json", value: manifest },
    ]);
    expect(r.ok).toBe(false);
    const issues = (r as { issues: AirIssue[] }).issues;
    expect(issues[0]).toMatchObject({ code: "air.invalid_unicode", file: "s.air.json", path: "$[1].$comment" });
    expect(issues[0]!.message).toContain("U+D800");

    const r2 = buildCatalog([
      { file: "s.air.json", value: defs("ok", "u/\udc00@1") },
      { file: "m.air.json", value: { ...manifest, "x\ud800": 1 } },
    ]);
    expect((r2 as { issues: AirIssue[] }).issues).toEqual([
      expect.objectContaining({ code: "air.invalid_unicode", file: "s.air.json", path: "$[0].name" }),
      expect.objectContaining({ code: "air.invalid_unicode", file: "m.air.json", path: '$["x\\ud800"]' }),
    ]);
  });

  it("from an AIR folder on disk: the issue names the file and the JSON path", () => {
    const dir = mkdtempSync(join(tmpdir(), "wk-unicode-air-"));
    writeFileSync(
      join(dir, "schemas.air.json"),
      JSON.stringify(defs("ok")).replace('"type":{"record":{"note"', '"type":{"record":{"no\\udc00te"'),
    );
    writeFileSync(join(dir, "manifest.air.json"), JSON.stringify(manifest));
    const r = loadAirDir(dir);
    expect(r.ok).toBe(false);
    expect((r as { issues: AirIssue[] }).issues[0]).toMatchObject({
      code: "air.invalid_unicode",
      file: "schemas.air.json",
      path: '$[1].type.record["no\\udc00te"]',
    });
  });

  it("parsed from JSON text with \\u escapes, as files are", () => {
    const text = JSON.stringify(defs("ok")).replace('"u/St@1"', '"u/St\\udc00@1"');
    const r = buildCatalog([
      { file: "s.air.json", value: parseJsonLossless(text, "s.air.json") },
      { file: "m.air.json", value: manifest },
    ]);
    expect((r as { issues: AirIssue[] }).issues[0]).toMatchObject({
      code: "air.invalid_unicode",
      file: "s.air.json",
      path: "$[1].name",
    });
    expect(() =>
      buildCatalogOrThrow([
        { file: "s.air.json", value: parseJsonLossless(text) },
        { file: "m.air.json", value: manifest },
      ]),
    ).toThrow(expect.objectContaining({ code: "air.invalid_unicode", path: "$[1].name" }));
  });
});

describe("module output: invalid UTF-8 is a typed step failure (parseStepOutput)", () => {
  const catalog = buildCatalogOrThrow([
    {
      file: "u.air.json",
      value: [
        { $kind: "defschema", name: "u/Ev@1", type: { record: { key: { text: {} } } } },
        { $kind: "defschema", name: "u/St@1", type: { record: { note: { text: {} } } } },
        {
          $kind: "defmodule",
          name: "u/M@1",
          module_kind: "workflow",
          wasm_hash: "sha256:" + "ab".repeat(32),
          abi: { workflow: { state: "u/St@1", event: "u/Ev@1" } },
        },
        {
          $kind: "manifest",
          air_version: "1",
          schemas: [{ name: "u/Ev@1" }, { name: "u/St@1" }],
          modules: [{ name: "u/M@1" }],
          effects: [],
          caps: [],
          policies: [],
          routing: { subscriptions: [{ event: "u/Ev@1", module: "u/M@1", key_field: "key" }] },
        },
      ],
    },
  ]);
  const raw = (hex: string) => new CborRaw(fromHex(hex));
  const out = (o: { state?: CborValue; events?: CborValue[]; effects?: CborValue[] }) =>
    encodeCanonical({ state: o.state ?? { note: "ok" }, events: o.events ?? [], effects: o.effects ?? [], ann: null });

  it("accepts well-formed output, keeping U+FEFF", () => {
    const r = parseStepOutput(
      out({ state: { note: "\uFEFFé" }, events: [{ schema: "u/Ev@1", value: { key: "😀" }, key: "\uFEFFk" }] }),
      catalog,
      "u/M@1",
    );
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(decodeStored(r.output.stateBytes!)).toEqual({ note: "\uFEFFé" });
      expect(r.output.events[0]).toMatchObject({ value: { key: "😀" }, key: "\uFEFFk" });
    }
  });

  const bad: [string, Uint8Array][] = [
    ["state text with an encoded surrogate", out({ state: { note: raw("63eda080") } })],
    ["state text with a 0xFF byte", out({ state: { note: raw("62ff61") } })],
    [
      "event value with an overlong encoding",
      out({ events: [{ schema: "u/Ev@1", value: { key: raw("62c080") }, key: null }] }),
    ],
    ["event key truncated", out({ events: [{ schema: "u/Ev@1", value: { key: "a" }, key: raw("62e282") }] })],
    ["event schema name invalid", out({ events: [{ schema: raw("62c328"), value: { key: "a" }, key: null }] })],
    ["effect kind invalid", out({ effects: [{ kind: raw("63eda080"), params: null, cap_slot: "x" }] })],
    [
      "effect params with a long invalid string",
      out({ effects: [{ kind: "k", params: { p: raw("7848" + "61".repeat(70) + "edb080") }, cap_slot: "x" }] }),
    ],
    [
      "ann with invalid text in a map key",
      encodeCanonical({ state: { note: "ok" }, events: [], effects: [], ann: raw("a162ff6101") }),
    ],
  ];
  for (const [label, bytes] of bad) {
    it(label, () => {
      let r: ReturnType<typeof parseStepOutput> | undefined;
      expect(() => (r = parseStepOutput(bytes, catalog, "u/M@1"))).not.toThrow();
      expect(r).toMatchObject({ ok: false, code: "module.bad_output" });
      expect((r as { message: string }).message).toMatch(/invalid UTF-8/);
    });
  }
});
