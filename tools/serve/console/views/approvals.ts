/**
 * @module Approvals: held intents and governance proposals, decided with the approver's key.
 * The key file is read in the browser and kept in memory; for each decision the console asks
 * the server for the exact bytes to sign, signs them here, and sends only the public key and
 * the signature, so the server never sees a secret key. A proposal shows its latest shadow
 * report as a diff: cells before → after, differing entries, changed decisions, failures, and
 * every change of authority the patch makes, those that widen it highlighted.
 */
import type { HeldIntent, ProposalSummary } from "../../client.js";
import { reloadOnChange, type Ctx } from "../context.js";
import { badge, h, replace, short, table } from "../dom.js";
import { approverKey, forgetApproverKey, loadApproverKey, signHex, type ApproverKey } from "../session.js";
import { checkSigningMessage } from "../signing-check.js";

/** Draws the approver key, the held intents and the proposals of a world. */
export async function approvalsView(ctx: Ctx): Promise<void> {
  const { height } = await ctx.client.journal(ctx.worldId, { limit: 1 });
  const [held, proposals] = await Promise.all([ctx.client.heldIntents(ctx.worldId), ctx.client.proposals(ctx.worldId)]);
  replace(
    ctx.root,
    h("h1", {}, "Approvals"),
    keyPanel(ctx),
    h("h2", {}, "Held intents"),
    held.length === 0
      ? h("p", { class: "muted", id: "no-held" }, "No intent is waiting for approval.")
      : table(
          ["Intent", "Kind", "Module", "Seq", "Valid until", ""],
          held.map((i) => heldRow(ctx, i)),
          { id: "held" },
        ),
    h("h2", {}, "Proposals"),
    proposals.length === 0
      ? h("p", { class: "muted" }, "No proposal has been filed.")
      : h("div", { id: "proposals" }, ...proposals.map((p) => proposalCard(ctx, p))),
  );
  // A new held intent or shadow report is announced on the stream: draw again to show it.
  reloadOnChange(
    ctx,
    height,
    () => ctx.refresh(),
    (e) => e.event === "approval",
  );
}

function keyPanel(ctx: Ctx): HTMLElement {
  const key = approverKey();
  const input = h("input", {
    type: "file",
    id: "approver-key",
    accept: ".key,.json,application/json",
    onchange: () => {
      const file = input.files?.[0];
      input.value = ""; // nothing of the file stays in the form
      if (file === undefined) return;
      file
        .text()
        .then((text) => {
          const k = loadApproverKey(text, file.name);
          ctx.notify(`Loaded approver key ${k.publicKeyHex.slice(0, 16)}… (kept in this tab's memory only)`);
          ctx.refresh();
        })
        .catch((e: unknown) => ctx.fail(e));
    },
  });
  return h(
    "section",
    { class: "panel", id: "key-panel" },
    h("h2", {}, "Approver key"),
    key === null
      ? h(
          "p",
          {},
          "Load your approver key file to sign decisions. It is read here, kept in memory, and never sent: " +
            "the server receives only your public key and signatures.",
        )
      : h(
          "p",
          { id: "key-loaded" },
          "Signing as ",
          h("code", { title: key.publicKeyHex }, `${key.publicKeyHex.slice(0, 16)}…`),
          ` (from ${key.file}). `,
          h(
            "button",
            {
              type: "button",
              onclick: () => {
                forgetApproverKey();
                ctx.refresh();
              },
            },
            "Forget key",
          ),
        ),
    h("label", { class: "file" }, key === null ? "Key file " : "Another key file ", input),
  );
}

/** Runs a signed action: needs a key, disables `buttons` while it runs, reports the outcome. */
function signed(ctx: Ctx, buttons: HTMLButtonElement[], action: (key: ApproverKey) => Promise<string>): void {
  const key = approverKey();
  if (key === null) return ctx.fail(new Error("load an approver key file first"));
  for (const b of buttons) b.disabled = true;
  action(key).then(
    (done) => {
      ctx.notify(done);
      ctx.refresh();
    },
    (e: unknown) => {
      for (const b of buttons) b.disabled = false;
      ctx.fail(e);
    },
  );
}

