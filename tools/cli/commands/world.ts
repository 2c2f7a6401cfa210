/**
 * @module `wk create | send | run | state | replay | fork`: the world's life from the
 * command line. Every command that reports takes `--json`; checks that fail exit 1.
 */
import type { Command } from "commander";
import cliProgress from "cli-progress";
import { parseJsonLossless } from "../../../air/json.js";
import { toSugarJson } from "../../../air/values/conform.js";
import type { CborValue } from "../../../air/cbor/value.js";
import { worldPaths } from "../../../kernel/journal/index.js";
import { openWorldJournalReadonly } from "../../../kernel/world/journal-open.js";
import {
  World,
  cascadeReport,
  createWorld,
  forkWorld,
  jsonView,
  readGenesis,
  replayWorld,
  sourceFromAirDir,
  type ReplayResult,
} from "../../../kernel/world/index.js";
import { readConfig, type WorldConfig } from "../../../kernel/world/config.js";
import { catalogWarnings, warningLine } from "../../../kernel/air-warnings.js";
import { defaultAdapters } from "../../../kernel/world/wiring.js";
import { CliExit, EXIT, printJson, worldDir } from "../io.js";

/** Opens a world with the built-in adapters (as its config sets them up) and gate hooks. */
export async function openWorld(
  dir: string,
  opts: { timerWaitMs?: number; clock?: () => bigint } = {},
): Promise<World> {
  const config = readConfig(worldPaths(dir).config);
  return World.open(dir, { adapters: defaultAdapters(config.adapters ?? {}), ...opts });
}

/** Runs `fn` on the opened world and always closes it (snapshotting unless `snapshot: false`). */
export async function withWorld<T>(
  dir: string,
  fn: (w: World) => Promise<T>,
  opts: { timerWaitMs?: number; clock?: () => bigint; snapshot?: boolean } = {},
): Promise<T> {
  const { snapshot, ...open } = opts;
  const w = await openWorld(dir, open);
  try {
    return await fn(w);
  } finally {
    await w.close(snapshot === undefined ? {} : { snapshot });
  }
}

function parseSeq(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CliExit(EXIT.usage, `${name} must be a non-negative integer, got "${v}"`);
  return n;
}

/** A decimal nanosecond timestamp (a CBOR uint64, as every `*_ns` field of the journal). */
function parseNs(v: string, name: string): bigint {
  if (!/^[0-9]+$/.test(v) || BigInt(v) >= 2n ** 64n)
    throw new CliExit(
      EXIT.usage,
      `${name} must be a non-negative integer number of nanoseconds below 2^64, got "${v}"`,
    );
  return BigInt(v);
}

/** A cell state rendered in the sugar lens of its schema. */
export function stateJson(world: World, module: string, value: CborValue): unknown {
  const def = world.catalog.modules.get(module)?.def;
  const schema = def?.abi.workflow ? world.catalog.schemas.get(def.abi.workflow.state) : undefined;
  return schema ? toSugarJson(schema.expanded, value) : jsonView(value);
}

/** Prints a replay result; exits 1 on divergence. */
export function reportReplay(r: ReplayResult, json: boolean): void {
  if (json) printJson(r);
  else if (r.ok) {
    const moved =
      r.moved_from !== undefined
        ? `seq ${r.moved_from} is inside the batch at seq ${r.batch!.first}..${r.batch!.last}, so replay stopped at the boundary before it, seq ${r.to}\n`
        : "";
    const start = r.snapshot_seq !== undefined ? `from the snapshot at seq ${r.snapshot_seq}` : "from genesis";
    process.stdout.write(
      `${moved}ok: ${start}, checked ${r.entries_checked ?? r.entries} entries and re-executed ${r.steps} step(s) up to seq ${r.entries - 1}, state root ${r.state_root}\n`,
    );
    for (const a of r.adopted_steps ?? [])
      process.stdout.write(
        `  not re-run: step at seq ${a.seq} (${a.module}${a.key === null ? "" : ` [${String(a.key)}]`}): its ${a.reason === "input_erased" ? "input blob" : "cell state"} was erased; its recorded outputs were taken\n`,
      );
  } else
    process.stdout.write(
      `DIVERGED at seq ${r.divergence!.seq}: ${r.divergence!.reason}\n  expected: ${JSON.stringify(r.divergence!.expected)}\n  got:      ${JSON.stringify(r.divergence!.got)}\n`,
    );
  if (!r.ok) throw new CliExit(EXIT.check_failed, "");
}

