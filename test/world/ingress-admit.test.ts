/**
 * @module `admit()` (kernel/world/ingress.ts), the one ingress admission: each issue kind with
 * its code, path and message as the CLI and HTTP print them, every issue of a batch with its
 * index, idempotency keys within the batch and against the journal, and `AdmissionError`.
 */
import { describe, expect, it } from "vitest";
import { loadAirDir } from "../../kernel/air-dir.js";
import { KernelError } from "../../kernel/core/errors.js";
import { AdmissionError, admissionIssues, admit, journalKeys, type IngressEvent } from "../../kernel/world/ingress.js";

const loaded = loadAirDir("worlds/counter");
if (!loaded.ok) throw new Error("worlds/counter does not load");
const catalog = loaded.catalog;
const EV = "demo/CounterEvent@1";
const ev = (key: string, by: unknown, idempotencyKey?: string): IngressEvent => ({
  schema: EV,
  json: { key, by },
  ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
});

/** The request hash admit gives an event (what the journal records for its key). */
const requestHash = (e: IngressEvent): string => {
  const r = admit(catalog, [e]);
  if (!r.ok || r.events[0]!.idempotency === undefined) throw new Error("not a keyed, admissible event");
  return r.events[0]!.idempotency.requestHash;
};

/** A journal holding `k-old` at seq 7 for `ev("a", 1)`. */
const journal = journalKeys({
  ingressKeySeq: (key) => (key === "k-old" ? { seq: 7, request_hash: requestHash(ev("a", 1, "k-old")) } : null),
});

describe("admit: one issue per refused event", () => {
  const cases: {
    name: string;
    event: IngressEvent;
    code: string;
    path: string;
    message: RegExp;
    textIsJson?: boolean;
  }[] = [
    {
      name: "unknown schema",
      event: { schema: "demo/Nope@1", json: {} },
      code: "kernel.unknown_schema",
      path: "$.schema",
      message: /^schema demo\/Nope@1 is not in the manifest \(known: .*demo\/CounterEvent@1/,
    },
    {
      name: "negative nat",
      event: ev("a", -1),
      code: "kernel.bad_event",
      path: "$.value.by",
      message: /^event does not match demo\/CounterEvent@1: .* \(at \$\.by\)$/,
    },
    {
      name: "missing field",
      event: { schema: EV, json: { key: "a" } },
      code: "kernel.bad_event",
      path: "$.value.by",
      message: /^event does not match demo\/CounterEvent@1: missing field "by" \(at \$\.by\)$/,
    },
    {
      name: "not a record",
      event: { schema: EV, json: [1] },
      code: "kernel.bad_event",
      path: "$.value",
      message: /^event does not match demo\/CounterEvent@1: /,
    },
    {
      name: "text that is not JSON",
      event: { schema: EV, json: "{nope" },
      code: "kernel.bad_event",
      path: "$.value",
      message: /^event does not match demo\/CounterEvent@1: /,
    },
    {
      name: "text checked as the value itself (textIsJson: false)",
      event: { schema: EV, json: '{"key":"a","by":1}' },
      code: "kernel.bad_event",
      path: "$.value",
      message: /^event does not match demo\/CounterEvent@1: /,
      textIsJson: false,
    },
    {
      name: "key used in the journal for another request",
      event: ev("a", 2, "k-old"),
      code: "kernel.idempotency_conflict",
      path: "$.idempotency_key",
      message: /^idempotency key "k-old" was first used at seq 7 for another request$/,
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const opts = c.textIsJson === undefined ? {} : { textIsJson: c.textIsJson };
      const r = admit(catalog, [ev("ok", 1), c.event], journal, opts);
      expect(r.ok).toBe(false);
      if (r.ok) return;
      expect(r.issues).toHaveLength(1);
      const issue = r.issues[0]!;
      expect(issue).toMatchObject({ index: 1, code: c.code, path: c.path });
      expect(issue.message).toMatch(c.message);
      if (issue.code === "kernel.bad_event") expect(issue.detail).not.toMatch(/\(at [^)]*\)$/);
    });

  it("admits text as JSON by default, and canonicalizes every value", () => {
    const r = admit(catalog, [{ schema: EV, json: '{"by":3,"key":"a"}' }, ev("b", 4)]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.events.map((e) => [e.index, e.schema, e.value])).toEqual([
      [0, EV, { key: "a", by: 3 }],
      [1, EV, { key: "b", by: 4 }],
    ]);
  });
});