function heldRow(ctx: Ctx, i: HeldIntent): HTMLTableRowElement {
  const decide = (decision: "allow" | "deny") => () =>
    signed(ctx, [approve, deny], async (key) => {
      const msg = await ctx.client.heldIntentMessage(ctx.worldId, i.intent_id, decision);
      checkSigningMessage(msg.message_hex, {
        kind: "held_intent",
        world_id: ctx.worldId,
        intent_id: i.intent_id,
        decision,
      });
      const r = await ctx.client.decide(ctx.worldId, i.intent_id, {
        decision,
        public_key: key.publicKeyHex,
        signature: signHex(key, msg.message_hex),
      });
      return `${decision === "allow" ? "Approved" : "Denied"} intent ${i.intent_id.slice(0, 12)}… (journal #${r.seq})`;
    });
  const noKey = approverKey() === null;
  const approve = h(
    "button",
    { type: "button", class: "approve", disabled: noKey, onclick: decide("allow") },
    "Approve",
  );
  const deny = h("button", { type: "button", class: "deny", disabled: noKey, onclick: decide("deny") }, "Deny");
  return h(
    "tr",
    { "data-intent-id": i.intent_id },
    h("td", {}, short(i.intent_id, 16)),
    h("td", {}, i.kind),
    h("td", {}, h("code", {}, i.module)),
    h("td", { class: "num" }, `#${i.seq}`),
    h("td", {}, validUntil(i.valid_until_ns)),
    h("td", { class: "actions" }, approve, " ", deny),
  );
}

function validUntil(ns: string | null): string {
  if (ns === null) return "no deadline";
  const ms = Number(BigInt(ns) / 1_000_000n);
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(".000Z", "Z") : ns;
}

/** The shape of a shadow report the diff reads (every field optional: older reports lack some). */
interface Report {
  new_manifest_hash?: string;
  events?: number;
  cells?: { module: string; key: string | null; before: string | null; after: string | null }[];
  differing_entries?: number;
  differing_fields?: Record<string, number>;
  fuel_only?: number;
  decision_changes?: Record<string, { before: number; after: number }>;
  new_intents?: number;
  failures?: {
    module: string;
    key: string | null;
    event_seq: number;
    code?: string;
    message?: string;
    migration?: string;
    invariant?: string;
  }[];
  /** Absent from reports made before authority changes were listed. */
  authority_changes?: AuthorityChange[];
}

/** A change of authority as the report lists it (kernel/world/authority-diff.ts). */
interface AuthorityChange {
  kind: string;
  name: string;
  change: "added" | "removed" | "changed";
  path: string;
  before: unknown;
  after: unknown;
  widens: boolean | null;
}

/** A denial as the server lists it (servers before proposal denials send none). */
interface Denial {
  seq: number;
  approver: string;
  reason: string;
}

function proposalCard(ctx: Ctx, p: ProposalSummary): HTMLElement {
  const report = p.report as Report | null;
  const denied = (p as { denied?: Denial | null }).denied ?? null;
  const status: string = p.status;
  const open = status === "filed" || status === "shadowed" || status === "approved";
  return h(
    "section",
    { class: "panel proposal", "data-proposal-id": p.proposal_id },
    h(
      "h3",
      {},
      "Proposal ",
      short(p.proposal_id, 16),
      " ",
      badge(status, status === "applied" || status === "approved" ? "ok" : status === "denied" ? "fault" : "warn"),
    ),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Base manifest"),
      h("dd", {}, short(p.base_manifest_hash, 16)),
      h("dt", {}, "New manifest"),
      h("dd", {}, short(report?.new_manifest_hash, 16)),
      h("dt", {}, "Patch"),
      h("dd", {}, short(p.patch_ref, 16)),
      h("dt", {}, "Approvals"),
      h("dd", {}, `${p.approvers.length} of ${p.threshold}`),
      denied === null ? null : [h("dt", {}, "Denied"), h("dd", { class: "denial" }, denialText(denied))],
    ),
    report === null
      ? h("p", { class: "muted" }, p.latest_report_hash === null ? "Not shadow-run yet." : "The report was erased.")
      : reportDiff(report),
    open ? proposalActions(ctx, p) : null,
  );
}

