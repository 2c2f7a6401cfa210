/**
 * @module The `EffectAdapter` conformance suite: every adapter, built in or third party,
 * must honour the port's contract — identity fields, an outcome (never a throw) for bad
 * params and outside failures, canonical-CBOR-encodable payloads, natural costs, ordered
 * times, and no `denied` status (that is the gate's). With the effect's schemas given, the
 * params are first conformed exactly as the gate does (hashes become 32 raw bytes, dec128 a
 * tag) and the `ok` payload must conform to the receipt schema. `runAdapterSuite` registers the tests.
 */
import { describe, expect, it } from "vitest";
import { conformCbor, encodeStored, type CborValue } from "../../air/index.js";
import type { TypeExpr } from "../../air/schemas/common.js";
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
  /** The effect's expanded params and receipt types (from its defeffect). */
  schemas?: { params: TypeExpr; receipt: TypeExpr };
}

function checkOutcome(o: EffectOutcome): void {
  expect(["ok", "error", "timeout"]).toContain(o.status);
  expect(() => encodeStored(o.payload)).not.toThrow();
  for (const v of [o.cost.tokens_in, o.cost.tokens_out, o.cost.cents])
    expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
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
      const req = v.prepare ? v.prepare(base) : base;
      if (c.schemas) req.params = conformCbor(c.schemas.params, req.params);
      const o = await c.create().perform(req);
      expect(
        o.status,
        JSON.stringify(o.payload, (_k, x: unknown) => (typeof x === "bigint" ? String(x) : x)),
      ).toBe("ok");
      checkOutcome(o);
      if (c.schemas) expect(() => conformCbor(c.schemas!.receipt, o.payload)).not.toThrow();
    });

    it("answers malformed params with an error outcome, not a throw", async () => {
      const o = await c.create().perform(request(c.kind, c.invalid));
      expect(o.status).toBe("error");
      checkOutcome(o);
      const p = o.payload as Record<string, CborValue>;
      expect(typeof p.code).toBe("string");
      expect(typeof p.message).toBe("string");
    });
  });
}
