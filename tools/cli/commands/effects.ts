/**
 * @module `wk receipt list | export` and `wk approve-effect`: intents with their receipt
 * status, self-contained receipt bundles for offline verification, and the approval (or
 * refusal) of intents a policy holds for `require_approval`.
 */
import type { Command } from "commander";
import { exportBundle } from "../../../kernel/crypto/bundle.js";
import { loadKeyPair } from "../../../kernel/crypto/keys.js";
import { openWorldJournalReadonly } from "../../../kernel/world/journal-open.js";
import { intentRows, type IntentRow } from "../../../kernel/world/intent-rows.js";
import { CliExit, EXIT, printJson, worldDir } from "../io.js";
import { withWorld } from "./world.js";

/** Every intent in the journal with its decision and receipt (streams the journal). */
export async function listIntents(dir: string): Promise<IntentRow[]> {
  const store = await openWorldJournalReadonly(dir);
  try {
    return await intentRows(store.iterate(0));
  } finally {
    await store.close();
  }
}

/** Registers `receipt list`, `receipt export` (on the receipt group) and `approve-effect`. */
export function registerEffects(program: Command, receipt: Command): void {
  receipt
    .command("list")
    .description("intents with their gate decision and receipt status")
    .option("--world <dir>", "world directory")
    .option("--json", "machine-readable output")
    .action(async (opts: { world?: string; json?: boolean }) => {
      const rows = await listIntents(worldDir(opts.world));
      if (opts.json) return printJson(rows);
      for (const r of rows) {
        const status = r.receipt
          ? `${r.receipt.status} (seq ${r.receipt.seq}, ${r.receipt.adapter})`
          : r.decision === "require_approval"
            ? "waiting for approval"
            : "pending";
        process.stdout.write(
          `${r.intent_id}  ${r.kind.padEnd(15)} ${r.decision ?? "-"}  ${status}${r.decision === "deny" && r.reason ? `  — ${r.reason}` : ""}\n`,
        );
      }
      if (rows.length === 0) process.stdout.write("no intents\n");
    });

  receipt
    .command("export <intent-id>")
    .description(
      "print a self-contained bundle (receipt, keys, Merkle proof, signed checkpoint) for offline verification",
    )
    .option("--world <dir>", "world directory")
    .option("--payload", "include the receipt payload")
    .option("--json", "errors as JSON too (the bundle is always JSON)")
    .action(async (intentId: string, opts: { world?: string; payload?: boolean }) => {
      const dir = worldDir(opts.world);
      let store = await openWorldJournalReadonly(dir);
      let seq: number | null;
      let r;
      try {
        seq = store.receiptSeq(intentId);
        if (seq === null)
          throw new CliExit(EXIT.check_failed, `no receipt for intent ${intentId}`, {
            code: "cli.no_receipt",
            hint: "list the world's intents and receipts with: wk receipt list",
          });
        r = await exportBundle(store, seq, { includePayload: !!opts.payload });
      } finally {
        await store.close();
      }
      if (!r.ok && r.code === "no_checkpoint") {
        // Sign a checkpoint that covers the receipt, then export under it.
        await withWorld(
          dir,
          async (w) => {
            await w.checkpoint();
          },
          { snapshot: false },
        );
        store = await openWorldJournalReadonly(dir);
        try {
          r = await exportBundle(store, seq, { includePayload: !!opts.payload });
        } finally {
          await store.close();
        }
      }
      if (!r.ok) throw new CliExit(EXIT.check_failed, r.message, { code: `bundle.${r.code}` });
      printJson(r.bundle);
    });

  program
    .command("approve-effect <intent-id>")
    .description("approve (or with --deny refuse) an intent held by a require_approval policy")
    .requiredOption("--key <keyfile>", "the approver's ed25519 key file (0600)")
    .option("--deny", "refuse instead of approve")
    .option("--world <dir>", "world directory")
    .option("--json", "print {intent_id, decision, seq} as JSON")
    .action(async (intentId: string, opts: { key: string; deny?: boolean; world?: string; json?: boolean }) => {
      const approver = loadKeyPair(opts.key);
      await withWorld(worldDir(opts.world), async (w) => {
        const seq = await w.decideHeldIntent(intentId, approver, opts.deny ? "deny" : "allow");
        if (opts.json) printJson({ ok: true, intent_id: intentId, decision: opts.deny ? "deny" : "allow", seq });
        else process.stdout.write(`${opts.deny ? "refused" : "approved"} ${intentId} at seq ${seq}\n`);
      });
    });
}
