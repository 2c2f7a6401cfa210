/**
 * @module `wk export --audit <file>` and `wk audit <file>`: audit by re-execution. Export
 * writes a world (read-only) as one archive file — journal rows as stored, the CAS's
 * blobs, erasure records, declared keys and anchors (format: kernel/world/audit-archive.ts);
 * audit rebuilds it in a fresh temporary directory with no secret key, verifies it and
 * re-executes it, and exits 0 only when chain, rules, signatures and the re-executed
 * state root all agree (1 with the fault and where otherwise).
 */
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { readAnchorFile } from "../../../kernel/journal/anchor.js";
import { AuditError, auditFile, exportAuditArchive, type AuditResult } from "../../../kernel/world/audit.js";
import { CliExit, EXIT, exitWith, onFile, printJson, worldDir } from "../io.js";

/** Writes `bytes` to `file` through a temporary file and a rename, so a crash leaves no half archive. */
function writeAtomically(file: string, bytes: Uint8Array): void {
  const tmp = join(dirname(file), `.${process.pid}.wk-audit-tmp`);
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, file);
  } finally {
    rmSync(tmp, { force: true });
  }
}

function where(r: AuditResult): string {
  const parts: string[] = [];
  if (r.first_bad_seq !== undefined) parts.push(`seq ${r.first_bad_seq}`);
  if (r.blob_hash !== undefined) parts.push(`blob ${r.blob_hash}`);
  if (r.byte_offset !== undefined) parts.push(`byte ${r.byte_offset}`);
  return parts.length === 0 ? "" : ` at ${parts.join(", ")}`;
}

/** Prints an audit result (human or JSON); exits 1 unless it is ok. */
function report(r: AuditResult, json: boolean): void {
  if (json) printJson(r);
  else if (r.ok) {
    const lines = [
      `ok: audited world ${r.world_id}: ${r.entries} entries, ${r.checkpoints} checkpoints, ${r.blobs} blobs, ${r.erasures} erasures, ${r.anchors} archive anchor(s)`,
      `  re-executed state root ${r.state_root} = the one the checkpoint at seq ${r.attested_seq} signed`,
      `  world key ${r.world_public_key}`,
      ...(r.declared_keys ?? []).map(
        (k) =>
          `  adapter keys from seq ${k.seq}: ${k.adapter_keys.map((d) => `${d.id} ${d.public_key}`).join(", ") || "(none)"}`,
      ),
    ];
    process.stdout.write(lines.join("\n") + "\n");
  } else {
    process.stdout.write(
      `FAILED${where(r)}: ${r.fault}: ${r.message}\n(${r.entries} entries and ${r.checkpoints} checkpoints verified before it)\n`,
    );
  }
  if (!r.ok) throw new CliExit(EXIT.check_failed, "");
}

/** Registers `wk export` and `wk audit`. */
export function registerAudit(program: Command): void {
  program
    .command("export")
    .description(
      "write the world as one audit archive (entries, blobs, erasures, keys, anchors) that `wk audit` re-executes",
    )
    .requiredOption("--audit <file>", "the archive file to write")
    .option("--world <dir>", "world directory")
    .option("--anchor <files...>", "anchor JSON files (wk anchor) to include")
    .option("--json", "machine-readable output")
    .action(async (opts: { audit: string; world?: string; anchor?: string[]; json?: boolean }) => {
      const anchors = (opts.anchor ?? []).map((f) => readAnchorFile(f));
      const { bytes, summary } = await exportAuditArchive(worldDir(opts.world), { anchors });
      onFile("write", opts.audit, () => writeAtomically(opts.audit, bytes));
      if (opts.json) printJson({ file: opts.audit, ...summary });
      else
        process.stdout.write(
          `wrote ${opts.audit} (${summary.bytes} bytes): world ${summary.world_id}, ${summary.entries} entries, ${summary.blobs} blobs, ${summary.erasures} erasures, ${summary.anchors} anchor(s)\n`,
        );
    });

  program
    .command("audit <file>")
    .description(
      "rebuild an audit archive in a fresh directory with no secret key, verify it, re-execute it and compare the state root the checkpoints signed",
    )
    .option("--anchor <file>", "also hold the journal to an anchor kept outside the archive")
    .option("--json", "machine-readable result")
    .action(async (file: string, opts: { anchor?: string; json?: boolean }) => {
      const anchor = opts.anchor === undefined ? undefined : readAnchorFile(opts.anchor);
      let r: AuditResult;
      try {
        r = await auditFile(file, anchor === undefined ? {} : { anchor });
      } catch (e) {
        // No archive to audit (missing, empty, a bad anchor): an error in the one format, whose
        // record keeps the fields of a failed audit's report (`fault`, the counts).
        if (!(e instanceof AuditError)) throw e;
        throw exitWith(e, EXIT.check_failed, {
          fault: e.code.replace(/^audit\./, ""),
          entries: 0,
          checkpoints: 0,
          state_root: null,
        });
      }
      report(r, opts.json === true);
    });
}
