/**
 * @module The tools that append to a world: `send_event` (journaled like any ingress, its origin
 * naming MCP and the caller's token, answered once the cascade it caused has settled or its wait
 * ran out, saying what is still pending), and `propose` / `shadow` for a patch (as `wk propose` /
 * `wk shadow`; the proposal is unsigned, so the policy in force must allow unsigned proposals).
 * Approving is not here: it is an approver's signature, made with a key this server never holds.
 * Every write goes through the world's one writer (its host), so a call racing another writer in
 * this process waits its turn; a bad argument is refused before anything is written.
 */
import { z } from "zod";
import { WorldkernelError } from "../../air/errors.js";
import { admit } from "../../kernel/world/ingress.js";
import { propose, shadow, type ShadowReport } from "../../kernel/world/governance.js";
import { tokenScopedKey } from "../serve/idempotency.js";
import { pendingOf, settledWithin } from "../serve/settle.js";
import { LIMITS, boundedJson, hostOf, sourceOf, writable } from "./context.js";
import { McpServerError } from "./errors.js";
import { defineTool, seqArg, worldArg, type AnyTool } from "./tool.js";

/** Items of a report's lists shown at most (the whole report is in the world's CAS under its hash). */
const SHOWN = 20;

const sendEvent = defineTool({
  name: "send_event",
  title: "Send an event",
  description: `Append one event (describe_world gives each schema's JSON Schema) and wait until the cascade it caused has settled: its steps, and the effects the gate allowed, dispatched. Answers with the seq, what it appended, and what is still pending (an intent held for approval: list_pending shows what an approver signs). A retry under the same idempotency_key appends nothing and answers the first result with duplicate: true. Waits at most timeout_ms (default ${LIMITS.defaultSettleMs}); settled: false says the dispatch was still running.`,
  role: "ingest",
  input: {
    world: worldArg,
    schema: z.string().min(1).max(200).describe("the event's schema name, e.g. demo/CounterEvent@1"),
    value: z.unknown().describe("the event's value as JSON (integers beyond 2^53 as decimal strings)"),
    idempotency_key: z
      .string()
      .min(1)
      .max(512)
      .optional()
      .describe("makes a retry safe: the same key and event append once; another event under it is refused"),
    timeout_ms: z
      .number()
      .int()
      .min(0)
      .max(LIMITS.maxSettleMs)
      .optional()
      .describe("how long to wait for the cascade to settle"),
  },
  run: async ({ world, schema, value, idempotency_key, timeout_ms }, { ctx, who }) => {
    const h = hostOf(ctx, world);
    writable(ctx);
    boundedJson(value, LIMITS.maxValueBytes, "$.value");
    const event = {
      schema,
      // Ingress parses a text `json` as JSON (`wk send` passes text): a JSON string value goes as its JSON text.
      json: typeof value === "string" ? JSON.stringify(value) : value,
      source: sourceOf(who),
      // Over HTTP a key is the token's own (tools/serve/idempotency.ts); over stdio, the operator's as given.
      ...(idempotency_key === undefined
        ? {}
        : { idempotencyKey: who.token === undefined ? idempotency_key : tokenScopedKey(who.token, idempotency_key) }),
    };
    // Admit first, naming the place (`$.value.by`); the key is checked by the group commit,
    // against the journal, under the writer lock.
    const admitted = admit(h.world.catalog, [event]);
    const bad = admitted.ok ? undefined : admitted.issues.find((i) => i.code !== "kernel.idempotency_conflict");
    if (bad !== undefined) throw new WorldkernelError(bad.code, bad.message, { path: bad.path });
    const [r] = await h.send([event]);
    const settled = await settledWithin(h, timeout_ms ?? LIMITS.defaultSettleMs);
    const pending = pendingOf(h, [r!.seq]);
    return { ...r!, duplicate: r!.duplicate === true, settled, pending };
  },
});

const proposeTool = defineTool({
  name: "propose",
  title: "Propose a patch",
  description:
    "Compile and validate a patch document (as `wk propose` takes: base_manifest_hash, patches, migrations) against the manifest in force and journal the proposal, unsigned: the world's policy must allow unsigned proposals (describe_world: policy.allow_unsigned_proposals). A defmodule must name a wasm_hash already in the world's store. Then shadow it; approvers sign outside this server.",
  role: "ingest",
  input: {
    world: worldArg,
    patch: z.record(z.string(), z.unknown()).describe("the patch document"),
    description: z.string().min(1).max(2000).optional().describe("what the patch is for (else the patch's own)"),
  },
  run: async ({ world, patch, description }, { ctx }) => {
    const h = hostOf(ctx, world);
    writable(ctx);
    boundedJson(patch, LIMITS.maxPatchBytes, "$.patch");
    const r = await h.write((w) => propose(w, patch, description === undefined ? {} : { description }));
    return {
      proposal_id: r.proposalId,
      seq: r.seq,
      new_manifest_hash: r.newManifestHash,
      warnings: r.warnings,
    };
  },
});

/** A shadow report cut for an answer: every count, the first items of each list. */
function reportSummary(rep: ShadowReport): Record<string, unknown> {
  const cf = rep.counterfactual;
  return {
    ...rep,
    cells: rep.cells.slice(0, SHOWN),
    failures: rep.failures.slice(0, SHOWN),
    differing_cells: rep.cells.length,
    failing_steps: rep.failures.length,
    ...(cf
      ? {
          counterfactual: {
            ...cf,
            new_intents: cf.new_intents.slice(0, SHOWN),
            dropped_intents: cf.dropped_intents.slice(0, SHOWN),
            cell_states: cf.cell_states.slice(0, SHOWN),
          },
        }
      : {}),
  };
}

const shadowTool = defineTool({
  name: "shadow",
  title: "Shadow-run a proposal",
  description: `Run a proposal over the world's history with no adapter called (as \`wk shadow\`): re-run since a seq (counterfactual), the last window of ingress events, or the given events on today's state; by default what the policy says. Journals the report and answers it (lists cut to ${SHOWN} items; the whole report is in the world's store under report_hash). Failing steps block approval unless the approver accepts them.`,
  role: "ingest",
  input: {
    world: worldArg,
    proposal_id: z.string().min(1).max(200),
    since: seqArg.optional().describe("counterfactual: re-run the world under the proposal since this seq"),
    window: z.number().int().min(1).max(1_000_000).optional().describe("replay the last n ingress events"),
    events: z
      .array(z.strictObject({ schema: z.string().min(1).max(200), value: z.unknown() }))
      .min(1)
      .max(1000)
      .optional()
      .describe("run these events on today's state instead"),
  },
  run: async ({ world, proposal_id, since, window, events }, { ctx }) => {
    const h = hostOf(ctx, world);
    writable(ctx);
    const given = [since, window, events].filter((x) => x !== undefined).length;
    if (given > 1)
      throw new McpServerError("mcp.bad_argument", "give one of since, window and events", { path: "$.since" });
    if (events !== undefined) boundedJson(events, LIMITS.maxPatchBytes, "$.events");
    const opts =
      events !== undefined
        ? { events: events.map((e, i) => ({ schema: e.schema, value: e.value, line: i + 1 })) }
        : since !== undefined
          ? { since }
          : window !== undefined
            ? { window }
            : {};
    const r = await h.write((w) => shadow(w, proposal_id, opts));
    return { report_hash: r.reportHash, seq: r.seq, warnings: r.warnings, report: reportSummary(r.report) };
  },
});

/** The tools that write, in the order tools/list shows them. */
export const WRITE_TOOLS: readonly AnyTool[] = [sendEvent, proposeTool, shadowTool];
