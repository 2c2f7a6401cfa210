/**
 * @module `wk analyze`: the journal's detectors (kernel/analysis) as a CI gate. Reads a world's
 * journal through its read-only port — verified in the same pass, since findings about a history
 * nobody can vouch for are worth nothing (`--no-verify` skips it) — or an NDJSON export
 * (`wk log --ndjson`), whose lines are checked one by one and for their chain links but whose
 * hashes and signatures cannot be (the JSON view does not keep the signed bytes). Exits 0 clean,
 * 1 with warnings, 2 with a critical finding (`--strict`: warnings count as critical), and
 * `EXIT.refused` (3) when the input cannot be analyzed.
 */
import { accessSync, constants, createReadStream, existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Command } from "commander";
import {
  Analysis,
  AnalysisConfigSchema,
  AnalysisError,
  ChainCheck,
  defaultAnalysisConfig,
  lineOfEntry,
  parseJournalLine,
  type AnalysisConfig,
  type AnalysisReport,
  type JournalLine,
  type OversightMetrics,
} from "../../../kernel/analysis/index.js";
import { decodeStored } from "../../../air/cbor/decode.js";
import { worldPaths } from "../../../kernel/journal/index.js";
import { readConfig } from "../../../kernel/world/config.js";
import { openWorldJournalReadonly } from "../../../kernel/world/journal-open.js";
import { verifyWorldStore } from "../../../kernel/world/verify-world.js";
import { CliExit, EXIT, exitWith, onFile, printJson, worldDir } from "../io.js";

interface Opts {
  world?: string;
  file?: string;
  since?: string;
  now?: string;
  config?: string;
  strict?: boolean;
  metrics?: boolean;
  verify: boolean;
  json?: boolean;
}

/** A non-negative integer option (`--now` may exceed 2^53: nanoseconds). */
function natural(v: string, name: string): bigint {
  if (!/^\d+$/.test(v)) throw new CliExit(EXIT.usage, `${name} must be a non-negative integer, got "${v}"`);
  return BigInt(v);
}

/** A seq option. */
function seqOption(v: string, name: string): number {
  const n = Number(natural(v, name));
  if (!Number.isSafeInteger(n)) throw new CliExit(EXIT.usage, `${name} is past any seq, got "${v}"`);
  return n;
}

/** Thresholds: `--config` (an `analysis` section, or a config.json holding one), else the world's, else defaults. */
function configOf(opts: Opts): AnalysisConfig {
  if (opts.config !== undefined) {
    const file = opts.config;
    const raw = onFile("read", file, () => readFileSync(file, "utf8"));
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new AnalysisError("analysis.bad_config", `${file} is not JSON: ${(e as Error).message}`, { path: file });
    }
    const section = v !== null && typeof v === "object" && "analysis" in v ? (v as { analysis: unknown }).analysis : v;
    const r = AnalysisConfigSchema.safeParse(section);
    if (!r.success) {
      const i = r.error.issues[0]!;
      throw new AnalysisError("analysis.bad_config", `${file}: ${i.message} at $.${i.path.map(String).join(".")}`, {
        path: file,
      });
    }
    return r.data;
  }
  if (opts.file !== undefined) return defaultAnalysisConfig();
  const path = worldPaths(worldDir(opts.world)).config;
  return existsSync(path) ? (readConfig(path).analysis ?? defaultAnalysisConfig()) : defaultAnalysisConfig();
}

/** A world's journal, read once: verified with the analysis riding along, or (`--no-verify`) only read. */
async function fromWorld(dir: string, a: Analysis, since: number, verify: boolean): Promise<void> {
  const store = await openWorldJournalReadonly(dir);
  try {
    if (!verify) {
      for (const e of store.iterateSync(since)) a.add(lineOfEntry(e, decodeStored(e.body)));
      return;
    }
    const r = await verifyWorldStore(store, {
      // A world still running has a tail past its last checkpoint: chained and checked, not yet signed.
      requireSealedHead: false,
      alsoCheck: [
        {
          check: (e) => {
            if (e.seq >= since) a.add(lineOfEntry(e, e.value));
            return null;
          },
        },
      ],
    });
    if (!r.ok)
      throw new AnalysisError(
        "analysis.unverified",
        `the journal fails verification${r.first_bad_seq === undefined ? "" : ` at seq ${r.first_bad_seq}`} (${r.fault}: ${r.message}); analyze it with --no-verify to look anyway`,
        r.first_bad_seq === undefined ? {} : { seq: r.first_bad_seq },
      );
  } finally {
    await store.close();
  }
}

/** An NDJSON export, streamed line by line: each line checked, and linked to the one before. */
async function fromFile(file: string, a: Analysis, since: number): Promise<void> {
  for await (const l of exportedLines(file)) if (l.seq >= since) a.add(l);
}

/** The lines of an NDJSON export, streamed: each checked, and linked to the one before. */
export async function* exportedLines(file: string): AsyncGenerator<JournalLine> {
  // Checked now, so a missing or unreadable file fails in the one wording (a stream would fail later, raw).
  onFile("read", file, () => accessSync(file, constants.R_OK));
  const stream = createReadStream(file, { encoding: "utf8" });
  const chain = new ChainCheck();
  let n = 0;
  for await (const text of createInterface({ input: stream, crlfDelay: Infinity })) {
    n++;
    if (text.trim() === "") continue;
    const l = parseJournalLine(text, n);
    chain.next(l, n);
    yield l;
  }
}