function denialText(d: Denial): HTMLElement {
  return h("span", {}, `at #${d.seq} by `, short(d.approver, 16), `: ${d.reason}`);
}

function reportDiff(r: Report): HTMLElement {
  const cells = r.cells ?? [];
  const changes = Object.entries(r.decision_changes ?? {});
  const failures = r.failures ?? [];
  const fields = Object.entries(r.differing_fields ?? {});
  const authority = r.authority_changes;
  const widening = (authority ?? []).filter((a) => a.widens === true).length;
  return h(
    "div",
    { class: "diff" },
    h(
      "p",
      { class: "summary-line" },
      `Shadow run over ${r.events ?? 0} event(s): `,
      h(
        "strong",
        { class: "differing" },
        `${r.differing_entries ?? 0} differing entr${r.differing_entries === 1 ? "y" : "ies"}`,
      ),
      r.fuel_only ? ` (${r.fuel_only} in fuel only)` : "",
      `, ${r.new_intents ?? 0} new intent(s), `,
      h("strong", { class: failures.length > 0 ? "bad" : "good" }, `${failures.length} failing step(s)`),
      authority === undefined
        ? ""
        : [
            ", ",
            h(
              "strong",
              { class: widening > 0 ? "bad authority-count" : "authority-count" },
              `${authority.length} authority change(s)${widening > 0 ? `, ${widening} widening` : ""}`,
            ),
          ],
      ".",
    ),
    fields.length > 0
      ? h("p", { class: "muted" }, "Differing fields: ", fields.map(([k, n]) => `${k} ×${n}`).join(", "))
      : null,
    h("h4", {}, "Authority"),
    authorityDiff(authority),
    h("h4", {}, "Cells"),
    cells.length === 0
      ? h("p", { class: "muted" }, "No cell ends differently.")
      : table(
          ["Module", "Key", "Before", "", "After"],
          cells.map((c) =>
            h(
              "tr",
              {},
              h("td", {}, h("code", {}, c.module)),
              h("td", {}, c.key ?? "(singleton)"),
              h("td", { class: "before" }, c.before === null ? h("em", {}, "absent") : short(c.before)),
              h("td", { class: "arrow" }, "→"),
              h("td", { class: "after" }, c.after === null ? h("em", {}, "absent") : short(c.after)),
            ),
          ),
          { class: "grid cells-diff" },
        ),
    h("h4", {}, "Decision changes"),
    changes.length === 0
      ? h("p", { class: "muted" }, "No gate or policy decision changes.")
      : table(
          ["Decision", "Before", "After"],
          changes.map(([code, c]) =>
            h(
              "tr",
              {},
              h("td", {}, h("code", {}, code)),
              h("td", { class: "num before" }, c.before),
              h("td", { class: "num after" }, c.after),
            ),
          ),
          { class: "grid decisions-diff" },
        ),
    h("h4", {}, "Failures"),
    failures.length === 0
      ? h("p", { class: "muted" }, "No step fails under the proposal.")
      : h(
          "ul",
          { class: "failures" },
          ...failures
            .slice(0, 50)
            .map((f) =>
              h(
                "li",
                {},
                h("code", {}, f.migration ?? f.invariant ?? f.module),
                f.key === null ? "" : ` key ${f.key}`,
                ` at event #${f.event_seq}: `,
                h("code", {}, f.code ?? "failed"),
                f.message ? ` ${f.message}` : "",
              ),
            ),
          failures.length > 50 ? h("li", { class: "muted" }, `… and ${failures.length - 50} more`) : null,
        ),
  );
}

