/**
 * @module `wk propose | shadow | approve | deny | apply`: changing a world's definitions through
 * governance (DESIGN §8). Every step is journaled; apply swaps the manifest atomically.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { parseJsonLossless } from "../../../air/json.js";
import { AirError, jsonPath } from "../../../air/errors.js";
import { hashBytes } from "../../../air/hash.js";
import { resolveWasmSugar } from "../../../kernel/air-dir.js";
import { warningLine } from "../../../kernel/air-warnings.js";
import { loadKeyPair } from "../../../kernel/crypto/keys.js";
import {
  apply,
  approve,
  authorityLine,
  denyProposal,
  failureLines,
  latestShadowReport,
  propose,
  shadow,
  type ShadowEvent,
  wideningCount,
  type ShadowReport,
} from "../../../kernel/world/index.js";
import { readNdjsonEvents } from "./send-file.js";
import { CliExit, EXIT, onFile, printJson, worldDir } from "../io.js";
import { withWorld } from "./world.js";
import { migrateOption, proposeFromAirCommand, registerRevert, withMigrations } from "./governance-authoring.js";
import type { Migration } from "../../../air/schemas/patch.js";

function readJsonFile(file: string): unknown {
  const text = onFile("read", file, () => readFileSync(file, "utf8"));
  return parseJsonLossless(text, file);
}

/**
 * The `"wasm": "<path>"` shorthand of a defmodule node in an add_def or replace_def: the file
 * (relative to the patch file, confined to its project folder as the AIR loader's sugar is)
 * is read and hashed into `wasm_hash`, and its bytes go with the proposal. The journaled patch
 * holds the hash, never the path.
 */
function resolvePatchWasm(doc: unknown, file: string): { doc: unknown; wasm: Uint8Array[] } {
  const patches = (doc as { patches?: unknown } | null)?.patches;
  if (!Array.isArray(patches)) return { doc, wasm: [] };
  const wasm: Uint8Array[] = [];
  const resolved = patches.map((op: unknown, i) => {
    for (const [name, field] of [
      ["add_def", "node"],
      ["replace_def", "new_node"],
    ] as const) {
      const body = (op as Record<string, Record<string, unknown> | undefined> | null)?.[name];
      const node = body?.[field] as Record<string, unknown> | undefined;
      if (typeof node !== "object" || node === null || node.$kind !== "defmodule" || !("wasm" in node)) continue;
      let out: Record<string, unknown>;
      try {
        out = resolveWasmSugar(node, file) as Record<string, unknown>;
      } catch (e) {
        if (!(e instanceof AirError)) throw e;
        throw new AirError(e.code, `${file}: ${e.issues[0]!.message}`, jsonPath(["patches", i, name, field, "wasm"]));
      }
      const bytes = new Uint8Array(readFileSync(resolve(dirname(file), node.wasm as string)));
      if (hashBytes(bytes) !== out.wasm_hash)
        throw new CliExit(EXIT.check_failed, `${String(node.wasm)} changed while it was read`);
      wasm.push(bytes);
      return { ...(op as object), [name]: { ...body, [field]: out } };
    }
    return op;
  });
  return { doc: { ...(doc as object), patches: resolved }, wasm };
}

/**
 * The events of `wk shadow --events FILE`, parsed as `wk send --file` parses its lines (a bad line
 * is an `IngestLineError` naming it), with the file's sha256 for the report. Idempotency keys are
 * read and ignored: nothing is appended.
 */
async function readEventsFile(file: string): Promise<{ events: ShadowEvent[]; sha256: string }> {
  const bytes = onFile("read", file, () => readFileSync(file));
  const sha256 = hashBytes(new Uint8Array(bytes));
  const parsed = await readNdjsonEvents(bytes); // the bytes hashed are the bytes run
  return { events: parsed.map((e) => ({ schema: e.schema, value: e.json, line: e.line })), sha256 };
}

/** A line saying what the report's differing entries differ in (`  the entries differ only in fuel`); empty for none, or for a report that does not say. */
function differsIn(
  rep: Pick<ShadowReport, "differing_entries"> & Partial<Pick<ShadowReport, "differing_fields" | "fuel_only">>,
): string {
  if (rep.differing_entries === 0 || rep.differing_fields === undefined) return "";
  if (rep.fuel_only === rep.differing_entries) return "  the entries differ only in fuel\n";
  return `  the entries differ in ${Object.entries(rep.differing_fields)
    .map(([f, n]) => `${f} ×${n}`)
    .join(", ")} (${rep.fuel_only ?? 0} only in fuel)\n`;
}

