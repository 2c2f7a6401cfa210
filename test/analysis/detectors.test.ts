/**
 * @module Each detector of `wk analyze` (kernel/analysis) on small journals the real kernel
 * records: a positive case that must be found and a negative case, as close to it as can be,
 * that must not. The worlds run the agent of agent-world.ts (three modules, one AssemblyScript
 * binary) under an injected clock; effects go to a page server on 127.0.0.1 or are denied by the
 * gate (a host outside the grant). Findings are read from the journals as recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import {
  budgetBurn,
  delegationCycle,
  retryStorm,
  silentFailure,
  stalledWork,
  structuralDrift,
} from "../../kernel/analysis/index.js";
import { DEFAULT_INTENT_TTL_NS } from "../../kernel/transition/flags.js";
import { apply, approve, propose, shadow } from "../../kernel/world/governance.js";
import { startPageServer, type PageServer } from "../world/page-server.js";
import { T0, TTL, agentWorld, get, request } from "./agent-world.js";
import { configWith, findingsOf } from "./journal-lines.js";

const approver = generateKeyPair();
/** A host outside every grant: the gate denies it, with a signed `denied` receipt. */
const DENIED = "http://example.com/";
let server: PageServer;

beforeAll(async () => {
  server = await startPageServer("ok");
});
afterAll(() => server.close());

/** Records a world: `run` sends to it, then it is closed; returns its directory. */
async function recorded(run: (w: Awaited<ReturnType<typeof agentWorld>>["w"]) => Promise<void>, opts = {}) {
  const { w, dir } = await agentWorld(approver, opts);
  await run(w);
  await w.close();
  return dir;
}

describe.concurrent("retry storm", () => {
  it("finds a module re-asking for a denied effect, and a step failing the same way again and again", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany([request("x", { effects: [get(DENIED)], on_fail: "retry", retries: 4 })]);
      // Three inputs, three commits: each failure is its own batch.
      for (let i = 0; i < 3; i++) await w.sendMany([request("y", { fail: true })]);
    });
    const f = await findingsOf(retryStorm, dir);
    expect(f.map((x) => [x.key, x.severity, x.seqs.length])).toEqual([
      ["x", "warn", 5],
      ["y", "warn", 3],
    ]);
    expect(f[0]!.message).toContain("http.request with the same params");
    expect(f[1]!.message).toMatch(/a step failing with \S+ 3 times/);
    // Ten repeats are critical.
    const more = await recorded(async (w) => {
      await w.sendMany([request("x", { effects: [get(DENIED)], on_fail: "retry", retries: 9 })]);
    });
    expect((await findingsOf(retryStorm, more)).map((x) => x.severity)).toEqual(["critical"]);
  }, 120_000);

  it("finds nothing for different params, for repeats spread wider than the window, or for too few", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany([
        ...[1, 2, 3, 4].map((i) => request("x", { effects: [get(`${DENIED}${i}`)] })),
        request("y", { effects: [get(DENIED)], on_fail: "retry", retries: 1 }),
        request("z", { fail: true }),
        request("z", { fail: true }),
      ]);
    });
    expect(await findingsOf(retryStorm, dir)).toEqual([]);
    // The same journal, with a window too narrow for the retries to fall in it together.
    const narrow = await recorded(async (w) => {
      await w.sendMany([request("x", { effects: [get(DENIED)], on_fail: "retry", retries: 4 })]);
    });
    expect(await findingsOf(retryStorm, narrow, { config: configWith({ retry_storm: { window_seqs: 4 } }) })).toEqual(
      [],
    );
  }, 120_000);
});