describe("admit: every issue of a batch, by index", () => {
  it("collects each refused event with its index, not only the first", () => {
    const r = admit(
      catalog,
      [
        { schema: "demo/Nope@1", json: {} },
        ev("a", 1),
        ev("b", -5),
        ev("c", 2, "k-old"),
        ev("d", 1, "k"),
        ev("d", 2, "k"),
      ],
      journal,
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues.map((i) => [i.index, i.code, i.path])).toEqual([
      [0, "kernel.unknown_schema", "$.schema"],
      [2, "kernel.bad_event", "$.value.by"],
      [3, "kernel.idempotency_conflict", "$.idempotency_key"],
      [5, "kernel.idempotency_conflict", "$.idempotency_key"],
    ]);
  });

  it("a refused event does not claim its key: a later good use is the first", () => {
    const r = admit(catalog, [ev("a", -1, "k"), ev("a", 1, "k")]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.issues.map((i) => i.index)).toEqual([0]);
  });
});

describe("admit: idempotency keys", () => {
  it("within the batch: a repeat is a duplicate of the first, another body a conflict naming it", () => {
    const same = admit(catalog, [ev("a", 1, "k"), ev("b", 1), ev("a", 1, "k")]);
    expect(same.ok).toBe(true);
    if (same.ok) {
      expect(same.events[0]!.duplicateOf).toBeUndefined();
      expect(same.events[2]!.duplicateOf).toEqual({ index: 0 });
      expect(same.events[2]!.idempotency).toEqual(same.events[0]!.idempotency);
    }
    const other = admit(catalog, [ev("a", 1, "k"), ev("a", 2, "k"), ev("a", 3, "k")]);
    expect(other.ok).toBe(false);
    if (!other.ok)
      expect(other.issues.map((i) => [i.index, i.message, "first" in i ? i.first : null])).toEqual([
        [1, 'idempotency key "k" was first used by event 0 of this batch for another request', { index: 0 }],
        [2, 'idempotency key "k" was first used by event 0 of this batch for another request', { index: 0 }],
      ]);
  });

  it("against the journal: a repeat is a duplicate of its seq, another body a conflict", () => {
    const same = admit(catalog, [ev("a", 1, "k-old"), ev("a", 1, "k-old")], journal);
    expect(same.ok).toBe(true);
    if (same.ok) expect(same.events.map((e) => e.duplicateOf)).toEqual([{ seq: 7 }, { seq: 7 }]);
    const other = admit(catalog, [ev("a", 9, "k-old")], journal);
    expect(other.ok ? [] : other.issues.map((i) => ("first" in i ? i.first : null))).toEqual([{ seq: 7 }]);
  });

  it("a caller's own lookup (earlier lines of an input) names the line", () => {
    const hash = requestHash(ev("a", 1, "k"));
    const r = admit<{ line: number }>(catalog, [ev("a", 2, "k")], (key) =>
      key === "k" ? { requestHash: hash, first: { line: 3 } } : null,
    );
    expect(r.ok ? null : r.issues[0]!.message).toBe('idempotency key "k" was first used on line 3 for another request');
  });

  it("without a lookup, only the batch itself is checked", () => {
    expect(admit(catalog, [ev("a", 2, "k-old")]).ok).toBe(true);
  });
});

describe("AdmissionError", () => {
  it("is the first issue's refusal, as a single bad event always was, and carries every issue", () => {
    const r = admit(catalog, [ev("a", -1), { schema: "demo/Nope@1", json: {} }]);
    if (r.ok) throw new Error("expected issues");
    const e = new AdmissionError(r.issues);
    expect(e).toBeInstanceOf(KernelError);
    expect(e.code).toBe("kernel.bad_event");
    expect(e.message).toBe(r.issues[0]!.message);
    expect(e.path).toBe("$.by"); // the value's own path, as World.sendMany always gave it
    expect(e.details).toEqual({ schema: EV });
    expect(e.issues.map((i) => i.index)).toEqual([0, 1]);
    // Error records and HTTP bodies stay those of the first issue: `issues` is not enumerable.
    expect(Object.keys(e.toJSON())).not.toContain("issues");
    expect(admissionIssues(e)).toBe(e.issues);
  });

  it("a conflict names its key; any other error has no issues", () => {
    const r = admit(catalog, [ev("a", 2, "k-old")], journal);
    if (r.ok) throw new Error("expected issues");
    const e = new AdmissionError(r.issues);
    expect([e.code, e.details]).toEqual(["kernel.idempotency_conflict", { idempotency_key: "k-old" }]);
    expect(admissionIssues(new KernelError("kernel.bad_event", "x"))).toBeUndefined();
    expect(admissionIssues(new Error("x"))).toBeUndefined();
  });
});
