/**
 * @module `wk trace <seq | intent-id | idempotency-key>` and `wk explain <intent-id>`: the causal
 * tree an entry belongs to (kernel/analysis/causal.ts), and why an intent exists and what came
 * of it (kernel/analysis/explain.ts), from a world's journal (read-only; a writer may hold it)
 * or an NDJSON export (`wk log --ndjson`). Neither verifies the journal: run `wk verify` (or
 * `wk analyze`, which does) before trusting a history you did not write.
 */
import type { Command } from "commander";
import {
  explainOf,
  explanationLines,
  traceLines,
  traceOf,
  type JournalLine,
  type LineSource,
} from "../../../kernel/analysis/index.js";
import { journalLines } from "../../../kernel/world/journal-lines.js";
import { openWorldJournalReadonly } from "../../../kernel/world/journal-open.js";
import { CliExit, EXIT, exitWith, printJson, worldDir } from "../io.js";
import { exportedLines } from "./analyze.js";

interface Opts {
  world?: string;
  file?: string;
  json?: boolean;
}

/** A source to read and then close: a world's store (read twice, by seq) or an export (held in memory). */
type Closing = LineSource & { close(): Promise<void> };

async function fileSource(file: string): Promise<Closing> {
  const lines: JournalLine[] = [];
  for await (const l of exportedLines(file)) lines.push(l);
  const first = lines[0]?.seq ?? 0;
  return {
    all: (from = 0) => lines.slice(Math.max(0, from - first)),
    at: (seq) => lines[seq - first],
    close: async () => undefined,
  };
}

async function sourceOf(opts: Opts): Promise<Closing> {
  if (opts.world !== undefined && opts.file !== undefined)
    throw new CliExit(EXIT.usage, "give --world or --file, not both");
  if (opts.file !== undefined) return fileSource(opts.file);
  const store = await openWorldJournalReadonly(worldDir(opts.world));
  return { ...journalLines(store), close: () => store.close() };
}

/** Runs `fn` over a source, mapping what stops it to a refusal (exit 3), never to a finding. */
async function withSource<T>(opts: Opts, fn: (src: Closing) => T): Promise<T> {
  const src = await sourceOf(opts).catch((e: unknown) => {
    throw e instanceof CliExit ? e : exitWith(e, EXIT.refused);
  });
  try {
    return fn(src);
  } catch (e) {
    throw e instanceof CliExit ? e : exitWith(e, EXIT.refused);
  } finally {
    await src.close();
  }
}

/** Registers `wk trace` and `wk explain`. */
export function registerTrace(program: Command): void {
  program
    .command("trace")
    .argument("<target>", "a seq, an intent id, or an ingress event's idempotency key")
    .description(
      "the causal tree an entry belongs to: ingress event, steps (with recorded reasoning), emitted events, intents, gate decisions with the rule that decided, approvals, receipts, follow-up steps",
    )
    .option("--world <dir>", "world directory (read-only)")
    .option("--file <journal.ndjson>", "an exported journal (`wk log --ndjson`)")
    .option("--json", "the tree as JSON: each entry's seq, kind, description, body and children")
    .action(async (target: string, opts: Opts) => {
      const view = await withSource(opts, (src) => traceOf(src, target).tree);
      if (opts.json) printJson(view);
      else process.stdout.write(traceLines(view).join("\n") + "\n");
    });
  program
    .command("explain")
    .argument("<intent-id>", "the intent to explain (`wk effects pending`, `wk trace`, a receipt)")
    .description(
      "why the agent did this: the trigger, the state it saw, its recorded reasoning, the gate's decision and rule, approvals, the result and what followed",
    )
    .option("--world <dir>", "world directory (read-only)")
    .option("--file <journal.ndjson>", "an exported journal (`wk log --ndjson`)")
    .option("--json", "the explanation as JSON")
    .action(async (intentId: string, opts: Opts) => {
      const x = await withSource(opts, (src) => explainOf(src, intentId));
      if (opts.json) printJson(x);
      else process.stdout.write(explanationLines(x).join("\n") + "\n");
    });
}
