/**
 * @module `list_pending`: what waits for a person — intents a `require_approval` policy holds, and
 * proposals not yet applied or denied — each with the exact bytes an approver's ed25519 key signs
 * to allow or refuse it (as `GET /v1/…/approval-message` gives them), and where the signature goes.
 * The server signs nothing: it holds no approver's key.
 */
import { heldIntentMessage } from "../../kernel/world/approvals.js";
import { approvalMessage, listProposals } from "../../kernel/world/governance.js";
import { jsonView } from "../../kernel/world/json-view.js";
import { hostOf } from "./context.js";
import { defineTool, worldArg, type AnyTool } from "./tool.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** A message to sign: its signing purpose and the bytes, hex. */
const toSign = (purpose: "effect_approval" | "approval", bytes: Uint8Array) => ({ purpose, message_hex: hex(bytes) });

const listPending = defineTool({
  name: "list_pending",
  title: "List what waits for an approver",
  description:
    "Intents held for approval (kind, module, params) and proposals not yet applied or denied (status, latest shadow report), each with the exact message an approver signs with an ed25519 key (message_hex; `wk approve-effect`, `wk approve` or the console make the signature) and where to submit it. This server never signs: there is no approve tool.",
  role: "read",
  input: { world: worldArg },
  run: ({ world }, { ctx }) => {
    const h = hostOf(ctx, world);
    const w = h.world;
    const held = new Map([...w.state.pending.values()].map((p) => [p.intentId as string, p] as const));
    const intents = h.heldIntents().map((i) => {
      const p = held.get(i.intent_id)!;
      return {
        ...i,
        params: jsonView(p.params),
        estimate: p.estimate,
        allow: toSign("effect_approval", heldIntentMessage(w.id, p.intentId, "allow")),
        deny: toSign("effect_approval", heldIntentMessage(w.id, p.intentId, "deny")),
        submit: `POST /v1/worlds/${w.id}/intents/${i.intent_id}/decision {"decision", "public_key", "signature"} (role approve), or wk approve-effect ${i.intent_id} --key KEY [--deny]`,
      };
    });
    const proposals = listProposals(w)
      .filter((p) => p.status !== "applied" && p.status !== "denied")
      .map(({ report: _report, denied: _denied, ...p }) => {
        const shadowed = p.latest_report_hash !== null;
        const accept = p.failures > 0;
        return {
          ...p,
          approve: shadowed
            ? {
                ...toSign("approval", approvalMessage(w, p.proposal_id, { acceptFailures: accept })),
                accept_failures: accept,
              }
            : null,
          ...(shadowed ? {} : { needs: "a shadow report first (the shadow tool)" }),
          submit: `POST /v1/worlds/${w.id}/proposals/${p.proposal_id}/approvals {"public_key", "signature", "accept_failures"?} (role approve), or wk approve ${p.proposal_id} --key KEY${accept ? " --accept-failures" : ""}`,
        };
      });
    return { intents, proposals };
  },
});

/** The approval tools (read-only: they show what to sign). */
export const PENDING_TOOLS: readonly AnyTool[] = [listPending];
