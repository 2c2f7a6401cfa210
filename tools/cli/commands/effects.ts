/**
 * @module `wk receipt list | export` and `wk approve-effect`: intents with their receipt
 * status, self-contained receipt bundles for offline verification, and the approval (or
 * refusal) of intents a policy holds for `require_approval`.
 */
import type { Command } from "commander";
import { decodeStored } from "../../../air/cbor/decode.js";
import type { CborObject } from "../../../air/cbor/value.js";
import { exportBundle } from "../../../kernel/crypto/bundle.js";
import { loadKeyPair } from "../../../kernel/crypto/keys.js";
import { openWorldJournalReadonly } from "../../../kernel/world/journal-open.js";
import { CliExit, EXIT, printJson, worldDir } from "../io.js";
import { withWorld } from "./world.js";

/** One intent as `receipt list` reports it. */
interface IntentRow {
  intent_id: string;
  kind: string;
  module: string;
  seq: number;
  decision: string | null;
  reason: string | null;
  receipt: { seq: number; status: string; adapter: string } | null;
}

/** Every intent in the journal with its decision and receipt (streams the journal). */
export async function listIntents(dir: string): Promise<IntentRow[]> {
  const store = await openWorldJournalReadonly(dir);
  const rows = new Map<string, IntentRow>();
  try {
    for await (const e of store.iterate(0)) {
      if (e.kind !== "effect_intent" && e.kind !== "policy_decision" && e.kind !== "effect_receipt") continue;
      const b = decodeStored(e.body) as CborObject;
      const id = b.intent_id as string;
      if (e.kind === "effect_intent")
        rows.set(id, {
          intent_id: id,
          kind: b.kind as string,
          module: b.module as string,
          seq: e.seq,
          decision: null,
          reason: null,
          receipt: null,
        });
      const row = rows.get(id);
      if (!row) continue;
      if (e.kind === "policy_decision")
        [row.decision, row.reason] = [
          b.decision as string,
          (b.reason as string | undefined) ??
            (b.stage === "approval" ? `approval by ${String(b.approver).slice(0, 16)}…` : null),
        ];
      if (e.kind === "effect_receipt") {
        const r = b.receipt as CborObject;
        row.receipt = { seq: e.seq, status: r.status as string, adapter: r.adapter_id as string };
      }
    }
  } finally {
    await store.close();
  }
  return [...rows.values()];
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
