/**
 * @module `wk worker | enqueue | migrate-store`: worlds beyond one machine. A worker owns
 * worlds of a shared PostgreSQL database by lease; clients hand events to whichever node
 * holds a world through its durable inbox; a world moves between its SQLite file and a
 * database with its hashes, signatures and state root.
 */
import { hostname } from "node:os";
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { stringify } from "lossless-json";
import { parseJsonLossless } from "../../../air/json.js";
import { PgInbox, type InboxEvent } from "../../../kernel/journal/pg-inbox.js";
import { worldPaths } from "../../../kernel/journal/world-paths.js";
import { readConfig } from "../../../kernel/world/config.js";
import { migrateStore } from "../../../kernel/world/migrate-store.js";
import { Worker, worldDirsIn } from "../../../kernel/world/worker.js";
import { defaultAdapters } from "../../../kernel/world/wiring.js";
import { CliExit, EXIT, printJson, worldDir } from "../io.js";

function positive(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new CliExit(EXIT.usage, `${name} must be a positive integer, got "${v}"`);
  return n;
}

/** Registers the cluster commands on `program`. */
export function registerCluster(program: Command): void {
  program
    .command("worker")
    .description(
      "own worlds of a PostgreSQL store by lease with other nodes: journal their inbox, fire timers, take over dead nodes' worlds",
    )
    .requiredOption("--store <url>", "the shared database (postgres://user@host:port/db)")
    .requiredOption("--worlds <parent>", "directory whose subdirectories are the worlds (keys and config.json)")
    .option("--holder <name>", "this node's name in the lease table (default: host:pid)")
    .option("--ttl <ms>", "lease TTL: a dead node's worlds are taken over within about this long", "5000")
    .option("--poll <ms>", "sleep between idle ticks", "50")
    .option("--batch <n>", "inbox events per group commit", "100")
    .option("--mirror-dir <dir>", "where held worlds' local read mirrors live (default: the OS temp directory)")
    .option("--json", "errors as JSON records too (what the node does is always JSON lines)")
    .action(
      async (opts: {
        store: string;
        worlds: string;
        holder?: string;
        ttl: string;
        poll: string;
        batch: string;
        mirrorDir?: string;
      }) => {
        const worlds = worldDirsIn(worldDir(opts.worlds));
        // Not a commander default: the help (and docs/cli.md, generated from it) must not vary by host and pid.
        const holder = opts.holder ?? `${hostname()}:${process.pid}`;
        const worker = await Worker.start({
          store: opts.store,
          worlds,
          holder,
          ttlMs: positive(opts.ttl, "--ttl"),
          pollMs: positive(opts.poll, "--poll"),
          batch: positive(opts.batch, "--batch"),
          adapters: (dir) => defaultAdapters(readConfig(worldPaths(dir).config).adapters ?? {}),
          ...(opts.mirrorDir ? { mirrorDir: opts.mirrorDir } : {}),
          // One JSON line per lease change and batch: what the node did, for people and scripts.
          onEvent: (e) => process.stdout.write(JSON.stringify({ holder, ...e }) + "\n"),
        });
        process.stdout.write(JSON.stringify({ holder, event: "started", worlds: worlds.length }) + "\n");
        // SIGTERM and SIGINT drain: the tick in hand finishes, every world is sealed and its lease released.
        const stop = () => void worker.stop();
        process.once("SIGTERM", stop);
        process.once("SIGINT", stop);
        await worker.run();
        process.stdout.write(JSON.stringify({ holder, event: "stopped" }) + "\n");
      },
    );

  program
    .command("enqueue [schema] [json]")
    .description(
      "hand events to the node that holds a PostgreSQL world (its durable inbox); acknowledged when committed",
    )
    .option("--world <dir>", "world directory")
    .option("--idempotency-key <key>", "the event's key (a second enqueue under it is not enqueued again)")
    .option("--file <ndjson>", "one {schema, value, idempotency_key} object per line")
    .option("--json", "machine-readable output")
    .action(
      async (
        schema: string | undefined,
        json: string | undefined,
        opts: { world?: string; idempotencyKey?: string; file?: string; json?: boolean },
      ) => {
        const events: InboxEvent[] = opts.file
          ? eventsOfFile(opts.file)
          : [oneEvent(schema, json, opts.idempotencyKey)];
        const config = readConfig(worldPaths(worldDir(opts.world)).config);
        if (config.store === undefined)
          throw new CliExit(EXIT.check_failed, "this world's journal is in SQLite: send to it with wk send", {
            code: "cli.not_in_postgres",
          });
        const inbox = await PgInbox.open(config.store);
        try {
          const r = await inbox.enqueue(config.world_id, events);
          if (opts.json) printJson({ ok: true, world_id: config.world_id, ...r });
          else
            process.stdout.write(
              `enqueued ${r.enqueued} event(s) for world ${config.world_id}` +
                (r.duplicates ? `, ${r.duplicates} already enqueued\n` : "\n"),
            );
        } finally {
          await inbox.close();
        }
      },
    );

  program
    .command("migrate-store")
    .description(
      "move a world's journal between its SQLite file and PostgreSQL, keeping hashes, signatures and state root",
    )
    .option("--world <dir>", "world directory")
    .requiredOption("--to <store>", "a postgres:// URL, or sqlite (journal.db beside config.json)")
    .option("--json", "machine-readable output")
    .action(async (opts: { world?: string; to: string; json?: boolean }) => {
      const r = await migrateStore(worldDir(opts.world), opts.to);
      if (opts.json) printJson({ ok: true, ...r });
      else
        process.stdout.write(
          `moved world ${r.world_id} from ${r.from} to ${r.to}: ${r.entries} entries, head ${r.head_hash.slice(0, 16)}…, root ${r.root.slice(0, 16)}…, state root ${r.state_root}\n`,
        );
    });
}

function oneEvent(schema: string | undefined, json: string | undefined, key: string | undefined): InboxEvent {
  if (schema === undefined || json === undefined)
    throw new CliExit(EXIT.usage, "give <schema> <json>, or --file <ndjson>");
  if (key === undefined)
    throw new CliExit(EXIT.usage, "an enqueued event needs --idempotency-key: it is how a retry is recognised");
  parseJson(json, "<json>");
  return { schema, json, idempotencyKey: key };
}

function parseJson(text: string, where: string): unknown {
  try {
    return parseJsonLossless(text);
  } catch (e) {
    throw new CliExit(EXIT.check_failed, `${where} is not JSON: ${(e as Error).message}`, { code: "cli.bad_json" });
  }
}

/** NDJSON lines `{schema, value, idempotency_key}`; a bad line names its number. */
function eventsOfFile(file: string): InboxEvent[] {
  const lines = readFileSync(file, "utf8").split("\n");
  const out: InboxEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === "") return;
    const o = parseJson(line, `line ${i + 1}`) as { schema?: unknown; value?: unknown; idempotency_key?: unknown };
    if (typeof o.schema !== "string" || typeof o.idempotency_key !== "string" || o.value === undefined)
      throw new CliExit(EXIT.check_failed, `line ${i + 1}: needs "schema", "value" and "idempotency_key"`, {
        code: "cli.bad_line",
      });
    // Re-serialized from the lossless parse, so big integers stay exact.
    out.push({ schema: o.schema, json: stringify(o.value) ?? "null", idempotencyKey: o.idempotency_key });
  });
  return out;
}
