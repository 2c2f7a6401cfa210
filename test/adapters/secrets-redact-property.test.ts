/**
 * Property: whatever the secret and whatever surrounds it, an echo of the surrounding text in a
 * known encoding (raw, base64, base64url, hex either case, percent and form URL encoding, JSON)
 * no longer yields the secret once redacted — checked by decoding the redacted text again,
 * leniently (every run of the encoding's alphabet, at every alignment), not by searching for
 * the redactor's own patterns.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { redactor } from "../../kernel/adapters/index.js";

const b64 = (s: string, url = false) => Buffer.from(s, "utf8").toString(url ? "base64url" : "base64");

/** Every decoding of every run of `alphabet` in `text`, from each start offset within `stride`. */
function decodeRuns(text: string, alphabet: RegExp, stride: number, decode: (run: string) => Buffer): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(alphabet))
    for (let o = 0; o < stride; o++) {
      const run = m[0].slice(o);
      out.push(decode(run.slice(0, run.length - (run.length % stride))).toString("latin1"));
    }
  return out;
}

const secretLatin1 = (s: string) => Buffer.from(s, "utf8").toString("latin1");

/** What each encoding's echo of `whole` decodes back to after redaction. */
const ENCODINGS: [string, (whole: string) => string, (redacted: string) => string[]][] = [
  ["raw", (w) => w, (r) => [secretLatin1(r)]],
  ["base64", (w) => b64(w), (r) => decodeRuns(r, /[A-Za-z0-9+/]+/g, 4, (x) => Buffer.from(x, "base64"))],
  ["base64url", (w) => b64(w, true), (r) => decodeRuns(r, /[A-Za-z0-9_-]+/g, 4, (x) => Buffer.from(x, "base64url"))],
  ["hex", (w) => Buffer.from(w).toString("hex"), (r) => decodeRuns(r, /[0-9a-f]+/g, 2, (x) => Buffer.from(x, "hex"))],
  [
    "HEX",
    (w) => Buffer.from(w).toString("hex").toUpperCase(),
    (r) => decodeRuns(r, /[0-9A-F]+/g, 2, (x) => Buffer.from(x, "hex")),
  ],
  ["percent", (w) => encodeURIComponent(w), (r) => [secretLatin1(decodeURIComponent(r))]],
  [
    "form",
    (w) => new URLSearchParams({ a: w }).toString(),
    (r) => [secretLatin1(new URLSearchParams(r).get("a") ?? "")],
  ],
  ["json", (w) => JSON.stringify(w), (r) => [secretLatin1(JSON.parse(r) as string)]],
];

describe("redaction of encoded echoes (property)", () => {
  for (const [name, encode, decodeBack] of ENCODINGS)
    it(`${name}: the redacted echo never decodes to the secret`, () => {
      fc.assert(
        fc.property(
          fc.string({ unit: "grapheme", minLength: 8, maxLength: 40 }),
          fc.string({ unit: "grapheme", maxLength: 12 }),
          fc.string({ unit: "grapheme", maxLength: 12 }),
          (secret, before, after) => {
            const r = redactor([{ name: "t/k@1", value: secret }]);
            const redacted = r.text(encode(`${before}${secret}${after}`));
            for (const decoded of decodeBack(redacted)) expect(decoded.includes(secretLatin1(secret))).toBe(false);
          },
        ),
        { numRuns: 300 },
      );
    });
});