/** Events per group commit of `wk send --file` (20,000 counter events: see BENCHMARKS.md). */
const SEND_FILE_BATCH = 1000;

/** `--llm-base-url` / `--llm-key-env` as config.json `adapters.llm` (an OpenAI-compatible endpoint). */
function llmSettings(
  baseUrl: string | undefined,
  keyEnv: string | undefined,
): NonNullable<WorldConfig["adapters"]> | undefined {
  if (baseUrl === undefined) {
    if (keyEnv !== undefined) throw new CliExit(EXIT.usage, "--llm-key-env needs --llm-base-url");
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new CliExit(
      EXIT.usage,
      `--llm-base-url must be an absolute URL such as https://api.openai.com/v1, got "${baseUrl}"`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:")
    throw new CliExit(EXIT.usage, `--llm-base-url must be an http or https URL, got ${url.protocol}`);
  if (url.username !== "" || url.password !== "")
    throw new CliExit(
      EXIT.usage,
      "--llm-base-url must not carry credentials (config.json holds no secrets): name the variable holding the API key with --llm-key-env",
    );
  if (keyEnv !== undefined && !/^[A-Z_][A-Z0-9_]*$/.test(keyEnv))
    throw new CliExit(
      EXIT.usage,
      `--llm-key-env must name an environment variable (A-Z, 0-9, _; not starting with a digit), got "${keyEnv}"`,
    );
  return { llm: { provider: "openai", base_url: baseUrl, ...(keyEnv === undefined ? {} : { api_key_env: keyEnv }) } };
}

/** Registers the world commands. */
export function registerWorld(program: Command): void {
  program
    .command("create <air-dir>")
    .description("create a world from an AIR folder (genesis, keys, module binaries)")
    .option("--world <dir>", "world directory", undefined)
    .option("--normal", "synchronous=NORMAL (faster; may lose the last commits on power loss)")
    .option("--store <url>", "keep the journal in PostgreSQL (postgres://user@host:port/db; password from PGPASSWORD)")
    .option(
      "--llm-base-url <url>",
      "configure the llm.generate adapter's openai provider: an OpenAI-compatible endpoint (POST <url>/chat/completions)",
    )
    .option(
      "--llm-key-env <VAR>",
      "the environment variable holding its API key (config.json names it; the key is never written)",
    )
    .option("--json", "machine-readable output")
    .action(
      async (
        airDir: string,
        opts: {
          world?: string;
          normal?: boolean;
          store?: string;
          llmBaseUrl?: string;
          llmKeyEnv?: string;
          json?: boolean;
        },
      ) => {
        const dir = worldDir(opts.world);
        const adapterSettings = llmSettings(opts.llmBaseUrl, opts.llmKeyEnv);
        const source = sourceFromAirDir(airDir);
        // Warnings (a world that can never be upgraded, a module that cannot load) never change the exit code.
        const warnings = catalogWarnings(source.catalog, source.wasm);
        const w = await createWorld(dir, source, {
          ...(opts.normal ? { synchronous: "NORMAL" as const } : {}),
          ...(adapterSettings ? { adapterSettings } : {}),
          ...(opts.store ? { store: opts.store } : {}),
        });
        const out = {
          world: dir,
          world_id: w.id,
          manifest_hash: w.catalog.manifestHash,
          modules: [...w.catalog.modules.keys()],
          ...(adapterSettings ? { adapters: adapterSettings } : {}),
          warnings,
        };
        await w.close();
        for (const x of warnings) process.stderr.write(warningLine(x) + "\n");
        if (opts.json) printJson(out);
        else {
          const llm = adapterSettings?.llm
            ? `  llm: openai provider at ${adapterSettings.llm.base_url}${adapterSettings.llm.api_key_env ? `, API key from $${adapterSettings.llm.api_key_env}` : ", no API key"}\n`
            : "";
          process.stdout.write(
            `created world ${out.world_id} in ${dir}\n  manifest ${out.manifest_hash}\n  modules: ${out.modules.join(", ") || "none"}\n${llm}`,
          );
        }
      },
    );

  program
    .command("send [schema] [json]")
    .description(
      "append one event (validated against its schema) and run until idle; exit 1 when any step of its cascade fails",
    )
    .option("--world <dir>", "world directory")
    .option("--idempotency-key <key>", "a retry with the same key returns the first result and appends nothing")
    .option(
      "--file <events.jsonl>",
      'NDJSON, one {"schema", "value", "idempotency_key"?} per line ("-": stdin). A file is checked whole first (a bad file appends nothing); stdin stops at a bad line, after committing the lines before it',
    )
    .option("--batch <n>", "with --file: events per group commit", String(SEND_FILE_BATCH))
    .option(
      "--json",
      "machine-readable output: the whole cascade (steps, failures, entries, intents); with --file, a summary (events, steps, failures, seq range, duration)",
    )
    .action(
      async (
        schema: string | undefined,
        json: string | undefined,
        opts: { world?: string; idempotencyKey?: string; file?: string; batch: string; json?: boolean },
      ) => {
        if (opts.file !== undefined) {
          if (schema !== undefined || json !== undefined)
            throw new CliExit(EXIT.usage, "send --file takes no <schema> <json>: every line names its schema");
          if (opts.idempotencyKey !== undefined)
            throw new CliExit(
              EXIT.usage,
              "send --file takes no --idempotency-key: give each line its own idempotency_key",
            );
          const batchSize = parseSeq(opts.batch, "--batch");
          if (batchSize < 1) throw new CliExit(EXIT.usage, "--batch must be at least 1");
          const { sendFileCommand } = await import("./send-file.js");
          const r = await sendFileCommand(opts.file, { batchSize, ...(opts.json ? { json: true } : {}) }, () =>
            openWorld(worldDir(opts.world)),
          );
          // A bad line: in the one error format on stderr (the --json summary already carries it).
          if (r.error && !opts.json) throw r.error;
          if (r.error || r.stepFailed) throw new CliExit(EXIT.check_failed, "");
          return;
        }
        if (schema === undefined || json === undefined)
          throw new CliExit(EXIT.usage, "send needs <schema> <json> (or --file <events.jsonl>)");
        let value: unknown;
        try {
          value = parseJsonLossless(json);
        } catch (e) {
          throw new CliExit(EXIT.check_failed, `event is not valid JSON: ${(e as Error).message}`);
        }
        const failed = await withWorld(worldDir(opts.world), async (w) => {
          const r = await w.send(
            schema,
            value,
            opts.idempotencyKey === undefined ? {} : { idempotencyKey: opts.idempotencyKey },
          );
          // A new send reports everything from its event on; a retry, the first send's batch.
          const c = cascadeReport(w.store, r.seq, r.duplicate ? r.seq + r.entries - 1 : undefined);
          const pending = w.state.pending.size;
          if (opts.json)
            printJson({
              seq: r.seq,
              duplicate: r.duplicate === true,
              steps: c.steps,
              failures: c.failures,
              entries: c.entries,
              intents: c.intents,
              pending_intents: pending,
              state_root: w.state.cells.stateRoot(),
            });
          else {
            process.stdout.write(
              `${r.duplicate ? "duplicate of the " : ""}event at seq ${r.seq}: ${c.steps} step(s), ${c.failures.length} failed, ${c.entries} entries${c.intents.length ? `, ${c.intents.length} intent(s)` : ""}${pending ? `, ${pending} pending` : ""}\n`,
            );
            for (const f of c.failures)
              process.stdout.write(
                `  FAILED step at seq ${f.seq}: ${f.module}${f.key === null ? "" : ` [${f.key}]`}: ${f.code}: ${f.message}\n`,
              );
          }
          return c.failures.length > 0;
        });
        if (failed) throw new CliExit(EXIT.check_failed, "");
      },
    );

  program
    .command("run")
    .description("resume: re-dispatch pending intents (same idempotency keys) and fire due timers")
    .option("--world <dir>", "world directory")
    .option("--wait <ms>", "also fire timers due within this many milliseconds", "0")
    .option(
      "--now-ns <ns>",
      "take this time (ns since the Unix epoch) as now for the whole run instead of the wall clock",
    )
    .option("--json", "machine-readable output")
    .action(async (opts: { world?: string; wait: string; nowNs?: string; json?: boolean }) => {
      const now = opts.nowNs === undefined ? undefined : parseNs(opts.nowNs, "--now-ns");
      // A fixed clock never reaches a timer that is not due yet: waiting for one would only hang.
      if (now !== undefined && parseSeq(opts.wait, "--wait") > 0)
        throw new CliExit(
          EXIT.usage,
          "--wait cannot be combined with --now-ns: with the clock fixed, a timer due later never becomes due",
        );
      await withWorld(
        worldDir(opts.world),
        async (w) => {
          const r = await w.runUntilIdle();
          if (opts.json) printJson(r);
          else process.stdout.write(`dispatched ${r.dispatched} intent(s); ${r.waiting} still pending\n`);
        },
        { timerWaitMs: parseSeq(opts.wait, "--wait"), ...(now === undefined ? {} : { clock: () => now }) },
      );
    });

  program
    .command("replay")
    .description(
      "rebuild the world with a fresh kernel from its journal, calling no adapter; stop at the first divergence",
    )
    .option("--world <dir>", "world directory")
    .option("--to <seq>", "stop after this seq")
    .option("--from-snapshot", "start from the latest snapshot instead of genesis (a fork: its base snapshot)")
    .option("--exact", "refuse a --to inside a batch instead of moving it to the boundary before it")
    .option("--json", "machine-readable output")
    .action(async (opts: { world?: string; to?: string; fromSnapshot?: boolean; exact?: boolean; json?: boolean }) => {
      const dir = worldDir(opts.world);
      const total = await countEntries(dir);
      const bar =
        !opts.json && process.stdout.isTTY && total > 5000
          ? new cliProgress.SingleBar(
              { format: "replay [{bar}] {value}/{total} entries" },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      bar?.start(total, 0);
      const r = await replayWorld(dir, {
        ...(opts.to !== undefined ? { to: parseSeq(opts.to, "--to") } : {}),
        ...(opts.fromSnapshot ? { fromSnapshot: true } : {}),
        ...(opts.exact ? { exact: true } : {}),
        ...(bar ? { onProgress: (s: number) => s % 1000 === 0 && bar.update(s) } : {}),
      });
      bar?.stop();
      reportReplay(r, !!opts.json);
    });

  program
    .command("fork")
    .description("create a new world sharing history with this one up to --at, then diverging")
    .option("--world <dir>", "world directory")
    .requiredOption("--at <seq>", "the last shared seq (inside a batch: moved to the boundary before it)")
    .option("--exact", "refuse an --at inside a batch instead of moving it")
    .requiredOption("--to <dir>", "directory of the new world")
    .option("--store <url>", "keep the new world's journal in PostgreSQL (default: journal.db in --to)")
    .option("--json", "machine-readable output")
    .action(
      async (opts: { world?: string; at: string; to: string; exact?: boolean; store?: string; json?: boolean }) => {
        const requested = parseSeq(opts.at, "--at");
        const f = await forkWorld(worldDir(opts.world), requested, worldDir(opts.to), {
          ...(opts.store ? { store: opts.store } : {}),
          ...(opts.exact ? { exact: true } : {}),
        });
        const at = readGenesis(f.store).genesis.fork!.seq;
        const out = {
          world: worldDir(opts.to),
          world_id: f.id,
          parent: worldDir(opts.world),
          at,
          ...(at !== requested ? { moved_from: requested } : {}),
          state_root: f.state.cells.stateRoot(),
        };
        await f.close();
        if (opts.json) printJson(out);
        else {
          if (at !== requested)
            process.stdout.write(
              `seq ${requested} is inside a batch, so the fork shares history up to the boundary before it, seq ${at}\n`,
            );
          process.stdout.write(
            `forked at seq ${out.at} into ${out.world} (world ${out.world_id}), state root ${out.state_root}\n`,
          );
        }
      },
    );
}

async function countEntries(dir: string): Promise<number> {
  const s = await openWorldJournalReadonly(dir);
  try {
    return s.countSync();
  } finally {
    await s.close();
  }
}