/** The oversight metrics for a terminal. */
function metricsLines(m: OversightMetrics): string[] {
  const pct = (x: number | null) => (x === null ? "n/a" : `${(x * 100).toFixed(1)}%`);
  const out = ["oversight:"];
  for (const [name, x] of Object.entries(m.modules))
    out.push(
      `  ${name}: ${x.gated} gated (${x.allowed} allowed, ${x.denied_by_gate} denied, ${x.escalated} escalated), ${x.approved} approved, ${x.refused} refused by an approver; intervention rate ${pct(x.intervention_rate)}`,
    );
  for (const [why, n] of Object.entries(m.escalations)) out.push(`  escalated ${n}× by ${why}`);
  const h = m.held_to_result_ns;
  if (h.count > 0)
    out.push(`  held intents answered: ${h.count}, step to receipt median ${h.median} ns, max ${h.max} ns`);
  for (const [grant, s] of Object.entries(m.spend.by_grant))
    out.push(`  spend under grant ${grant}: ${s.tokens} tokens, ${s.cents} cents over ${s.receipts} receipt(s)`);
  const a = m.audit;
  out.push(
    `  audit: ${a.intents} intent(s), ${pct(a.receipt_completeness)} with a receipt, ${pct(a.reasoning_completeness)} with recorded reasoning`,
  );
  for (const [detector, l] of Object.entries(m.detection_lag_ns))
    if (l.count > 0)
      out.push(`  detection lag of ${detector}: ${l.count} finding(s), median ${l.median} ns, max ${l.max} ns`);
  return out;
}

/** The report for a terminal: where, how far checked, one finding per two lines, the counts. */
function printHuman(r: AnalysisReport, source: string): void {
  const out: string[] = [];
  const span = r.range === null ? "no entries" : `seqs ${r.range[0]}..${r.range[1]}`;
  out.push(
    `${source}: ${r.entries} entries (${span}), ${r.checked === "verified" ? "verified" : r.checked === "chain" ? "chain links checked, not signatures" : "not verified"}`,
  );
  for (const f of r.findings) {
    const seqs = f.seqs.length > 8 ? `${f.seqs.slice(0, 8).join(",")},… (${f.seqs.length})` : f.seqs.join(",");
    out.push(`${f.severity.toUpperCase().padEnd(8)} ${f.detector.padEnd(16)} seqs ${seqs}`);
    out.push(`         ${f.message}`);
  }
  if (r.metrics !== undefined) out.push(...metricsLines(r.metrics));
  const c = r.counts;
  out.push(
    r.findings.length === 0 ? "clean: no findings" : `${c.critical} critical, ${c.warn} warning(s), ${c.info} info`,
  );
  process.stdout.write(out.join("\n") + "\n");
}

/** Registers `wk analyze`. */
export function registerAnalyze(program: Command): void {
  program
    .command("analyze")
    .description(
      "run the journal's detectors (retry storms, silent failures, delegation cycles, budget burn, stalled work, structural drift); exit 0 clean, 1 warnings, 2 critical",
    )
    .option("--world <dir>", "world directory (its journal is verified first)")
    .option("--file <journal.ndjson>", "an exported journal (`wk log --ndjson`) instead of a world")
    .option("--since <n>", "only entries from this seq on")
    .option("--now <ns>", "the analysis clock in ns (default: the latest time the journal recorded)")
    .option("--config <file>", "thresholds: an `analysis` section, or a config.json holding one (default: the world's)")
    .option("--strict", "warnings count as critical (exit 2)")
    .option(
      "--metrics",
      "also report oversight metrics: intervention rate, escalations, held-to-result time, spend per grant and module, audit completeness, detection lag",
    )
    .option("--no-verify", "with --world: analyze without verifying the journal first")
    .option("--json", "the report as JSON: findings and counts")
    .action(async (opts: Opts) => {
      if (opts.world !== undefined && opts.file !== undefined)
        throw new CliExit(EXIT.usage, "give --world or --file, not both");
      const since = opts.since === undefined ? 0 : seqOption(opts.since, "--since");
      const nowNs = opts.now === undefined ? undefined : natural(opts.now, "--now");
      let report: AnalysisReport;
      try {
        const config = configOf(opts);
        const checked = opts.file !== undefined ? "chain" : opts.verify ? "verified" : "none";
        const a = new Analysis({
          config,
          strict: opts.strict === true,
          metrics: opts.metrics === true,
          checked,
          ...(nowNs === undefined ? {} : { nowNs }),
        });
        if (opts.file !== undefined) await fromFile(opts.file, a, since);
        else await fromWorld(worldDir(opts.world), a, since, opts.verify);
        report = a.report();
      } catch (e) {
        // Whatever stops the analysis, a gate must not read it as "warnings only" (exit 1).
        throw exitWith(e, EXIT.refused);
      }
      if (opts.json) printJson(report);
      else printHuman(report, opts.file ?? worldDir(opts.world));
      if (report.exit !== 0) throw new CliExit(report.exit, "");
    });
}