describe.concurrent("silent failure", () => {
  it("warns when a cell ignores a denied receipt and carries on; critical when it claims success", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany([
        request("quiet", { effects: [get(DENIED)], on_fail: "ignore" }),
        request("quiet"),
        request("liar", { effects: [get(DENIED)], on_fail: "claim" }),
        request("crash", { fail: true }),
        request("crash"),
      ]);
    });
    const f = await findingsOf(silentFailure, dir);
    expect(f.map((x) => [x.key, x.severity])).toEqual([
      ["quiet", "warn"],
      ["liar", "critical"],
      ["crash", "warn"],
    ]);
    expect(f[0]!.message).toContain("left a denied receipt for http.request");
    expect(f[1]!.message).toContain("emitted demo/ToC@1 claiming success");
    expect(f[2]!.message).toContain("left a failed step");
  }, 120_000);

  it("finds nothing when the cell reports the failure, retries it, or never carries on", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany([
        request("reports", { effects: [get(DENIED)], on_fail: "report" }),
        request("reports"),
        request("retries", { effects: [get(DENIED)], on_fail: "retry", retries: 1 }),
        request("stops", { effects: [get(DENIED)], on_fail: "ignore" }),
        request("fine", { effects: [get(`${server.url}/page`)], on_fail: "ignore" }),
        request("fine"),
      ]);
    });
    // The retry's own last failure is left unhandled, but that cell never carries on.
    expect(await findingsOf(silentFailure, dir)).toEqual([]);
  }, 120_000);
});

describe.concurrent("delegation cycle", () => {
  it("finds work bouncing A → B → A, critical once it keeps coming back", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany([
        request("once", { next: ["demo/ToB@1", "demo/ToA@1"] }),
        request("loop", { next: ["demo/ToB@1", "demo/ToA@1", "demo/ToB@1", "demo/ToA@1", "demo/ToB@1", "demo/ToA@1"] }),
      ]);
    });
    const f = await findingsOf(delegationCycle, dir);
    expect(f.map((x) => x.severity)).toEqual(["warn", "critical"]);
    expect(f[0]!.message).toContain("bounces between demo/A@1, demo/B@1: it came back 1 time(s)");
    expect(f[1]!.message).toContain("it came back 3 time(s)");
  }, 120_000);

  it("follows chains across cascades, through an effect's receipt: B → A, A's fetch, A → B", async () => {
    const page = get(`${server.url}/page`);
    const dir = await recorded(async (w) => {
      // B passes the request to A; A fetches (its cascade ends); the receipt's step sends it back to B.
      await w.sendMany([
        { ...request("x", { next: ["demo/ToA@1"], effects: [page], then: ["demo/ToB@1"] }), schema: "demo/ToB@1" },
      ]);
    });
    const f = await findingsOf(delegationCycle, dir);
    expect(f.map((x) => [x.module, x.severity])).toEqual([["demo/A@1", "warn"]]);
    expect(f[0]!.message).toMatch(/bounces between demo\/A@1, demo\/B@1: it came back 1 time\(s\)$/);
    // The same path with no way back: B → A, A's fetch, A → C.
    const line = await recorded(async (w) => {
      await w.sendMany([
        { ...request("x", { next: ["demo/ToA@1"], effects: [page], then: ["demo/ToC@1"] }), schema: "demo/ToB@1" },
      ]);
    });
    expect(await findingsOf(delegationCycle, line)).toEqual([]);
  }, 120_000);

  it("finds nothing for a chain that moves on, A → B → C, nor for a module talking to itself", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany([
        request("line", { next: ["demo/ToB@1", "demo/ToC@1"] }),
        request("self", { next: ["demo/ToA@1", "demo/ToA@1", "demo/ToA@1"] }),
      ]);
    });
    expect(await findingsOf(delegationCycle, dir)).toEqual([]);
  }, 120_000);
});

describe.concurrent("budget burn", () => {
  it("critical when the gate refuses for budget; a warning when a grant is used faster than the rate", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany([
        request("a", { effects: [get(`${server.url}/1`, "once")] }),
        request("b", { effects: [get(`${server.url}/2`, "once")] }),
        ...[3, 4, 5].map((i) => request("c", { effects: [get(`${server.url}/${i}`)] })),
      ]);
    });
    const f = await findingsOf(budgetBurn, dir, { config: configWith({ budget_burn: { max_uses: 2 } }) });
    expect(f.map((x) => x.severity)).toEqual(["warn", "critical"]);
    expect(f[0]!.message).toMatch(/^grant net: 3 uses within 1000 seqs/);
    expect(f[1]!.message).toMatch(/^grant once is exhausted/);
  }, 120_000);

  it("finds nothing within the budget and the rate", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany([
        request("a", { effects: [get(`${server.url}/1`, "once")] }),
        ...[3, 4, 5].map((i) => request("c", { effects: [get(`${server.url}/${i}`)] })),
      ]);
    });
    expect(await findingsOf(budgetBurn, dir, { config: configWith({ budget_burn: { max_uses: 3 } }) })).toEqual([]);
  }, 120_000);
});

