/**
 * @module The `EffectAdapter` conformance suite: every adapter, built in or third party,
 * must honour the port's contract — identity fields, an outcome (never a throw) for bad
 * params and outside failures, canonical-CBOR-encodable payloads, natural costs, ordered
 * times, and no `denied` status (that is the gate's). `runAdapterSuite` registers the tests.
 */
import { describe, expect, it } from "vitest";
import { encodeStored, type CborValue } from "../../air/index.js";
import type { EffectAdapter, EffectOutcome, EffectRequest } from "../../kernel/adapters/index.js";
import { request } from "./harness.js";

/** How to exercise one adapter kind. */
export interface AdapterCase {
  create: () => EffectAdapter;
  kind: string;
  /** Params (and grant) that must succeed. */
  valid: () => { params: CborValue; grant?: CborValue; prepare?: (req: EffectRequest) => EffectRequest };
  /** Params that are malformed: the outcome must be `error`, never a throw. */
  invalid: CborValue;
}

function checkOutcome(o: EffectOutcome): void {
  expect(["ok", "error", "timeout"]).toContain(o.status);
  expect(() => encodeStored(o.payload)).not.toThrow();
  for (const v of [o.cost.tokens_in, o.cost.tokens_out, o.cost.cents]) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
  expect(typeof o.startedNs).toBe("bigint");
  expect(o.finishedNs >= o.startedNs).toBe(true);
}

/** Registers the conformance tests for one adapter kind. */
export function runAdapterSuite(c: AdapterCase): void {
  describe(`EffectAdapter conformance: ${c.kind}`, () => {
    it("declares an id, a version and the kind", () => {
      const a = c.create();
      expect(a.id).toMatch(/\S/);
      expect(a.version).toMatch(/^\d+\.\d+\.\d+/);
      expect(a.kinds).toContain(c.kind);
    });

    it("performs valid params to a well-formed ok outcome", async () => {
      const v = c.valid();
      const base = request(c.kind, v.params, v.grant ?? null);
      const o = await c.create().perform(v.prepare ? v.prepare(base) : base);
      expect(o.status, JSON.stringify(o.payload, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x))).toBe("ok");
      checkOutcome(o);
    });

    it("answers malformed params with an error outcome, not a throw", async () => {
      const o = await c.create().perform(request(c.kind, c.invalid));
      expect(o.status).toBe("error");
      checkOutcome(o);
      const p = o.payload as Record<string, CborValue>;
      expect(typeof p.error).toBe("string");
      expect(typeof p.message).toBe("string");
    });
  });
}
