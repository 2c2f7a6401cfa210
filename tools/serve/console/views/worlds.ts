/**
 * @module The worlds list: each hosted world's height, head, last checkpoint and pending work,
 * and whether its journal verifies (one GET …/verify per world, filled in as each answers).
 */
import type { VerifyJson, WorldSummary } from "../../client.js";
import type { Ctx } from "../context.js";
import { badge, h, replace, short, table } from "../dom.js";
import { worldHref } from "../routes.js";

/** Draws the worlds list. */
export async function worldsView(ctx: Ctx): Promise<void> {
  const worlds = await ctx.client.worlds();
  const rows = worlds.map((w) => row(ctx, w));
  replace(
    ctx.root,
    h("h1", {}, "Worlds"),
    worlds.length === 0
      ? h("p", { class: "muted" }, "This server hosts no world.")
      : table(["World", "Height", "Head", "Last checkpoint", "Pending intents", "Awaiting approval", "Verify"], rows, {
          id: "worlds",
        }),
  );
}

function row(ctx: Ctx, w: WorldSummary): HTMLTableRowElement {
  const verify = h("td", { class: "verify" }, h("span", { class: "muted" }, "checking…"));
  ctx.client.verify(w.id).then(
    (v) => replace(verify, verdict(v)),
    (e: unknown) => {
      replace(verify, badge("error", "fault"));
      if (!ctx.signal.aborted) ctx.fail(e);
    },
  );
  return h(
    "tr",
    { "data-world-id": w.id },
    h("td", {}, h("a", { href: worldHref(w.id, "journal") }, w.id)),
    h("td", { class: "num" }, w.height),
    h("td", {}, w.head === null ? h("span", { class: "muted" }, "empty") : short(w.head.hash)),
    h("td", { class: "num" }, w.checkpoint === null ? h("span", { class: "muted" }, "none") : `#${w.checkpoint.seq}`),
    h("td", { class: "num" }, h("a", { href: worldHref(w.id, "effects") }, w.pending.pendingIntents)),
    h(
      "td",
      { class: "num" },
      h(
        "a",
        { href: worldHref(w.id, "approvals") },
        w.pending.pendingApprovals > 0
          ? badge(String(w.pending.pendingApprovals), "warn")
          : String(w.pending.pendingApprovals),
      ),
    ),
    verify,
  );
}

function verdict(v: VerifyJson): HTMLElement {
  if (v.ok) return h("span", { title: `${v.entries} entries, ${v.checkpoints} checkpoints` }, badge("ok", "ok"));
  const where = v.first_bad_seq === undefined ? "" : ` at #${v.first_bad_seq}`;
  return h(
    "span",
    {},
    badge("fault", "fault"),
    " ",
    h("span", { class: "fault-text" }, `${v.fault ?? "unknown"}${where}${v.message ? `: ${v.message}` : ""}`),
  );
}
