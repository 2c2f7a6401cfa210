/**
 * @module `wk verify | checkpoint | anchor | erase | log | keys new`: the journal's
 * command group. A world is a directory (journal.db, keys/, config.json); `wk checkpoint` signs
 * through the kernel (it opens the world, derives its state, then signs that).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Command } from "commander";
import cliProgress from "cli-progress";
import { toHex } from "../../../air/hash.js";
import { generateKeyPair, saveKeyPair, savePublicKey } from "../../../kernel/crypto/keys.js";
import { exportAnchor, readAnchorFile, type Anchor } from "../../../kernel/journal/anchor.js";
import { isEntryKind } from "../../../kernel/journal/entries.js";
import { entryToJson } from "../../../kernel/journal/entry-json.js";
import { isJournalError } from "../../../kernel/journal/errors.js";
import { verifyWorldAnchored, type AnchoredVerifyResult } from "../../../kernel/world/anchor-log-verify.js";
import { openWorldJournalReadonly } from "../../../kernel/world/journal-open.js";
import { withWorld } from "./world.js";
import { CliExit, EXIT, exitWith, onFile, printJson, worldDir } from "../io.js";

function parseSeq(v: string, name: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new CliExit(EXIT.usage, `${name} must be a non-negative integer, got "${v}"`);
  return n;
}

/** The line `wk verify` prints about the anchor log (anchor-log.ts). */
function anchorLogLine(r: AnchoredVerifyResult): string {
  const log = r.anchor_log;
  if (log === undefined) return "";
  if (log.status === "disabled") return "anchor log: not checked\n";
  if (log.status === "none")
    return `no anchor log for this world on this machine (${log.path}): one starts at its next seal\n`;
  if (log.status === "ok")
    return `anchor log ${log.path}: ${log.lines} anchor(s), last anchored tree size ${log.tree_size} holds\n`;
  return "";
}

function printVerify(r: AnchoredVerifyResult, json: boolean, anchor: Anchor | undefined): void {
  if (json) return printJson(r);
  if (r.ok) {
    process.stdout.write(
      `ok: ${r.entries} entries, ${r.checkpoints} checkpoints${anchor ? `, anchor at tree size ${anchor.tree_size} holds` : ""}\n${anchorLogLine(r)}`,
    );
  } else {
    const where = r.first_bad_seq === undefined ? "" : ` at seq ${r.first_bad_seq}`;
    process.stdout.write(
      `FAILED${where}: ${r.fault}: ${r.message}\n(${r.entries} entries verified before it, ${r.checkpoints} checkpoints)\n`,
    );
  }
}

/** `wk log`'s options. */
interface LogOptions {
  world?: string;
  from: string;
  to?: string;
  kind?: string;
  json?: boolean;
  ndjson?: boolean;
}

