/**
 * @module A world's effects: every intent with the gate's decision and reason and its receipt's
 * status, and a receipt bundle to download for offline verification (`wk receipt verify`).
 * The table redraws as receipts arrive.
 */
import type { IntentRow } from "../../client.js";
import { downloadBundle } from "../api.js";
import { reloadOnChange, type Ctx } from "../context.js";
import { badge, h, replace, short, table } from "../dom.js";

/** Draws the world's intents and receipts. */
export async function effectsView(ctx: Ctx): Promise<void> {
  const { height } = await ctx.client.journal(ctx.worldId, { limit: 1 });
  const intents = await ctx.client.receipts(ctx.worldId);
  replace(
    ctx.root,
    h("h1", {}, "Effects"),
    intents.length === 0
      ? h("p", { class: "muted" }, "No effect intents yet.")
      : table(
          ["Intent", "Kind", "Module", "Seq", "Gate", "Reason", "Receipt", "Adapter", ""],
          intents.map((i) => row(ctx, i)),
          { id: "effects" },
        ),
  );
  reloadOnChange(ctx, height, () => ctx.refresh());
}

function row(ctx: Ctx, i: IntentRow): HTMLTableRowElement {
  const download = h(
    "button",
    {
      type: "button",
      class: "download",
      onclick: () => {
        download.disabled = true;
        downloadBundle(ctx.client, ctx.worldId, i.intent_id).then(
          () => {
            download.disabled = false;
            ctx.notify(`Saved the receipt bundle of intent ${i.intent_id.slice(0, 12)}…`);
          },
          (e: unknown) => {
            download.disabled = false;
            ctx.fail(e);
          },
        );
      },
    },
    "Download bundle",
  );
  return h(
    "tr",
    { "data-intent-id": i.intent_id },
    h("td", {}, short(i.intent_id, 16)),
    h("td", {}, i.kind),
    h("td", {}, h("code", {}, i.module)),
    h("td", { class: "num" }, `#${i.seq}`),
    h("td", { class: "decision" }, decisionBadge(i.decision)),
    h("td", {}, i.reason ?? h("span", { class: "muted" }, "—")),
    h(
      "td",
      { class: "receipt" },
      i.receipt === null
        ? badge("pending", "info")
        : badge(i.receipt.status, i.receipt.status === "ok" ? "ok" : "fault"),
    ),
    h("td", {}, i.receipt?.adapter ?? ""),
    h("td", {}, i.receipt === null ? null : download),
  );
}

function decisionBadge(d: string | null): HTMLElement {
  if (d === null) return h("span", { class: "muted" }, "—");
  return badge(d, d === "allow" ? "ok" : d === "require_approval" ? "warn" : "fault");
}
