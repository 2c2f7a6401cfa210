/**
 * @module `wk propose | shadow | approve | apply`: changing a world's definitions through
 * governance (DESIGN §8). Every step is journaled; apply swaps the manifest atomically.
 */
import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { parseJsonLossless } from "../../../air/index.js";
import { loadKeyPair } from "../../../kernel/crypto/keys.js";
import { apply, approve, propose, shadow } from "../../../kernel/world/index.js";
import { CliExit, EXIT, printJson, worldDir } from "../io.js";
import { withWorld } from "./world.js";

function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new CliExit(EXIT.check_failed, `cannot read ${file}: ${(e as Error).message}`);
  }
  return parseJsonLossless(text, file);
}

/** Registers the governance commands. */
export function registerGovernance(program: Command): void {
  program
    .command("propose <patch.json>")
    .description("compile and validate a patch against the current manifest; prints the proposal id")
    .option("--world <dir>", "world directory")
    .option("--key <keyfile>", "the proposer's key (a proposer cannot approve its own proposal)")
    .option("--wasm <file...>", "module binaries the patch refers to, stored in the CAS")
    .option("--json", "machine-readable output")
    .action(async (file: string, opts: { world?: string; key?: string; wasm?: string[]; json?: boolean }) => {
      const doc = readJsonFile(file);
      await withWorld(worldDir(opts.world), async (w) => {
        const r = await propose(w, doc, {
          ...(opts.key ? { proposer: loadKeyPair(opts.key) } : {}),
          wasm: (opts.wasm ?? []).map((f) => new Uint8Array(readFileSync(f))),
        });
        if (opts.json) printJson({ proposal_id: r.proposalId, seq: r.seq, new_manifest_hash: r.newManifestHash });
        else process.stdout.write(`${r.proposalId}\n`);
      });
    });

  program
    .command("shadow <proposal-id>")
    .description("replay recent events under the old and the proposed manifest (no adapter called) and report the differences")
    .option("--world <dir>", "world directory")
    .option("--window <n>", "how many recent ingress events to replay", "50")
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: { world?: string; window: string; json?: boolean }) => {
      const n = Number(opts.window);
      if (!Number.isSafeInteger(n) || n < 0) throw new CliExit(EXIT.usage, `--window must be a non-negative integer`);
      await withWorld(worldDir(opts.world), async (w) => {
        const r = await shadow(w, id, { window: n });
        if (opts.json) printJson({ ...r.report, report_hash: r.reportHash, seq: r.seq });
        else {
          const rep = r.report;
          process.stdout.write(`shadow of ${id}: ${rep.events} event(s) replayed, report ${r.reportHash}\n`);
          process.stdout.write(`  ${rep.cells.length} cell(s) end differently, ${rep.differing_entries} entr(ies) differ, ${rep.failures.length} failed step(s)\n`);
          for (const c of rep.cells.slice(0, 20)) process.stdout.write(`  ${c.module} ${c.key ?? "-"}: ${c.before ?? "absent"} → ${c.after ?? "absent"}\n`);
          for (const f of rep.failures.slice(0, 20)) process.stdout.write(`  FAIL ${f.module}: ${f.code}: ${f.message}\n`);
        }
      });
    });

  program
    .command("approve <proposal-id>")
    .description("sign an approval of a proposal's latest shadow report (approvers are named by the policy)")
    .requiredOption("--key <keyfile>", "the approver's ed25519 key file")
    .option("--world <dir>", "world directory")
    .option("--json", "machine-readable output")
    .action(async (id: string, opts: { key: string; world?: string; json?: boolean }) => {
      const key = loadKeyPair(opts.key);
      await withWorld(worldDir(opts.world), async (w) => {
        const seq = await approve(w, id, key);
        if (opts.json) printJson({ proposal_id: id, seq, approver: key.publicKeyHex });
        else process.stdout.write(`approved ${id} at seq ${seq}\n`);
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
        if (opts.json) printJson({ seq: r.seq, manifest_hash: r.manifestHash });
        else process.stdout.write(`applied ${id} at seq ${r.seq}: manifest ${r.manifestHash}\n`);
      });
    });
}
