/**
 * Kernel flag mcp-v1: with it the gate checks an `mcp.call` against its `mcp` grant and a
 * policy condition reads its decoded arguments; a world recorded before it decides as it did
 * (no such check, arguments are bytes), and governance refuses to give such a world a
 * `sys/mcp@1` grant. A proposal's authority diff says which grant changes widen what a world
 * may call.
 */
import { describe, expect, it } from "vitest";
import { encodeCanonical, hashBytes, type CborValue } from "../../air/index.js";
import { BudgetLedger } from "../../kernel/core/budget.js";
import { decide } from "../../kernel/core/gate.js";
import { KERNEL_FLAGS, behaviourOf } from "../../kernel/transition/flags.js";
import { authorityChanges } from "../../kernel/world/authority-diff.js";
import { worldGateHooks } from "../../kernel/world/gate-rules.js";
import { mcpUnsupported } from "../../kernel/world/governance.js";
import { emitterSource, type EmitterSpec } from "./fixtures/emitter.js";

const SERVER = "https://mcp.example.com/mcp";

const spec = (tools: string[], rules?: unknown[], more: Record<string, unknown> = {}): EmitterSpec => ({
  kind: "mcp.call",
  effect: "sys/mcp.call@1",
  cap: "sys/mcp@1",
  capType: "mcp",
  grantParams: { servers: { [SERVER]: { tools } }, ...more },
  ...(rules ? { rules } : {}),
});

const OLD = KERNEL_FLAGS.filter((f) => f !== "mcp-v1");

async function decideFor(s: EmitterSpec, tool: string, args: CborValue, flags: readonly string[]) {
  const { catalog } = await emitterSource(s);
  return decide({
    catalog,
    worldId: "w",
    module: "t/Agent@1",
    key: "agent",
    causeEventHash: hashBytes(new Uint8Array(1)),
    index: 0,
    effect: {
      kind: "mcp.call",
      cap_slot: "ok",
      params: { server: SERVER, tool, arguments: encodeCanonical(args), headers: null },
    },
    nowNs: 0n,
    budgets: new BudgetLedger(),
    hooks: worldGateHooks(behaviourOf(flags)),
  });
}

describe("mcp-v1", () => {
  it("the gate denies an unlisted tool under mcp-v1; a journal from before it is decided without the check", async () => {
    expect(await decideFor(spec(["search"]), "delete", {}, KERNEL_FLAGS)).toMatchObject({
      decision: "deny",
      stage: "grant",
      code: "tool_not_allowed",
    });
    expect(await decideFor(spec(["search"]), "delete", {}, OLD)).toMatchObject({
      decision: "allow",
      stage: "policy",
    });
  }, 60_000);

  it("a policy condition reads the decoded arguments; before mcp-v1 they are bytes and the condition fails closed", async () => {
    const rules = [
      { when: { effect_kind: "mcp.call", condition: "params.arguments.amount > 1000" }, decision: "require_approval" },
      { when: { effect_kind: "mcp.call", condition: 'params.arguments.rate == "0.25"' }, decision: "deny" },
      { when: { effect_kind: "mcp.call" }, decision: "allow" },
    ];
    const s = spec(["pay"], rules);
    expect(await decideFor(s, "pay", { amount: 5000, rate: 0.5 }, KERNEL_FLAGS)).toMatchObject({
      decision: "require_approval",
      ruleIndex: 0,
    });
    expect(await decideFor(s, "pay", { amount: 10, rate: 0.25 }, KERNEL_FLAGS)).toMatchObject({
      decision: "deny",
      ruleIndex: 1,
      code: "policy.deny",
    });
    expect(await decideFor(s, "pay", { amount: 10, rate: 0.5 }, KERNEL_FLAGS)).toMatchObject({ decision: "allow" });
    expect(await decideFor(s, "pay", { amount: 5000 }, OLD)).toMatchObject({
      decision: "deny",
      code: "policy.condition_error",
      ruleIndex: 0,
    });
  }, 60_000);

  it("governance refuses a sys/mcp@1 grant in a world without mcp-v1", async () => {
    const { catalog } = await emitterSource(spec(["search"]));
    expect(mcpUnsupported(behaviourOf(KERNEL_FLAGS), catalog)).toBeNull();
    expect(mcpUnsupported(behaviourOf(OLD), catalog)).toMatchObject({ code: "governance.mcp_unsupported" });
  }, 60_000);

  it("the authority diff: a server, a tool or an allow_private entry added widens; one removed does not", async () => {
    const side = async (servers: Record<string, string[]>, allowPrivate?: string[]) => {
      const { catalog } = await emitterSource({
        ...spec([]),
        grantParams: {
          servers: Object.fromEntries(Object.entries(servers).map(([k, tools]) => [k, { tools }])),
          ...(allowPrivate ? { allow_private: allowPrivate } : {}),
        },
      });
      return catalog;
    };
    const base = await side({ [SERVER]: ["search"] });
    const widened = await side({ [SERVER]: ["search", "delete"], "stdio:files": ["read"] }, ["10.0.0.0/8"]);
    const found = authorityChanges(base, widened).map((f) => [f.path, f.widens]);
    expect(found).toEqual([
      ["$.params.allow_private", true],
      [`$.params.servers["${SERVER}"].tools`, true],
      ['$.params.servers["stdio:files"].tools', true],
    ]);
    expect(authorityChanges(widened, base).every((f) => f.widens === false)).toBe(true);
  }, 60_000);
});