/** The report's authority changes, one row each, those that widen authority highlighted. */
function authorityDiff(changes: AuthorityChange[] | undefined): HTMLElement {
  if (changes === undefined)
    return h(
      "p",
      { class: "muted" },
      "This report predates authority changes: it does not list what the patch grants.",
    );
  if (changes.length === 0)
    return h(
      "p",
      { class: "muted" },
      "The patch changes no cap, grant, budget, policy, effect, limit, binding or route.",
    );
  const value = (v: unknown) => (v === null ? h("em", {}, "absent") : h("code", {}, JSON.stringify(v)));
  return table(
    ["", "Kind", "Name", "Path", "Before", "", "After"],
    changes.map((c) =>
      h(
        "tr",
        { class: c.widens === true ? "widens" : c.widens === null ? "review" : null },
        h(
          "td",
          {},
          c.widens === true
            ? badge("widens", "fault")
            : c.widens === null
              ? badge("review", "warn")
              : badge(c.change, "info"),
        ),
        h("td", {}, c.kind),
        h("td", {}, h("code", {}, c.name)),
        h("td", {}, h("code", {}, c.path)),
        h("td", { class: "before" }, c.change === "added" ? h("em", {}, "absent") : value(c.before)),
        h("td", { class: "arrow" }, "→"),
        h("td", { class: "after" }, c.change === "removed" ? h("em", {}, "absent") : value(c.after)),
      ),
    ),
    { class: "grid authority-diff" },
  );
}

function proposalActions(ctx: Ctx, p: ProposalSummary): HTMLElement {
  const accept = h("input", { type: "checkbox", class: "accept-failures" });
  const reason = h("input", {
    type: "text",
    class: "deny-reason",
    placeholder: "reason for denying (signed and journaled)",
    maxlength: 2000,
    "aria-label": "Reason for denying",
  });
  const noKey = approverKey() === null;
  // Only a shadow report can be approved (and one approval per report); a denial needs none.
  const approvable = p.status === "shadowed" && p.latest_report_hash !== null;
  const approve = h(
    "button",
    {
      type: "button",
      class: "approve",
      disabled: noKey || !approvable,
      onclick: () =>
        signed(ctx, [approve, deny], async (key) => {
          const acceptFailures = accept.checked;
          const msg = await ctx.client.approvalMessage(ctx.worldId, p.proposal_id, { acceptFailures });
          checkSigningMessage(msg.message_hex, {
            kind: "approve_proposal",
            world_id: ctx.worldId,
            proposal_id: p.proposal_id,
            patch_ref: p.patch_ref,
            shadow_report_hash: p.latest_report_hash ?? "",
            accept_failures: acceptFailures,
          });
          await ctx.client.approve(ctx.worldId, p.proposal_id, {
            public_key: key.publicKeyHex,
            signature: signHex(key, msg.message_hex),
            ...(acceptFailures ? { accept_failures: true } : {}),
          });
          return `Approved proposal ${p.proposal_id.slice(0, 12)}…`;
        }),
    },
    "Approve",
  );
  const deny = h(
    "button",
    {
      type: "button",
      class: "deny",
      disabled: noKey,
      onclick: () =>
        signed(ctx, [approve, deny], async (key) => {
          const why = reason.value.trim();
          if (why === "") throw new Error("a denial must say why: write a reason first");
          const msg = await ctx.client.denialMessage(ctx.worldId, p.proposal_id, why);
          checkSigningMessage(msg.message_hex, {
            kind: "deny_proposal",
            world_id: ctx.worldId,
            proposal_id: p.proposal_id,
            patch_ref: p.patch_ref,
            reason: why,
          });
          await ctx.client.deny(ctx.worldId, p.proposal_id, {
            public_key: key.publicKeyHex,
            signature: signHex(key, msg.message_hex),
            reason: why,
          });
          return `Denied proposal ${p.proposal_id.slice(0, 12)}…`;
        }),
    },
    "Deny",
  );
  return h(
    "div",
    { class: "actions" },
    p.failures > 0 ? h("label", {}, accept, ` Accept the ${p.failures} failing step(s)`) : null,
    approve,
    h("span", { class: "sep" }),
    reason,
    deny,
  );
}
