/**
 * @module The counter workflow in every module language, run through the real Extism
 * runtime (core modules) and a jco-transpiled instance (the JS component), fed real
 * canonical ABI-v1 envelopes. Every output must decode strictly, match the TypeScript
 * reference, and be byte-identical across languages.
 */
import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeCanonical, encodeCanonical, toHex } from "../../air/index.js";
import { buildModule } from "../../kernel/adapters/compile/index.js";
import { packagePath } from "../../kernel/adapters/compile/paths.js";
import { instantiateComponent } from "./component-harness.js";
import { ctxFor, envelopeFor, expectedOutputs, extismStepper, runScript, SCRIPT } from "./counter-fixture.js";

const CORE = {
  assemblyscript: "modules/assemblyscript/counter/counter.wasm",
  wat: "modules/wat/counter.wasm",
  c: "modules/c/counter/counter.wasm",
  zig: "modules/zig/counter/counter.wasm",
} as const;

const outputs = new Map<string, string[]>();
const expected = expectedOutputs().map(toHex);

describe.each(Object.entries(CORE))("counter in %s (Extism, committed wasm)", (lang, path) => {
  it("follows the reference for the scripted events, including milestone crossings", async () => {
    const s = await extismStepper(readFileSync(packagePath(path)));
    try {
      const got = (await runScript(s.call)).map(toHex);
      outputs.set(lang, got);
      expect(got).toEqual(expected);
    } finally {
      await s.close();
    }
  });

  it("fails the call (never returns garbage) on an envelope of another ABI version", async () => {
    const s = await extismStepper(readFileSync(packagePath(path)));
    try {
      const bad = encodeCanonical({ version: 2, state: null, event: { schema: "demo/CounterEvent@1", value: { key: "a", by: 1 }, key: "a" }, ctx: ctxFor(0, "a") });
      await expect(s.call(bad)).rejects.toThrow();
      // The plugin stays usable after a failed step.
      const ok = await s.call(envelopeFor(0, SCRIPT[0]!, null));
      expect(toHex(ok)).toBe(expected[0]);
    } finally {
      await s.close();
    }
  });
});

describe("counter as a JavaScript component", () => {
  let wasm: Uint8Array;
  beforeAll(async () => {
    const src = packagePath("modules/js/counter/counter.js");
    const r = await buildModule({ language: "js", source: readFileSync(src), sourcePath: src });
    if (!r.ok) throw new Error(r.diagnostics.join("\n"));
    wasm = r.wasm;
  }, 180_000);

  it("is a component importing nothing (no WASI, no ungranted host calls)", async () => {
    expect(wasm[6]).toBe(1); // layer 1 = component
    const c = await instantiateComponent(wasm);
    try {
      expect(c.imports).toEqual([]);
    } finally {
      await c.close();
    }
  });

  it("follows the reference; its pure `run` gives the same transition", async () => {
    const c = await instantiateComponent(wasm);
    try {
      const got = (await runScript(async (input) => c.exports.step(input))).map(toHex);
      outputs.set("js", got);
      expect(got).toEqual(expected);
      const out = decodeCanonical(c.exports.run(encodeCanonical({ version: 1, input: { state: { count: 99, events: 3 }, event: { schema: "demo/CounterEvent@1", value: { key: "k", by: 1 }, key: "k" } }, ctx: ctxFor(0, "k") })));
      expect(out).toEqual({ output: { state: { count: 100, events: 4 }, events: [{ schema: "demo/CounterMilestone@1", value: { key: "k", count: 100 }, key: "k" }], effects: [], ann: null } });
    } finally {
      await c.close();
    }
  });
});

describe("across languages", () => {
  it("every language produced byte-identical outputs for every step", () => {
    expect([...outputs.keys()].sort()).toEqual(["assemblyscript", "c", "js", "wat", "zig"]);
    for (const [, got] of outputs) expect(got).toEqual(outputs.get("c"));
  });

  it("the script covers a new cell, by = 0, single and multi-hundred crossings and counts past 2^32", () => {
    const decoded = expected.map((h) => decodeCanonical(Buffer.from(h, "hex")) as { events: unknown[]; state: { count: bigint | number } });
    expect(decoded.filter((d) => d.events.length > 0).length).toBeGreaterThanOrEqual(3);
    expect(SCRIPT.some((s) => s.by === 0)).toBe(true);
    expect(decoded.some((d) => BigInt(d.state.count) > 0xffffffffn)).toBe(true);
  });
});
