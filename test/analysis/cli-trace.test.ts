/**
 * @module `wk trace` and `wk explain`, driven in process on journals the real kernel recorded:
 * the summarizer golden journal (HTTP, blob, compile and LLM effects, and an injected fetch the
 * gate denies), the KYC risk scorer's (recorded reasoning, ann-v1), and the analysis agent world
 * with an intent held for a real approver, sent with an idempotency key. The tree links each
 * entry to its cause; `explain` names the trigger, the state seen, the reasoning, the decision
 * with its rule, the approval and the result; an NDJSON export gives the same tree; what the
 * journal does not hold is refused (exit 3) with `analysis.not_found`.
 */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import type { Explanation, TraceView } from "../../kernel/analysis/index.js";
import { registerJournal } from "../../tools/cli/commands/journal.js";
import { registerTrace } from "../../tools/cli/commands/trace.js";
import { inProcessWk } from "../cli/in-process.js";
import { agentWorld, get, request } from "./agent-world.js";

/** Runs `wk <args>` in this process: the exit code it would end with and what it printed. */
const wk = inProcessWk(registerTrace, registerJournal);

const golden = (name: string) => {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-trace-")), name);
  cpSync(new URL(`../fixtures/journals/${name}`, import.meta.url).pathname, dir, { recursive: true });
  return dir;
};

/** Every node of a tree, depth first. */
const nodes = (v: TraceView): TraceView[] => [v, ...v.children.flatMap(nodes)];
const treeOf = async (...args: string[]) => JSON.parse((await wk("trace", ...args, "--json")).stdout) as TraceView;

describe("wk trace and wk explain", () => {
  let summarizer: string;
  let reasoned: string;
  let held: { dir: string; intent: string };
  const approver = generateKeyPair();

  beforeAll(async () => {
    summarizer = golden("summarizer_v2");
    reasoned = golden("reasoned_v2");
    const { w, dir } = await agentWorld(approver);
    await w.sendMany([
      { ...request("h", { effects: [get("http://127.0.0.1:9/", "held")] }), idempotencyKey: "order-7" },
    ]);
    const [intent] = [...w.state.pending.keys()];
    await w.decideHeldIntent(intent!, approver, "deny");
    await w.close();
    held = { dir, intent: intent! };
  }, 120_000);

  it("trace: every entry of the cascade under its cause, with the gate's rule and the denied fetch", async () => {
    const tree = await treeOf("1", "--world", summarizer);
    expect(tree).toMatchObject({ seq: 1, kind: "event", selected: true });
    const all = nodes(tree);
    // Every entry the ingress event caused is in its tree, once.
    expect(new Set(all.map((n) => n.seq)).size).toBe(all.length);
    const denied = all.find((n) => n.kind === "policy_decision" && n.what.includes("deny"))!;
    expect(denied.what).toContain("host_not_allowed");
    const intent = all.find((n) => n.children.includes(denied))!;
    expect(intent.kind).toBe("effect_intent");
    const receipt = intent.children.find((c) => c.kind === "effect_receipt")!;
    expect(receipt.what).toContain("receipt denied");
    const delivery = receipt.children[0]!;
    expect(delivery.kind).toBe("event");
    expect(delivery.children[0]!.kind).toBe("step");
    const allowed = all.find((n) => n.kind === "policy_decision" && n.what.includes("allow"))!;
    expect(allowed.what).toMatch(/rule \d+ of demo\/summarizer-policy@1/);
  });

  it("trace from any entry shows its whole tree and marks it; an NDJSON export gives the same tree", async () => {
    const fromIngress = await treeOf("1", "--world", summarizer);
    const deep = nodes(fromIngress).at(-1)!;
    const fromDeep = await treeOf(String(deep.seq), "--world", summarizer);
    expect(nodes(fromDeep).map((n) => n.seq)).toEqual(nodes(fromIngress).map((n) => n.seq));
    expect(nodes(fromDeep).find((n) => n.selected)!.seq).toBe(deep.seq);
    const file = join(mkdtempSync(join(tmpdir(), "wk-trace-nd-")), "j.ndjson");
    writeFileSync(file, (await wk("log", "--world", summarizer, "--ndjson")).stdout);
    const fromFile = await treeOf("1", "--file", file);
    expect(fromFile).toEqual(fromIngress);
  });

  it("trace shows a step's recorded reasoning (ann-v1)", async () => {
    const text = (await wk("trace", "1", "--world", reasoned)).stdout;
    expect(text).toContain('reasoning {"band":"low"');
    const big = (await wk("trace", "3", "--world", reasoned)).stdout;
    expect(big).toMatch(/reasoning in blob [0-9a-f]{12}/);
  });

  it("explain: trigger, state seen, decision, the approver's refusal and the result, by intent; trace by idempotency key", async () => {
    expect(held.intent).toMatch(/^sha256:/);
    const x = JSON.parse((await wk("explain", held.intent, "--world", held.dir, "--json")).stdout) as Explanation;
    expect(x.root.what).toContain('idempotency key "order-7"');
    expect(x.trigger.seq).toBe(x.root.seq);
    expect(x.step.state_before).toBeNull();
    expect(x.decisions.map((d) => d.what)).toEqual([
      expect.stringContaining("gate: require_approval"),
      expect.stringContaining("decided: deny"),
    ]);
    expect(x.result?.what).toMatch(/receipt denied/);
    expect(x.follow_up.length).toBeGreaterThan(0);
    const text = (await wk("explain", held.intent, "--world", held.dir)).stdout;
    expect(text).toContain("state seen   none (a new cell)");
    const byKey = await treeOf("order-7", "--world", held.dir);
    expect(byKey.selected).toBe(true);
    expect(nodes(byKey).some((n) => n.kind === "effect_intent")).toBe(true);
  });

  it("what the journal does not hold is refused with analysis.not_found (exit 3)", async () => {
    for (const args of [
      ["trace", "no-such-thing", "--world", summarizer],
      ["trace", "99999", "--world", summarizer],
      ["explain", "sha256:" + "0".repeat(64), "--world", summarizer],
    ]) {
      const r = await wk(...args);
      expect(r.exit, args.join(" ")).toBe(3);
      expect(r.error).toMatchObject({ code: "analysis.not_found" });
    }
  });
});
