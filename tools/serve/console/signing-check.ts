/**
 * @module What the approver signs is what they clicked. The server hands the console the bytes
 * to sign; a server that was compromised could hand it the bytes of another decision (another
 * proposal, another world, "allow" for "deny", accepted failures). Before signing, the console
 * decodes the message (`worldkernel/v1/<purpose>\0` + canonical CBOR, the kernel's own decoder)
 * and checks every field against the decision on screen; anything else is refused unsigned.
 */
import { decodeStored } from "../../../air/cbor/decode.js";

/** The decision the approver made on screen. */
export type Intended =
  | { kind: "held_intent"; world_id: string; intent_id: string; decision: "allow" | "deny" }
  | {
      kind: "approve_proposal";
      world_id: string;
      proposal_id: string;
      patch_ref: string;
      shadow_report_hash: string;
      accept_failures: boolean;
    }
  | { kind: "deny_proposal"; world_id: string; proposal_id: string; patch_ref: string; reason: string };

const PURPOSE: Record<Intended["kind"], string> = {
  held_intent: "effect_approval",
  approve_proposal: "approval",
  deny_proposal: "approval",
};

/** The fields the message must hold, exactly (no more, no fewer). */
function expectedFields(i: Intended): Record<string, unknown> {
  switch (i.kind) {
    case "held_intent":
      return { world_id: i.world_id, intent_id: i.intent_id, decision: i.decision };
    case "approve_proposal":
      return {
        world_id: i.world_id,
        proposal_id: i.proposal_id,
        patch_ref: i.patch_ref,
        shadow_report_hash: i.shadow_report_hash,
        ...(i.accept_failures ? { accept_failures: true } : {}),
      };
    case "deny_proposal":
      return {
        world_id: i.world_id,
        proposal_id: i.proposal_id,
        patch_ref: i.patch_ref,
        decision: "deny",
        reason: i.reason,
      };
  }
}

const fromHex = (hex: string): Uint8Array => {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error("the server sent a message that is not hex: nothing was signed");
  return Uint8Array.from(hex.match(/../g) ?? [], (b) => parseInt(b, 16));
};

/** Throws, naming the field, unless `messageHex` is exactly the message of `intended`. */
export function checkSigningMessage(messageHex: string, intended: Intended): void {
  const bytes = fromHex(messageHex);
  const prefix = new TextEncoder().encode(`worldkernel/v1/${PURPOSE[intended.kind]}\0`);
  if (bytes.length < prefix.length || prefix.some((b, k) => bytes[k] !== b))
    throw new Error(
      `the server asked to sign something other than a message for ${PURPOSE[intended.kind]}: nothing was signed`,
    );
  let fields: unknown;
  try {
    fields = decodeStored(bytes.subarray(prefix.length));
  } catch (e) {
    throw new Error(`the message to sign does not decode (${(e as Error).message}): nothing was signed`);
  }
  if (fields === null || typeof fields !== "object" || Array.isArray(fields) || fields instanceof Uint8Array)
    throw new Error("the message to sign is not a map of fields: nothing was signed");
  const got = fields as Record<string, unknown>;
  const want = expectedFields(intended);
  for (const k of new Set([...Object.keys(got), ...Object.keys(want)]))
    if (got[k] !== want[k])
      throw new Error(
        `the message to sign says ${k} = ${JSON.stringify(got[k]) ?? "nothing"}, not ${JSON.stringify(want[k]) ?? "nothing"} as shown: nothing was signed`,
      );
}
