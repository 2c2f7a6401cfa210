/**
 * @module Approvals of held intents (`require_approval`): a signed record of who allowed
 * or refused which intent. The signature covers world, intent and decision, with the
 * `effect_approval` signing purpose, so it cannot be replayed into another world.
 */
import { encodeStored } from "../../air/cbor/encode.js";
import type { Signer } from "../crypto/signer.js";
import { signingMessage } from "../crypto/signing-message.js";
import { verify } from "../crypto/sign.js";
import type { HeldDecisionBody } from "../journal/index.js";

function payload(worldId: string, intentId: string, decision: string): Uint8Array {
  return encodeStored({ world_id: worldId, intent_id: intentId, decision });
}

/** The `policy_decision` body for an approver's decision. */
export function approvalEntry(
  intentId: string,
  decision: "allow" | "deny",
  approver: Signer,
  worldId: string,
): HeldDecisionBody {
  return {
    intent_id: intentId,
    decision,
    stage: "approval",
    approver: approver.publicKeyHex,
    signature: approver.sign("effect_approval", payload(worldId, intentId, decision)),
  };
}

/** True when an approval entry's signature holds. */
export function approvalSignatureValid(body: HeldDecisionBody, worldId: string): boolean {
  const pk = Uint8Array.from(Buffer.from(body.approver, "hex"));
  return verify(pk, "effect_approval", payload(worldId, body.intent_id, body.decision), body.signature);
}

/** The exact bytes an approver's ed25519 key signs to decide a held intent (for signing elsewhere). */
export function heldIntentMessage(worldId: string, intentId: string, decision: "allow" | "deny"): Uint8Array {
  return signingMessage("effect_approval", payload(worldId, intentId, decision));
}