/** Registers the journal commands on `program`. */
export function registerJournal(program: Command): void {
  program
    .command("verify")
    .description("recompute the hash chain, Merkle tree and every signature; name the first bad seq")
    .option("--world <dir>", "world directory", undefined)
    .option("--anchor <file>", "also hold the journal to an exported anchor")
    .option(
      "--anchor-log <file>",
      "hold the journal to this anchor log (default: this machine's log of the world, in the state directory)",
    )
    .option("--no-anchor-log", "do not hold the journal to an anchor log")
    .option("--json", "machine-readable result")
    .action(async (opts: { world?: string; anchor?: string; anchorLog?: string | boolean; json?: boolean }) => {
      const dir = worldDir(opts.world);
      const anchor = opts.anchor === undefined ? undefined : readAnchorFile(opts.anchor);
      const bar =
        process.stdout.isTTY && !opts.json
          ? new cliProgress.SingleBar(
              { format: "verify [{bar}] {value}/{total} entries", clearOnComplete: true },
              cliProgress.Presets.shades_classic,
            )
          : undefined;
      let started = false;
      let r: AnchoredVerifyResult;
      try {
        r = await verifyWorldAnchored(dir, {
          ...(anchor === undefined ? {} : { anchor }),
          ...(opts.anchorLog === undefined || opts.anchorLog === true ? {} : { anchorLog: opts.anchorLog }),
          onProgress: (done, total) => {
            if (bar === undefined) return;
            if (!started) bar.start(total, 0);
            started = true;
            bar.update(done);
          },
        });
      } catch (e) {
        // A missing world is an error (one format); its record keeps the report's `fault` and counts.
        if (!isJournalError(e, "journal.not_found")) throw e;
        throw exitWith(e, EXIT.check_failed, { fault: "not_found", entries: 0, checkpoints: 0 });
      } finally {
        if (started) bar?.stop();
      }
      printVerify(r, opts.json === true, anchor);
      if (!r.ok) throw new CliExit(EXIT.check_failed, "");
    });

  program
    .command("checkpoint")
    .description("sign a checkpoint over every entry now, with the world key; prints it")
    .option("--world <dir>", "world directory")
    .option("--anchor-out <file>", "also write the new checkpoint as an anchor file")
    .option("--json", "machine-readable output")
    .action(async (opts: { world?: string; anchorOut?: string; json?: boolean }) => {
      // Through the kernel: opening checks the tail and re-runs it, so the world key never
      // signs a state the journal does not support (a swapped blob, a forged apply).
      await withWorld(
        worldDir(opts.world),
        async (w) => {
          const seq = await w.checkpoint();
          const entry = entryToJson(w.store.getSync(seq)!);
          if (opts.anchorOut !== undefined) {
            const text = JSON.stringify(await exportAnchor(w.store, seq), null, 2) + "\n";
            onFile("write", opts.anchorOut, () => writeFileSync(opts.anchorOut!, text));
          }
          if (opts.json) printJson(entry);
          else
            process.stdout.write(
              `checkpoint at seq ${seq}: ${JSON.stringify(entry.body)}\n${opts.anchorOut === undefined ? "" : `anchor written to ${opts.anchorOut}\n`}`,
            );
        },
        { snapshot: false },
      );
    });

  program
    .command("anchor")
    .description("export a signed checkpoint (default: the latest) as an anchor JSON file to keep outside the world")
    .option("--world <dir>", "world directory")
    .option("--seq <n>", "the checkpoint entry's seq")
    .option("-o, --out <file>", "write to a file instead of stdout")
    .option("--json", "with --out, print {file, seq} as JSON (the anchor itself is always JSON)")
    .action(async (opts: { world?: string; seq?: string; out?: string; json?: boolean }) => {
      const store = await openWorldJournalReadonly(worldDir(opts.world));
      try {
        const anchor = await exportAnchor(store, opts.seq === undefined ? undefined : parseSeq(opts.seq, "--seq"));
        const text = JSON.stringify(anchor, null, 2) + "\n";
        if (opts.out === undefined) process.stdout.write(text);
        else {
          onFile("write", opts.out, () => writeFileSync(opts.out!, text));
          if (opts.json) printJson({ ok: true, file: opts.out, seq: anchor.seq });
        }
      } finally {
        await store.close();
      }
    });

  program
    .command("erase <blob-hash>")
    .description("delete a blob's bytes from the CAS and journal the erasure (chain and signatures stay valid)")
    .requiredOption("--reason <text>", "why (recorded in the journal)")
    .option("--world <dir>", "world directory")
    .option("--json", "machine-readable output")
    .action(async (hash: string, opts: { reason: string; world?: string; json?: boolean }) => {
      if (!/^sha256:[0-9a-f]{64}$/.test(hash))
        throw new CliExit(EXIT.usage, `"${hash}" is not a sha256:<64 hex> blob hash`);
      await withWorld(worldDir(opts.world), async (w) => {
        const r = await w.eraseReport(hash as `sha256:${string}`, opts.reason);
        const a = w.store.getSync(r.seq)!;
        const cell = (c: { module: string; key: unknown }) =>
          `${c.module}${c.key === null ? "" : ` [${String(c.key)}]`}`;
        if (opts.json)
          printJson({
            erased: hash,
            seq: r.seq,
            hash: toHex(a.hash),
            notified: r.notified,
            derived_erased: r.derived_erased,
            still_holding: r.still_holding,
          });
        else {
          process.stdout.write(`erased ${hash} (erasure entry at seq ${r.seq})\n`);
          if (r.notified.length)
            process.stdout.write(
              `  told ${r.notified.length} cell(s) that read it or derive from it: ${r.notified.map(cell).join(", ")}\n`,
            );
          if (r.derived_erased.length)
            process.stdout.write(`  also erased ${r.derived_erased.length} derived blob(s) and older cell state(s)\n`);
          for (const c of r.still_holding)
            process.stdout.write(
              `  WARNING ${cell(c)} did not change its state when told: it may still hold data derived from the erased blob\n`,
            );
        }
      });
    });

  program
    .command("log")
    .description("journal entries, decoded (bytes as hex)")
    .option("--world <dir>", "world directory")
    .option("--from <n>", "first seq", "0")
    .option("--to <n>", "last seq (inclusive)")
    .option("--kind <kind>", "only entries of this kind")
    .option("--json", "a JSON array")
    .option("--ndjson", "one JSON object per line per entry (what `wk analyze --file` reads)")
    .action(async (opts: LogOptions) => {
      if (opts.kind !== undefined && !isEntryKind(opts.kind))
        throw new CliExit(EXIT.usage, `unknown entry kind "${opts.kind}"`);
      if (opts.json && opts.ndjson) throw new CliExit(EXIT.usage, "give --json or --ndjson, not both");
      const from = parseSeq(opts.from, "--from");
      const to = opts.to === undefined ? undefined : parseSeq(opts.to, "--to");
      const store = await openWorldJournalReadonly(worldDir(opts.world));
      try {
        let first = true;
        if (opts.json) process.stdout.write("[");
        for (const e of store.iterateSync(from, to)) {
          if (opts.kind !== undefined && e.kind !== opts.kind) continue;
          const j = entryToJson(e);
          if (opts.ndjson) process.stdout.write(JSON.stringify(j) + "\n");
          else if (opts.json) {
            process.stdout.write((first ? "\n" : ",\n") + JSON.stringify(j));
          } else {
            process.stdout.write(
              `${String(e.seq).padStart(6)}  ${e.kind.padEnd(15)} ${toHex(e.hash).slice(0, 16)}  ${JSON.stringify(j.body)}\n`,
            );
          }
          first = false;
        }
        if (opts.json) process.stdout.write(first ? "]\n" : "\n]\n");
      } finally {
        await store.close();
      }
    });

  const keys = program.command("keys").description("ed25519 key files; adapter key rotation");
  keys
    .command("rotate-adapter")
    .description("replace the world's adapter key: a new 0600 key file and a keys entry signed by the world key")
    .option("--world <dir>", "world directory")
    .option("--json", "machine-readable output")
    .action(async (opts: { world?: string; json?: boolean }) => {
      await withWorld(
        worldDir(opts.world),
        async (w) => {
          const r = await w.rotateAdapterKey();
          if (opts.json) printJson({ seq: r.seq, adapter_public_key: r.publicKey });
          else process.stdout.write(`adapter key rotated at seq ${r.seq}: ${r.publicKey}\n`);
        },
        { snapshot: false },
      );
    });
  keys
    .command("new <file>")
    .description("create an ed25519 key pair file (mode 0600); prints the public key")
    .option("--public-out <file>", "also write the public key alone to this file")
    .option("--json", "machine-readable output")
    .action((file: string, opts: { publicOut?: string; json?: boolean }) => {
      const key = generateKeyPair();
      onFile("write", file, () => {
        mkdirSync(dirname(file), { recursive: true });
        saveKeyPair(file, key);
      });
      if (opts.publicOut !== undefined)
        onFile("write", opts.publicOut, () => savePublicKey(opts.publicOut!, key.publicKey));
      if (opts.json) printJson({ file, kind: "ed25519", public_key: key.publicKeyHex });
      else process.stdout.write(`${key.publicKeyHex}\n`);
    });
}