const proposer = generateKeyPair();

/** A patch against `base` that adds a schema (the modules are unchanged). */
const patchDoc = (base: string) => ({
  base_manifest_hash: base,
  description: "add a schema",
  patches: [{ add_def: { kind: "defschema", node: { $kind: "defschema", name: "demo/Note@1", type: { text: {} } } } }],
});

/** A world that gets `before`, then an apply (a schema added: the modules are unchanged), then `after`. */
function around(before: ReturnType<typeof request>[], after: ReturnType<typeof request>[]): Promise<string> {
  return recorded(async (w) => {
    await w.sendMany(before);
    const { proposalId } = await propose(w, patchDoc(w.catalog.manifestHash), { proposer });
    await shadow(w, proposalId);
    await approve(w, proposalId, approver);
    await apply(w, proposalId);
    await w.sendMany(after);
  });
}

describe.concurrent("stalled work", () => {
  it("an intent held past its window, and an allowed one that never got its receipt, are warnings", async () => {
    const dir = await recorded(
      async (w) => {
        await w.sendMany([
          request("held", { effects: [get(`${server.url}/h`, "held")] }),
          request("stuck", { effects: [get(`${server.url}/s`)] }),
        ]);
      },
      // Nothing is dispatched: the allowed intent waits as a crashed dispatcher would leave it.
      { dispatchAfterWrite: false },
    );
    // The held grant gives intents TTL; the other grant, the kernel's default.
    const late = await findingsOf(stalledWork, dir, { nowNs: T0 + DEFAULT_INTENT_TTL_NS + 1n });
    expect(late.map((x) => [x.key, x.severity])).toEqual([
      ["held", "warn"],
      ["stuck", "warn"],
    ]);
    expect(late[0]!.message).toContain("held for approval past its window");
    expect(late[1]!.message).toContain("waits on a receipt that cannot come");
    // Within the window, the held intent is listed (info) and the other is not late yet.
    const early = await findingsOf(stalledWork, dir);
    expect(early.map((x) => [x.key, x.severity])).toEqual([["held", "info"]]);
  }, 120_000);

  it("a proposal neither applied nor denied for proposal_wait_seqs is stalled; an applied one is not", async () => {
    const config = configWith({ stalled_work: { proposal_wait_seqs: 10 } });
    const waiting = await recorded(async (w) => {
      await propose(w, patchDoc(w.catalog.manifestHash), { proposer });
      await w.sendMany(Array.from({ length: 10 }, () => request("k")));
    });
    const f = await findingsOf(stalledWork, waiting, { config });
    expect(f.map((x) => x.severity)).toEqual(["warn"]);
    expect(f[0]!.message).toMatch(
      /^proposal sha256:\S+… \(seq \d+\) has been neither applied nor denied for \d+ seqs$/,
    );
    // Fewer seqs than the threshold since it was filed: not yet.
    expect(
      await findingsOf(stalledWork, waiting, { config: configWith({ stalled_work: { proposal_wait_seqs: 1000 } }) }),
    ).toEqual([]);
    const applied = await around(
      Array.from({ length: 10 }, () => request("k")),
      Array.from({ length: 10 }, () => request("k")),
    );
    expect(await findingsOf(stalledWork, applied, { config })).toEqual([]);
  }, 120_000);

  it("finds nothing once the held intent is decided and every receipt is in", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany([request("held", { effects: [get(`${server.url}/h`, "held")] })]);
      const [id] = [...w.state.pending.keys()];
      await w.decideHeldIntent(id!, approver, "allow");
      await w.sendMany([request("fine", { effects: [get(`${server.url}/f`)] })]);
    });
    expect(await findingsOf(stalledWork, dir, { nowNs: T0 + DEFAULT_INTENT_TTL_NS + TTL })).toEqual([]);
  }, 120_000);
});

