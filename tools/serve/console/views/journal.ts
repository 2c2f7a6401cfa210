/**
 * @module The journal browser: one page of entries (seq, kind, short hash, a summary of the
 * body; a click shows the whole entry as JSON and selects it: its causal tree, and for an
 * intent its explanation, appear beside the table), filtered by kind, paged with `from`/`limit`,
 * and optionally followed live over the world's event stream.
 */
import type { EntryJson } from "../../client.js";
import { follow, type Ctx } from "../context.js";
import { h, jsonBlock, replace, short, table } from "../dom.js";
import { ENTRY_KINDS } from "../../../../kernel/journal/entry-kinds.js";
import { worldHref } from "../routes.js";
import { causalPanel } from "./trace-panel.js";

const PAGE_SIZES = [25, 50, 100, 250];

/** Draws a page of a world's journal. */
export async function journalView(ctx: Ctx): Promise<void> {
  const from = intParam(ctx.params, "from", 0);
  const limit = Math.min(1000, Math.max(1, intParam(ctx.params, "limit", 50)));
  const kind = ctx.params.get("kind") ?? "";
  const page = await ctx.client.journal(ctx.worldId, { from, limit, ...(kind ? { kind } : {}) });
  // The selected entry (`seq` in the route) stays selected across pages and reloads.
  let selected: number | undefined = ctx.params.has("seq") ? intParam(ctx.params, "seq", 0) : undefined;
  const go = (q: { from?: number; limit?: number; kind?: string }) => {
    location.hash = worldHref(ctx.worldId, "journal", { kind, limit, from, seq: selected, ...q });
  };

  const kindSelect = h(
    "select",
    { id: "kind-filter", onchange: () => go({ kind: kindSelect.value, from: 0 }) },
    h("option", { value: "" }, "all kinds"),
    ...ENTRY_KINDS.map((k) => h("option", { value: k, selected: k === kind }, k)),
  );
  const sizeSelect = h(
    "select",
    { id: "page-size", onchange: () => go({ limit: Number(sizeSelect.value), from }) },
    ...PAGE_SIZES.map((n) => h("option", { value: n, selected: n === limit }, String(n))),
  );

  const body = h("tbody", {});
  const layout = h("div", { class: "journal-layout" });
  const panel = causalPanel(ctx, (seq) => {
    selected = seq ?? undefined;
    layout.classList.toggle("with-trace", seq !== null);
    for (const r of body.querySelectorAll("tr.entry.selected")) r.classList.remove("selected");
    if (seq !== null) body.querySelector(`tr.entry[data-seq="${seq}"]`)?.classList.add("selected");
    // Kept in the URL without a navigation: a reload shows the same tree, the page is not redrawn.
    history.replaceState(null, "", worldHref(ctx.worldId, "journal", { kind, limit, from, seq: selected }));
  });
  const select = (seq: number) => panel.select(seq);
  layout.append(table(["Seq", "Kind", "Hash", "Summary"], body, { id: "journal" }), panel.el);
  for (const e of page.entries) body.append(...entryRows(e, select));
  const empty =
    page.entries.length === 0 ? h("p", { class: "muted", id: "journal-empty" }, "No entries on this page.") : null;
  const first = page.entries[0]?.seq;
  const last = page.entries.at(-1)?.seq;

  const status = h("span", { class: "live-status muted", id: "live-status" }, "");
  let live: AbortController | null = null;
  const liveBox = h("input", {
    type: "checkbox",
    id: "follow-live",
    onchange: () => {
      live?.abort();
      live = null;
      if (!liveBox.checked) return void (status.textContent = "");
      const ctl = new AbortController();
      ctx.signal.addEventListener("abort", () => ctl.abort());
      live = ctl;
      status.textContent = "following…";
      status.className = "live-status on";
      follow(
        { ...ctx, signal: ctl.signal },
        page.height,
        (ev) => {
          if (ev.event !== "entry") return;
          const e = JSON.parse(ev.data) as EntryJson;
          if (kind !== "" && e.kind !== kind) return;
          empty?.remove();
          const rows = entryRows(e, select);
          rows[0]!.classList.add("new");
          body.append(...rows);
          status.textContent = `following: #${e.seq} arrived`;
        },
        () => {
          status.textContent = "the stream ended (the server is stopping)";
          status.className = "live-status muted";
        },
      );
    },
  });

  replace(
    ctx.root,
    h("h1", {}, "Journal"),
    h(
      "div",
      { class: "toolbar" },
      h("label", {}, "Kind ", kindSelect),
      h("label", {}, "Per page ", sizeSelect),
      h("button", { type: "button", disabled: from === 0, onclick: () => go({ from: 0 }) }, "First"),
      h(
        "button",
        { type: "button", disabled: from === 0, onclick: () => go({ from: Math.max(0, from - limit) }) },
        "Previous",
      ),
      h(
        "button",
        {
          type: "button",
          id: "next-page",
          disabled: page.next === null,
          onclick: () => go({ from: page.next ?? from }),
        },
        "Next",
      ),
      h("button", { type: "button", onclick: () => go({ from: Math.max(0, page.height - limit) }) }, "Latest"),
      h(
        "span",
        { class: "muted", id: "journal-range" },
        first === undefined ? `height ${page.height}` : `#${first}–#${last} of height ${page.height}`,
      ),
      h("label", { class: "live" }, liveBox, " Follow live"),
      status,
    ),
    empty,
    layout,
  );
  if (selected !== undefined) panel.select(selected);
}

/** An entry's row and its (hidden) JSON row; a click on the row toggles the JSON and selects the entry. */
function entryRows(e: EntryJson, select: (seq: number) => void): HTMLTableRowElement[] {
  const detail = h("tr", { class: "detail", hidden: true }, h("td", { colspan: 4 }, jsonBlock(e)));
  const toggle = h("button", { type: "button", class: "link", "aria-expanded": "false" }, `#${e.seq}`);
  const row = h(
    "tr",
    {
      class: "entry",
      "data-seq": e.seq,
      "data-kind": e.kind,
      onclick: () => {
        detail.hidden = !detail.hidden;
        toggle.setAttribute("aria-expanded", String(!detail.hidden));
        row.classList.toggle("open", !detail.hidden);
        select(e.seq);
      },
    },
    h("td", { class: "num" }, toggle),
    h("td", {}, h("span", { class: `kind kind-${e.kind}` }, e.kind)),
    h("td", {}, short(e.hash)),
    h("td", { class: "summary" }, summary(e.body)),
  );
  return [row, detail];
}

/** The fields that say most about an entry, in this order. */
const TELLING = [
  "schema",
  "module",
  "key",
  "kind",
  "intent_id",
  "decision",
  "reason",
  "status",
  "adapter",
  "proposal_id",
  "through_seq",
];

/** A one-line summary of an entry body: its telling fields, values shortened. */
export function summary(body: Record<string, unknown>): string {
  const keys = TELLING.filter((k) => k in body);
  const shown = keys.length > 0 ? keys : Object.keys(body).slice(0, 3);
  return shown.map((k) => `${k}=${brief(body[k])}`).join("  ");
}

function brief(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return /^[0-9a-f]{24,}$/.test(v) ? `${v.slice(0, 10)}…` : clip(v);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return clip(JSON.stringify(v));
}

const clip = (s: string) => (s.length > 48 ? `${s.slice(0, 47)}…` : s);

function intParam(p: URLSearchParams, name: string, fallback: number): number {
  const n = Number(p.get(name) ?? "");
  return p.get(name) !== null && Number.isSafeInteger(n) && n >= 0 ? n : fallback;
}
