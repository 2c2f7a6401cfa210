/**
 * @module Regression: a host call made from below `step` must not disturb call-depth
 * accounting. Charging the host call's fuel once re-armed the whole meter (depth = 0),
 * so the unwinding frames drove depth negative and the next function entry trapped with
 * "call depth exceeds the deterministic stack budget".
 */
import { describe, expect, it } from "vitest";
import { extismRuntime } from "../../kernel/wasm/extism-runtime.js";
import { spec } from "./wat.js";

describe("host calls inside nested frames", () => {
  it("blob_get two frames below step, then deeper calls, succeeds twice in a row", async () => {
    const blob = new TextEncoder().encode("the blob");
    const m = await extismRuntime.load(
      spec("nested-blob", { hostFunctions: [{ name: "blob_get", capability: "blob", call: () => blob }] }),
    );
    for (let i = 0; i < 2; i++) {
      const r = await m.call(new TextEncoder().encode("sha256:00"));
      expect(r, JSON.stringify(r)).toMatchObject({ ok: true });
      if (r.ok) expect(new TextDecoder().decode(r.output)).toBe("the blob");
    }
    await m.close();
  });
});