/** The line naming the gate decisions that change (`  gate decisions change: allow 4 → 0, …`); empty when none do or the report predates them. */
function decisionLine(rep: Partial<Pick<ShadowReport, "decision_changes">>): string {
  const c = Object.entries(rep.decision_changes ?? {});
  return c.length === 0
    ? ""
    : `  gate decisions change: ${c.map(([code, n]) => `${code} ${n.before} → ${n.after}`).join(", ")}\n`;
}

/** One line per state migration the report ran (`  migration M of W: N cell(s) rewritten, F failed, fuel X`); empty for none. */
function migrationLines(rep: Pick<ShadowReport, "migrations">): string {
  return (rep.migrations ?? [])
    .map(
      (m) =>
        `  migration ${m.migration} of ${m.module}: ${m.cells} cell(s) rewritten, ${m.failures} failed, fuel ${m.fuel}\n`,
    )
    .join("");
}

/** The summary's count of authority changes (`, 2 authority change(s) (1 widening)`); empty for a report made before they were listed. */
function authorityCount(rep: Pick<ShadowReport, "authority_changes">): string {
  const a = rep.authority_changes;
  if (a === undefined) return "";
  const w = wideningCount(a);
  return `, ${a.length} authority change(s)${w > 0 ? ` (${w} widening)` : ""}`;
}

/**
 * One line per authority change of the report, marked `WIDENS` when it may let the world do more
 * and `REVIEW` when that depends on what it means (`  WIDENS grant web $.params.hosts: … → …`).
 */
function authorityLines(rep: Pick<ShadowReport, "authority_changes">): string {
  return (rep.authority_changes ?? []).map((f) => `  ${authorityLine(f)}\n`).join("");
}

/** A report's summary as `wk approve` shows it: events, differing cells and entries, failures, fuel. */
function reportSummary(
  hash: string,
  rep: ShadowReport | null,
  failures: number,
): { text: string; json: Record<string, unknown> } {
  if (rep === null)
    return {
      text: `latest shadow report ${hash} (its blob was erased): ${failures} failed step(s)\n`,
      json: { report_hash: hash, failures },
    };
  const lines = [
    `latest shadow report ${hash}:`,
    `  ${rep.events} event(s) replayed, ${rep.cells.length} cell(s) end differently, ${rep.differing_entries} entr(ies) differ, ${failures} failed step(s), fuel ${rep.fuel.before} → ${rep.fuel.after}${authorityCount(rep)}`,
    ...failureLines(rep.failures.slice(0, 20)).map((l) => `  FAIL ${l}`),
  ];
  return {
    text: lines.join("\n") + "\n" + migrationLines(rep) + differsIn(rep) + decisionLine(rep) + authorityLines(rep),
    json: {
      report_hash: hash,
      events: rep.events,
      differing_cells: rep.cells.length,
      differing_entries: rep.differing_entries,
      failures,
      fuel: rep.fuel,
      ...(rep.migrations ? { migrations: rep.migrations } : {}),
      ...(rep.authority_changes ? { authority_changes: rep.authority_changes } : {}),
    },
  };
}

