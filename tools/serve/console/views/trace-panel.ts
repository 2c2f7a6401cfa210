/**
 * @module The causal tree of the selected journal entry (`wk trace` in the console): every entry
 * of its cascade indented under its cause, the selected one marked, each clickable to select it;
 * for an intent, its explanation below (explain-panel.ts). A server-cut tree says how much of it
 * is shown and where entries were left out.
 */
import type { Trace } from "../../client.js";
import type { TraceView } from "../../../../kernel/analysis/trace-view.js";
import type { Ctx } from "../context.js";
import { h, replace } from "../dom.js";
import { explainPanel } from "./explain-panel.js";

/** The panel and how to select an entry in it. */
export interface CausalPanel {
  el: HTMLElement;
  /** Shows the tree of `seq` (and its explanation when it is an intent). */
  select(seq: number): void;
  /** Hides the panel. */
  close(): void;
}

/** One entry of the tree and, nested, the entries that follow from it. */
function nodeItem(n: TraceView, select: (seq: number) => void): HTMLLIElement {
  return h(
    "li",
    { class: n.selected ? "selected" : "" },
    h(
      "button",
      {
        type: "button",
        class: "trace-node",
        "data-seq": n.seq,
        "data-kind": n.kind,
        "aria-current": n.selected ? "true" : false,
        onclick: () => select(n.seq),
      },
      n.selected ? h("span", { class: "mark", "aria-hidden": "true" }, "▶ ") : null,
      h("span", { class: "seq" }, `#${n.seq}`),
      " ",
      h("span", { class: `kind kind-${n.kind}` }, n.kind),
      " ",
      h("span", { class: "what" }, n.what),
    ),
    n.children.length === 0 ? null : h("ul", {}, ...n.children.map((c) => nodeItem(c, select))),
    n.omitted === undefined ? null : h("p", { class: "muted omitted" }, `… ${n.omitted} more entries not shown`),
  );
}

/** The selected entry of a tree. */
const selectedOf = (v: TraceView): TraceView | undefined =>
  v.selected ? v : v.children.map(selectedOf).find((x) => x !== undefined);

/** The panel; `onSelect` hears every selection (the journal marks the row and keeps it in the URL). */
export function causalPanel(ctx: Ctx, onSelect: (seq: number | null) => void): CausalPanel {
  const el = h("section", { class: "panel trace-panel", id: "trace", hidden: true });
  let asked = 0;
  const close = () => {
    asked++;
    el.hidden = true;
    replace(el);
    onSelect(null);
  };
  const title = (seq: number) =>
    h(
      "div",
      { class: "trace-head" },
      h("h2", {}, `Causal tree of #${seq}`),
      h("button", { type: "button", class: "quiet", "aria-label": "close", onclick: close }, "×"),
    );
  const select = (seq: number) => {
    const mine = ++asked;
    const current = () => mine === asked && !ctx.signal.aborted;
    onSelect(seq);
    el.hidden = false;
    replace(el, title(seq), h("p", { class: "muted loading" }, "Loading…"));
    void (async () => {
      let t: Trace;
      try {
        t = await ctx.client.trace(ctx.worldId, seq);
      } catch (e) {
        if (!current()) return;
        ctx.fail(e);
        replace(el, title(seq), h("p", { class: "muted" }, "The tree could not be loaded: see the message above."));
        return;
      }
      if (!current()) return;
      const sel = selectedOf(t.tree);
      const intentId =
        sel?.kind === "effect_intent" ? (sel.body as { intent_id?: unknown } | null)?.intent_id : undefined;
      const explain = h("div", { class: "explain-slot" });
      replace(
        el,
        title(seq),
        h(
          "p",
          { class: "muted", id: "trace-size" },
          t.truncated
            ? `${t.shown} of ${t.nodes} entries shown: the server cuts a large tree ("… more" marks where).`
            : `${t.nodes} ${t.nodes === 1 ? "entry" : "entries"}.`,
        ),
        h("ul", { class: "trace-tree" }, nodeItem(t.tree, select)),
        explain,
      );
      if (typeof intentId !== "string") return;
      replace(explain, h("p", { class: "muted loading" }, "Loading the explanation…"));
      try {
        const x = await ctx.client.explain(ctx.worldId, intentId);
        if (current()) replace(explain, explainPanel(x, select));
      } catch (e) {
        if (!current()) return;
        ctx.fail(e);
        replace(explain);
      }
    })();
  };
  return { el, select, close };
}
