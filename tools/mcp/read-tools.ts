/**
 * @module The read tools over a world: `list_worlds`, `describe_world`, `get_state` (as `wk
 * state` and `GET /v1/…/state`), `query_journal` (a page of entries by kind, seq range and key,
 * with a cursor to the next), `trace` and `explain` (as `wk trace`/`wk explain`), `verify`.
 * Each reads the host's store synchronously to its end, so it sees one consistent journal while
 * the world writes.
 */
import { traceAs, tokenScopedKey } from "../serve/idempotency.js";
import { z } from "zod";
import { decodeStored } from "../../air/cbor/decode.js";
import { explainOf } from "../../kernel/analysis/index.js";
import { cellKeyText } from "../../kernel/core/cells.js";
import { entryToJson } from "../../kernel/journal/entry-json.js";
import { ENTRY_KINDS } from "../../kernel/journal/entry-kinds.js";
import { journalLines } from "../../kernel/world/journal-lines.js";
import { verifyWorldDir } from "../../kernel/world/verify-world.js";
import { stateJson } from "../cli/commands/world.js";
import { worldSummary } from "../serve/world-host.js";
import { LIMITS, hostOf } from "./context.js";
import { describeCatalog } from "./describe.js";
import { McpServerError } from "./errors.js";
import { defineTool, seqArg, worldArg, type AnyTool } from "./tool.js";

/**
 * True when an entry's JSON body is about `key`: a cell key (its own, or its origin's) or the
 * idempotency key it was sent under — as journaled, or as the calling token sent it (keys sent
 * over HTTP are journaled per token: tools/serve/idempotency.ts).
 */
function aboutKey(body: unknown, key: string, token: string | undefined): boolean {
  const b = body as { key?: unknown; origin?: { key?: unknown; idempotency_key?: unknown } } | null;
  const sent = b?.origin?.idempotency_key;
  return (
    b?.key === key ||
    b?.origin?.key === key ||
    sent === key ||
    (token !== undefined && sent === tokenScopedKey(token, key))
  );
}

const listWorlds = defineTool({
  name: "list_worlds",
  title: "List worlds",
  description:
    "The worlds this server hosts: id, height (entries so far), head, last checkpoint, manifest hash, pending work.",
  role: "read",
  input: {},
  run: ({}, { ctx }) => ({ worlds: [...ctx.hosts.values()].map(worldSummary) }),
});

const describeWorld = defineTool({
  name: "describe_world",
  title: "Describe a world",
  description:
    "What a world accepts and does: the events it routes, each with the JSON Schema of its value (what send_event takes), its modules, the effects and grants in force, and its policy (rules, approvers, threshold, whether unsigned proposals are taken).",
  role: "read",
  input: { world: worldArg },
  run: ({ world }, { ctx }) => {
    const h = hostOf(ctx, world);
    return describeCatalog(h.id, h.world.catalog);
  },
});

const getState = defineTool({
  name: "get_state",
  title: "Read state",
  description:
    "Cell states as JSON (as `wk state` prints them): every cell, one module's cells, or with module and key one cell. At most 1000 cells (`truncated` says when more exist).",
  role: "read",
  input: {
    world: worldArg,
    module: z.string().min(1).max(200).optional().describe("a module's name (describe_world lists them)"),
    key: z.string().max(512).optional().describe("a cell key, as get_state lists it"),
  },
  run: ({ world, module, key }, { ctx }) => {
    const w = hostOf(ctx, world).world;
    if (module !== undefined && !w.catalog.modules.has(module))
      throw new McpServerError(
        "mcp.bad_argument",
        `no module ${module} (modules: ${[...w.catalog.modules.keys()].join(", ")})`,
        { path: "$.module" },
      );
    const all = w.state.cells
      .list()
      .filter(
        (x) => (module === undefined || x.module === module) && (key === undefined || cellKeyText(x.key) === key),
      );
    if (module !== undefined && key !== undefined && all.length === 0)
      throw new McpServerError("mcp.no_cell", `no cell ${module} / ${key}`, { path: "$.key" });
    const cells = all.slice(0, LIMITS.maxCells).map((x) => ({
      module: x.module,
      key: cellKeyText(x.key),
      state_hash: x.hash,
      state: x.bytes.length === 0 ? null : stateJson(w, x.module, decodeStored(x.bytes)),
    }));
    return { state_root: w.state.cells.stateRoot(), cells, truncated: all.length > cells.length };
  },
});

