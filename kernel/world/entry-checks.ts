/**
 * @module Verification of the kernel's own entry kinds, plugged into `verifyJournal`:
 * every effect_receipt's adapter signature and payload hash, the gate's denials signed by
 * the world key, and every approval's signature. Installed once by the CLI and by tests.
 */
import { isCborObject, type CborObject } from "../../air/index.js";
import { checkEffectReceiptBody } from "../crypto/receipt.js";
import { registerEntryCheck, type EntryCheck } from "../journal/index.js";
import { approvalSignatureValid } from "./approvals.js";
import { approvalPayload } from "./governance.js";
import { verify } from "../crypto/sign.js";
import { GATE_ADAPTER } from "./processor.js";

/** The checks for effect_receipt and approval entries. */
export const kernelEntryCheck: EntryCheck = (entry, ctx) => {
  if (entry.kind === "effect_receipt") {
    const bad = checkEffectReceiptBody(entry.value);
    if (bad) return { fault: "bad_signature", message: `effect_receipt: ${bad.message}` };
    const b = entry.value as CborObject;
    const env = b.receipt as CborObject;
    if (env.adapter_id === GATE_ADAPTER.id && Buffer.compare(b.adapter_public_key as Uint8Array, ctx.genesis.world_public_key) !== 0) {
      return { fault: "bad_signature", message: "a gate denial must be signed by the world key" };
    }
    if (env.world_id !== ctx.genesis.world_id) return { fault: "bad_body", message: `receipt names world ${String(env.world_id)}, not ${ctx.genesis.world_id}` };
  }
  if (entry.kind === "approval" && isCborObject(entry.value)) {
    const a = entry.value;
    const payload = approvalPayload(ctx.genesis.world_id, String(a.proposal_id), String(a.patch_ref), String(a.shadow_report_hash));
    if (!/^[0-9a-f]{64}$/.test(String(a.approver)) || !(a.signature instanceof Uint8Array) || !verify(Uint8Array.from(Buffer.from(String(a.approver), "hex")), "approval", payload, a.signature)) {
      return { fault: "bad_signature", message: "governance approval signature does not verify" };
    }
  }
  if (entry.kind === "policy_decision" && isCborObject(entry.value) && entry.value.stage === "approval") {
    if (!approvalSignatureValid(entry.value, ctx.genesis.world_id)) return { fault: "bad_signature", message: "approval signature does not verify" };
  }
  return null;
};

let installed = false;

/** Registers the kernel's entry checks with the journal verifier (idempotent). */
export function installKernelEntryChecks(): void {
  if (installed) return;
  installed = true;
  registerEntryCheck(kernelEntryCheck);
}