/** Registers the governance commands. */
export function registerGovernance(program: Command): void {
  program
    .command("propose [patch.json]")
    .description(
      "compile and validate a patch (or, with --from-air, the diff to an edited AIR folder) against the current manifest; prints the proposal id",
    )
    .option("--world <dir>", "world directory")
    .option("--key <keyfile>", "the proposer's key (a proposer cannot approve its own proposal)")
    .option(
      "--wasm <file...>",
      'module binaries the patch refers to by wasm_hash, stored in the CAS (a defmodule may instead say "wasm": "<path>", relative to the patch file)',
    )
    .option(
      "--from-air <dir>",
      "instead of a patch file: compute the patch from the world's current defs to this AIR folder's (its \"wasm\" paths' binaries go with it)",
    )
    .option("--print", "with --from-air: print the computed patch document instead of proposing it")
    .option(
      "--migrate <workflow=migration...>",
      "a state migration to add to the patch's migrations: the workflow whose state schema changes and the pure module that rewrites its cells",
    )
    .option("--json", "machine-readable output")
    .action(
      async (
        file: string | undefined,
        opts: {
          world?: string;
          key?: string;
          wasm?: string[];
          fromAir?: string;
          print?: boolean;
          migrate?: string[];
          json?: boolean;
        },
      ) => {
        if ((file === undefined) === (opts.fromAir === undefined))
          throw new CliExit(EXIT.usage, "give a patch file or --from-air <dir>, not both");
        if (opts.print && opts.fromAir === undefined)
          throw new CliExit(EXIT.usage, "--print needs --from-air (a patch file is already the document)");
        if (opts.fromAir !== undefined) return proposeFromAirCommand(opts.fromAir, opts);
        if (file === undefined) return;
        const migrations = migrateOption(opts.migrate);
        const resolved = resolvePatchWasm(readJsonFile(file), file);
        const wasm = resolved.wasm;
        const doc = withMigrations(resolved.doc as { migrations?: Migration[] | undefined }, migrations);
        await withWorld(worldDir(opts.world), async (w) => {
          const r = await propose(w, doc, {
            ...(opts.key ? { proposer: loadKeyPair(opts.key) } : {}),
            wasm: [...(opts.wasm ?? []).map((f) => new Uint8Array(onFile("read", f, () => readFileSync(f)))), ...wasm],
          });
          // A patch that leaves no one able to approve the next one is valid: warned about, exit code unchanged.
          for (const x of r.warnings) process.stderr.write(warningLine(x) + "\n");
          if (opts.json)
            printJson({
              proposal_id: r.proposalId,
              seq: r.seq,
              new_manifest_hash: r.newManifestHash,
              warnings: r.warnings,
            });
          else process.stdout.write(`${r.proposalId}\n`);
        });
      },
    );

  program
    .command("shadow <proposal-id>")
    .description(
      "run the proposal over the world's history (or a window, or given events) with no adapter called, and report what differs from the world without it",
    )
    .option("--world <dir>", "world directory")
    .option(
      "--window <n>",
      "replay the last n ingress events on today's state under the old and the proposed manifest (default: the policy's shadow_window or shadow_since, else --since 0)",
    )
    .option(
      "--since <seq>",
      "counterfactual: re-run the world under the proposal since this seq (0: genesis) and compare with the world now",
    )
    .option(
      "--events <file>",
      'run these NDJSON events (one {"schema", "value"} a line, as wk send --file) on today\'s state instead of the recorded window',
    )
    .option("--json", "machine-readable output")
    .action(
      async (
        id: string,
        opts: { world?: string; window?: string; since?: string; events?: string; json?: boolean },
      ) => {
        const n = opts.window === undefined ? undefined : Number(opts.window);
        if (n !== undefined && (!/^[0-9]+$/.test(opts.window!) || !Number.isSafeInteger(n)))
          throw new CliExit(EXIT.usage, `--window must be a non-negative integer, got "${opts.window}"`);
        const since = opts.since === undefined ? undefined : Number(opts.since);
        if (since !== undefined && (!/^[0-9]+$/.test(opts.since!) || !Number.isSafeInteger(since)))
          throw new CliExit(EXIT.usage, `--since must be a non-negative integer seq, got "${opts.since}"`);
        if (since !== undefined && n !== undefined)
          throw new CliExit(EXIT.usage, "--window replays recent events, --since re-runs history: give one");
        if (opts.events !== undefined && (since !== undefined || n !== undefined))
          throw new CliExit(
            EXIT.usage,
            "--events runs the given events instead of a window or a counterfactual: give one",
          );
        const given = opts.events === undefined ? undefined : await readEventsFile(opts.events);
        const failures = await withWorld(worldDir(opts.world), async (w) => {
          const started = performance.now(); // the run's time is shown, never journaled: the report stays deterministic
          const r = await shadow(
            w,
            id,
            given !== undefined
              ? { events: given.events, eventsSha256: given.sha256 }
              : since !== undefined
                ? { since }
                : n !== undefined
                  ? { window: n }
                  : {},
          );
          for (const x of r.warnings) process.stderr.write(warningLine(x) + "\n");
          const seconds = Number(((performance.now() - started) / 1000).toFixed(3));
          if (opts.json)
            printJson({ ...r.report, report_hash: r.reportHash, seq: r.seq, seconds, warnings: r.warnings });
          else {
            const rep = r.report;
            const cf = rep.counterfactual;
            process.stdout.write(
              `shadow of ${id}: ${rep.events} event(s) ${cf ? `re-run under the proposal since seq ${cf.since}${cf.moved_from === undefined ? "" : ` (${cf.moved_from} is inside a batch)`}` : rep.source === "events" ? `from ${opts.events!} (${rep.events_sha256!}) run` : "replayed"} in ${seconds} s, report ${r.reportHash}\n`,
            );
            if (cf) {
              process.stdout.write(
                `  compared with the world now: ${cf.inputs_reused} recorded receipt(s)/approval(s) reused, ${cf.new_intents.length} new intent(s) (not performed), ${cf.dropped_intents.length} intent(s) no longer issued${cf.superseded_applies.length ? `, superseding the applies at seq ${cf.superseded_applies.join(", ")}` : ""}\n`,
              );
              for (const c of cf.cell_states.slice(0, 20))
                process.stdout.write(
                  `  ${c.module} ${c.key ?? "-"}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}\n`,
                );
            }
            process.stdout.write(
              `${migrationLines(rep)}  ${rep.cells.length} cell(s) end differently, ${rep.differing_entries} entr(ies) differ, ${rep.failures.length} failed step(s)${authorityCount(rep)}\n${differsIn(rep)}${decisionLine(rep)}${authorityLines(rep)}`,
            );
            for (const c of cf ? [] : rep.cells.slice(0, 20))
              process.stdout.write(`  ${c.module} ${c.key ?? "-"}: ${c.before ?? "absent"} → ${c.after ?? "absent"}\n`);
            for (const f of rep.failures.slice(0, 20))
              process.stdout.write(`  FAIL ${failureLines([f])[0]!}: ${f.message}\n`);
          }
          return r.report.failures;
        });
        // The report is journaled either way; failing steps fail the command (--json: the report above is the output).
        if (failures.length > 0) {
          const lines = failureLines(failures);
          const message = `${failures.length} step(s) fail under the proposed manifest: ${lines.slice(0, 5).join("; ")}${lines.length > 5 ? "; …" : ""}`;
          throw new CliExit(EXIT.check_failed, opts.json ? "" : message, {
            code: "governance.failed_shadow",
            hint: `fix the patch and propose again, or approve knowingly: wk approve ${id} --key KEY --accept-failures`,
          });
        }
      },
    );

  program
    .command("approve <proposal-id>")
    .description("sign an approval of a proposal's latest shadow report (approvers are named by the policy)")
    .requiredOption("--key <keyfile>", "the approver's ed25519 key file")
    .option("--world <dir>", "world directory")
    .option("--accept-failures", "approve a shadow report with failing steps (journaled in the approval and signed)")
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: { key: string; world?: string; acceptFailures?: boolean; json?: boolean }) => {
      const key = loadKeyPair(opts.key);
      await withWorld(worldDir(opts.world), async (w) => {
        // What the approver signs for, shown before it is signed.
        const latest = latestShadowReport(w, id);
        const summary = latest === null ? null : reportSummary(latest.reportHash, latest.report, latest.failures);
        if (!opts.json && summary !== null) process.stdout.write(summary.text);
        const acceptFailures = opts.acceptFailures === true;
        const seq = await approve(w, id, key, { acceptFailures });
        if (opts.json)
          printJson({
            proposal_id: id,
            seq,
            approver: key.publicKeyHex,
            accept_failures: acceptFailures,
            report: summary?.json ?? null,
          });
        else
          process.stdout.write(
            `approved ${id} at seq ${seq}${acceptFailures ? ", accepting its failing steps" : ""}\n`,
          );
      });
    });

  program
    .command("deny <proposal-id>")
    .description(
      "sign a denial of a proposal, with a reason: it can no longer be approved or applied (approvers are named by the policy)",
    )
    .requiredOption("--key <keyfile>", "the approver's ed25519 key file")
    .requiredOption("--reason <text>", "why the proposal is denied (journaled and signed; 1 to 2000 characters)")
    .option("--world <dir>", "world directory")
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: { key: string; reason: string; world?: string; json?: boolean }) => {
      // A blank reason is a usage error, caught before the key or the world is opened.
      if (opts.reason.trim() === "") throw new CliExit(EXIT.usage, "--reason must say why the proposal is denied");
      const key = loadKeyPair(opts.key);
      await withWorld(worldDir(opts.world), async (w) => {
        const seq = await denyProposal(w, id, key, opts.reason);
        if (opts.json) printJson({ proposal_id: id, seq });
        else process.stdout.write(`denied ${id} at seq ${seq}\n`);
      });
    });

  program
    .command("apply <proposal-id>")
    .description("apply an approved proposal whose base is still the current manifest")
    .option("--world <dir>", "world directory")
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: { world?: string; json?: boolean }) => {
      await withWorld(worldDir(opts.world), async (w) => {
        const r = await apply(w, id);
        if (opts.json)
          printJson({
            seq: r.seq,
            manifest_hash: r.manifestHash,
            ...(r.migrations ? { migrations: r.migrations } : {}),
          });
        else {
          process.stdout.write(`applied ${id} at seq ${r.seq}: manifest ${r.manifestHash}\n`);
          for (const m of r.migrations ?? [])
            process.stdout.write(`  migrated ${m.cells} cell(s) of ${m.module} with ${m.migration} (fuel ${m.fuel})\n`);
        }
      });
    });
  registerRevert(program);
}