/** 16 kinds of step for demo/A@1: every mix of 0–3 events to demo/C@1 and 0–3 to demo/B@1. */
const VARIANTS = Array.from({ length: 16 }, (_, i) => [
  ...Array<string>(i % 4).fill("demo/ToC@1"),
  ...Array<string>(Math.floor(i / 4)).fill("demo/ToB@1"),
]);

describe.concurrent("structural drift", () => {
  it("warns when a module that always did one thing does sixteen (entropy up by more than 2.5 bits)", async () => {
    const dir = await recorded(async (w) => {
      await w.sendMany(Array.from({ length: 120 }, (_, i) => request(`k${i % 5}`)));
      await w.sendMany(VARIANTS.flatMap((fanout) => [0, 1, 2].map((j) => request(`k${j}`, { fanout }))));
    });
    const f = await findingsOf(structuralDrift, dir);
    expect(f.map((x) => [x.module, x.severity])).toEqual([["demo/A@1", "warn"]]);
    expect(f[0]!.message).toMatch(/transition entropy 0(\.\d+)? → [3-4]\.\d+ bits/);
  }, 120_000);

  it("compares before and after the last apply when there is one, exactly at its seq", async () => {
    const varied = VARIANTS.flatMap((fanout) => [0, 1, 2].map((j) => request(`k${j}`, { fanout })));
    const drifted = await around(
      Array.from({ length: 30 }, (_, i) => request(`k${i % 3}`)),
      varied,
    );
    const f = await findingsOf(structuralDrift, drifted);
    expect(f.map((x) => [x.module, x.severity])).toEqual([["demo/A@1", "warn"]]);
    // 48 steps spread evenly over 16 paths: exactly 4 bits.
    expect(f[0]!.message).toMatch(
      /across the apply at seq \d+: transition entropy 0 → 4 bits \(1 → 16 paths\); path variance 0 → 2\.5 \(30 and 48 steps\)$/,
    );
    const same = await around(varied.slice(0, 24), varied.slice(24));
    expect(await findingsOf(structuralDrift, same)).toEqual([]);
  }, 120_000);

  it("warns when fuel per step grows by more than fuel_factor, the paths alike on each side", async () => {
    // After the apply every step emits nine events: one path on each side, four times the fuel or more.
    const nine = Array<string>(9).fill("demo/ToC@1");
    const heavier = await around(
      Array.from({ length: 24 }, (_, i) => request(`k${i % 3}`)),
      Array.from({ length: 24 }, (_, i) => request(`k${i % 3}`, { fanout: nine })),
    );
    const f = await findingsOf(structuralDrift, heavier);
    expect(f.map((x) => [x.module, x.severity])).toEqual([["demo/A@1", "warn"]]);
    expect(f[0]!.message).toMatch(
      /apply at seq \d+: fuel per step [\d.]+ → [\d.]+; path variance 0 → 0 \(24 and 24 steps\)$/,
    );
    // Twice the fuel, not four times: no drift.
    const two = Array<string>(2).fill("demo/ToC@1");
    const heavy = await around(
      Array.from({ length: 24 }, (_, i) => request(`k${i % 3}`)),
      Array.from({ length: 24 }, (_, i) => request(`k${i % 3}`, { fanout: two })),
    );
    expect(await findingsOf(structuralDrift, heavy)).toEqual([]);
  }, 120_000);

  it("finds nothing when both halves mix the same paths", async () => {
    const dir = await recorded(async (w) => {
      const mixed = () => VARIANTS.flatMap((fanout) => [0, 1].map((j) => request(`k${j}`, { fanout })));
      await w.sendMany(mixed());
      await w.sendMany(mixed());
    });
    expect(await findingsOf(structuralDrift, dir)).toEqual([]);
  }, 120_000);
});
