/**
 * @module MCP resources of a world: one journal entry (`worldkernel://WORLD/entries/SEQ`, as `wk log
 * --json` shows it) and one receipt's bundle (`worldkernel://WORLD/receipts/INTENT`, the
 * self-contained proof `wk receipt verify` checks offline, as `GET /v1/…/receipts/:intent/bundle`
 * exports it). Neither is listed (a journal has too many); tools name them (query_journal, trace).
 * A refusal is a JSON-RPC error: -32002 for what does not exist, -32602 for a malformed URI, the
 * worldkernel error in its `data`.
 */
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js";
import { ResourceTemplate, type McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { exportBundle } from "../../kernel/crypto/bundle.js";
import { entryToJson } from "../../kernel/journal/entry-json.js";
import { openWorldJournalReadonly } from "../../kernel/world/journal-open.js";
import { errorBody } from "../serve/errors.js";
import { hostOf, writable, type McpContext } from "./context.js";
import { McpServerError } from "./errors.js";

/** JSON-RPC's code for a resource that does not exist (MCP's resources/read). */
const RESOURCE_NOT_FOUND = -32002;

const NOT_FOUND = new Set(["mcp.no_world", "mcp.no_receipt", "mcp.no_entry"]);

/**
 * A refusal as resources/read answers it: the SDK sends a thrown error's numeric `code`, its
 * `message` and its `data` as the JSON-RPC error (the SDK's McpError would prefix the message
 * with "MCP error N:", which the client's then prefixes again).
 */
class ResourceRefusal extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data: unknown,
  ) {
    super(message);
  }
}

/** A refusal as the JSON-RPC error resources/read answers with, the worldkernel error as its data. */
function resourceError(e: unknown): ResourceRefusal {
  const body = errorBody(e);
  const code = NOT_FOUND.has(body.error.code)
    ? RESOURCE_NOT_FOUND
    : body.error.code === "kernel.internal"
      ? ErrorCode.InternalError
      : ErrorCode.InvalidParams;
  return new ResourceRefusal(code, `${body.error.code}: ${body.error.message}`, body);
}

/** One template variable as a string (the SDK gives a list for exploded variables). */
const one = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? "") : (v ?? ""));

/** A JSON resource's contents. */
const json = (uri: URL, value: unknown) => ({
  contents: [{ uri: uri.href, mimeType: "application/json", text: JSON.stringify(value) }],
});

/** The resources' URI templates, parsed once (a server is made per HTTP request). */
const ENTRY = new ResourceTemplate("worldkernel://{world}/entries/{seq}", { list: undefined });
const RECEIPT = new ResourceTemplate("worldkernel://{world}/receipts/{intent}", { list: undefined });

/** Registers the entry and receipt-bundle resources. */
export function registerResources(server: McpServer, ctx: McpContext): void {
  server.registerResource(
    "journal-entry",
    ENTRY,
    {
      title: "Journal entry",
      description: "One entry of a world's journal, decoded (as `wk log --json` shows it).",
      mimeType: "application/json",
    },
    (uri, vars) => {
      try {
        const h = hostOf(ctx, one(vars.world));
        const text = one(vars.seq);
        if (!/^[0-9]{1,16}$/.test(text))
          throw new McpServerError("mcp.bad_argument", `an entry's seq is a number, got ${JSON.stringify(text)}`, {
            path: "seq",
          });
        const e = h.world.store.getSync(Number(text));
        if (e === null)
          throw new McpServerError("mcp.no_entry", `no entry ${text}: the journal has ${h.height}`, {
            path: "seq",
          });
        return json(uri, entryToJson(e));
      } catch (e) {
        throw resourceError(e);
      }
    },
  );

  server.registerResource(
    "receipt-bundle",
    RECEIPT,
    {
      title: "Receipt bundle",
      description:
        "An effect receipt with the entries, Merkle proof and signed checkpoint that prove it: verifiable offline with `wk receipt verify`.",
      mimeType: "application/json",
    },
    async (uri, vars) => {
      try {
        const h = hostOf(ctx, one(vars.world));
        const intent = decodeURIComponent(one(vars.intent));
        const seq = h.world.store.receiptSeq(intent);
        if (seq === null)
          throw new McpServerError("mcp.no_receipt", `no receipt for intent ${intent} (yet)`, { path: "intent" });
        const read = async () => {
          const store = await openWorldJournalReadonly(h.dir);
          try {
            return await exportBundle(store, seq);
          } finally {
            await store.close();
          }
        };
        let r = await read();
        if (!r.ok && r.code === "no_checkpoint") {
          // Sign a checkpoint that covers the receipt (as /v1 does), then export under it.
          writable(ctx);
          await h.write((w) => w.exclusive(() => w.checkpoint()));
          r = await read();
        }
        if (!r.ok) throw new McpServerError("mcp.no_receipt", `bundle.${r.code}: ${r.message}`, { path: "intent" });
        return json(uri, r.bundle);
      } catch (e) {
        throw resourceError(e);
      }
    },
  );
}
