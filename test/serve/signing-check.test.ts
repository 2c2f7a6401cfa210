/**
 * @module The console signs only what the approver clicked: the messages the kernel builds for
 * a held intent, an approval and a denial pass the console's check; a message a compromised
 * server could substitute (another world, intent, proposal, report, decision, reason, accepted
 * failures, purpose, or trailing bytes) is refused before anything is signed.
 */
import { describe, expect, it } from "vitest";
import { signingMessage } from "../../kernel/crypto/signing-message.js";
import { heldIntentMessage } from "../../kernel/world/approvals.js";
import { approvalPayload, denialPayload } from "../../kernel/world/governance-rules.js";
import { checkSigningMessage, type Intended } from "../../tools/serve/console/signing-check.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
const W = "world-1";
const P = `sha256:${"ab".repeat(32)}`;
const PATCH = `sha256:${"cd".repeat(32)}`;
const REPORT = `sha256:${"ef".repeat(32)}`;

describe("the console's check of what it signs", () => {
  const held: Intended = { kind: "held_intent", world_id: W, intent_id: "i-1", decision: "allow" };
  const approval: Intended = {
    kind: "approve_proposal",
    world_id: W,
    proposal_id: P,
    patch_ref: PATCH,
    shadow_report_hash: REPORT,
    accept_failures: false,
  };
  const denial: Intended = { kind: "deny_proposal", world_id: W, proposal_id: P, patch_ref: PATCH, reason: "no" };

  it("passes the kernel's own messages", () => {
    expect(() => checkSigningMessage(hex(heldIntentMessage(W, "i-1", "allow")), held)).not.toThrow();
    expect(() =>
      checkSigningMessage(hex(signingMessage("approval", approvalPayload(W, P, PATCH, REPORT))), approval),
    ).not.toThrow();
    expect(() =>
      checkSigningMessage(hex(signingMessage("approval", approvalPayload(W, P, PATCH, REPORT, true))), {
        ...approval,
        accept_failures: true,
      }),
    ).not.toThrow();
    expect(() =>
      checkSigningMessage(hex(signingMessage("approval", denialPayload(W, P, PATCH, "no"))), denial),
    ).not.toThrow();
  });

  it("refuses every substitute, naming what differs", () => {
    const cases: [string, Intended, RegExp][] = [
      [hex(heldIntentMessage(W, "i-1", "deny")), held, /decision = "deny", not "allow"/],
      [hex(heldIntentMessage(W, "i-2", "allow")), held, /intent_id/],
      [hex(heldIntentMessage("world-2", "i-1", "allow")), held, /world_id/],
      [hex(signingMessage("approval", approvalPayload(W, P, PATCH, REPORT, true))), approval, /accept_failures = true/],
      [
        hex(signingMessage("approval", approvalPayload(W, `sha256:${"00".repeat(32)}`, PATCH, REPORT))),
        approval,
        /proposal_id/,
      ],
      [
        hex(signingMessage("approval", approvalPayload(W, P, PATCH, `sha256:${"11".repeat(32)}`))),
        approval,
        /shadow_report_hash/,
      ],
      // A denial's bytes offered for an approval, and an approval's for a denial.
      [hex(signingMessage("approval", denialPayload(W, P, PATCH, "no"))), approval, /nothing was signed/],
      [hex(signingMessage("approval", approvalPayload(W, P, PATCH, REPORT))), denial, /nothing was signed/],
      [hex(signingMessage("approval", denialPayload(W, P, PATCH, "other"))), denial, /reason = "other", not "no"/],
      // Another purpose: a receipt or checkpoint signature is never an approval.
      [
        hex(signingMessage("checkpoint", approvalPayload(W, P, PATCH, REPORT))),
        approval,
        /other than a message for approval/,
      ],
      [hex(heldIntentMessage(W, "i-1", "allow")) + "00", held, /does not decode/],
      ["zz", held, /not hex/],
    ];
    for (const [msg, intended, why] of cases)
      expect(() => checkSigningMessage(msg, intended), String(why)).toThrow(why);
  });
});