const queryJournal = defineTool({
  name: "query_journal",
  title: "Query the journal",
  description: `A page of journal entries in seq order (as \`wk log --json\`), filtered by kind, seq range and key (a cell key, or the idempotency key an event was sent under). Pass next_cursor back as cursor for the next page; null means the range is done. At most ${LIMITS.maxPage} entries (default ${LIMITS.defaultPage}) and about 1 MiB a page.`,
  role: "read",
  input: {
    world: worldArg,
    kind: z.enum(ENTRY_KINDS).optional().describe("only entries of this kind"),
    from: seqArg.optional().describe("first seq (default 0)"),
    to: seqArg.optional().describe("last seq, inclusive (default: the head)"),
    key: z.string().min(1).max(512).optional().describe("only entries about this cell key or idempotency key"),
    cursor: z
      .string()
      .regex(/^[0-9]{1,16}$/, "a cursor is the next_cursor of a page")
      .optional()
      .describe("the next_cursor of the page before (overrides from)"),
    limit: z.number().int().min(1).max(LIMITS.maxPage).optional().describe("entries per page"),
  },
  run: ({ world, kind, from, to, key, cursor, limit }, { ctx, who }) => {
    const h = hostOf(ctx, world);
    const start = cursor === undefined ? (from ?? 0) : Number(cursor);
    const max = limit ?? LIMITS.defaultPage;
    const entries: Record<string, unknown>[] = [];
    let bytes = 0;
    let scanned = 0;
    let next: number | null = null;
    // Read synchronously to the end of the page: no write interleaves with the open statement.
    for (const e of h.world.store.iterateSync(start, to)) {
      if (entries.length === max || scanned === LIMITS.maxScan || bytes > LIMITS.maxPageBytes) {
        next = e.seq;
        break;
      }
      scanned++;
      if (kind !== undefined && e.kind !== kind) continue;
      const j = entryToJson(e);
      if (key !== undefined && !aboutKey(j.body, key, who.token)) continue;
      bytes += JSON.stringify(j).length;
      entries.push(j);
    }
    return { entries, next_cursor: next === null ? null : String(next), height: h.height };
  },
});

const target = z.string().min(1).max(512);

const trace = defineTool({
  name: "trace",
  title: "Trace",
  description: `The causal tree an entry belongs to (as \`wk trace --json\`): the ingress event, steps with their recorded reasoning, emitted events, intents, gate decisions with the rule that decided, approvals, receipts and the steps they caused. Cut to ${LIMITS.maxTraceNodes} entries (\`truncated\` says so).`,
  role: "read",
  input: { world: worldArg, target: target.describe("a seq, an intent id, or an ingress event's idempotency key") },
  run: ({ world, target }, { ctx, who }) => {
    const store = hostOf(ctx, world).world.store;
    return { ...traceAs(journalLines(store), target, who.token, { maxNodes: LIMITS.maxTraceNodes }) };
  },
});

const explain = defineTool({
  name: "explain",
  title: "Explain an intent",
  description:
    "Why the agent did this (as `wk explain --json`): the trigger, the state it saw, its recorded reasoning, the gate's decision and the rule that made it, approvals, the result and what followed.",
  role: "read",
  input: { world: worldArg, intent_id: target.describe("the intent (list_pending, trace, a receipt)") },
  run: ({ world, intent_id }, { ctx }) => ({ ...explainOf(journalLines(hostOf(ctx, world).world.store), intent_id) }),
});

const verify = defineTool({
  name: "verify",
  title: "Verify",
  description:
    "Recompute the world's hash chain, Merkle tree and every signature (as `wk verify --json`); `ok: false` names the first bad seq. The head need not be sealed: the world is open.",
  role: "read",
  input: { world: worldArg },
  run: async ({ world }, { ctx }) => ({
    ...(await verifyWorldDir(hostOf(ctx, world).dir, { requireSealedHead: false })),
  }),
});

/** The read tools, in the order tools/list shows them. */
export const READ_TOOLS: readonly AnyTool[] = [
  listWorlds,
  describeWorld,
  getState,
  queryJournal,
  trace,
  explain,
  verify,
];
