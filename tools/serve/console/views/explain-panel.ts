/**
 * @module The "explain" panel of an intent (`wk explain` in the console): what started its
 * cascade, the event its step ran on, the state that step saw, the module's recorded reasoning,
 * the gate's decision, approvers' decisions, the result and what followed. Every entry it names
 * can be clicked to select it in the causal tree.
 */
import type { Explanation } from "../../client.js";
import { h, jsonBlock, short, type Child } from "../dom.js";

/** An entry the explanation names. */
type Shown = Explanation["root"];

/** The module's recorded reasoning (ann-v1) as the panel shows it. */
function reasoning(x: Explanation): Child {
  const r = x.reasoning;
  if (r === null) return h("span", { class: "muted" }, "none recorded (the module's annotation was null)");
  if (r.ann !== undefined) return jsonBlock(r.ann);
  if (r.ann_ref !== undefined) return h("span", {}, "kept in blob ", short(r.ann_ref, 16), " (wk blob get)");
  return h("span", { class: "muted" }, `${r.ann_dropped ?? "?"} bytes, over the limit, not kept`);
}

/** The explanation of an intent; `select` is called with the seq of a clicked entry. */
export function explainPanel(x: Explanation, select: (seq: number) => void): HTMLElement {
  const entry = (s: Shown): HTMLElement =>
    h(
      "div",
      { class: "explained" },
      h("button", { type: "button", class: "link", "data-seq": s.seq, onclick: () => select(s.seq) }, `#${s.seq}`),
      " ",
      s.what,
    );
  const entries = (list: readonly Shown[], none: string): Child[] =>
    list.length === 0 ? [h("span", { class: "muted" }, none)] : list.map(entry);
  const row = (label: string, field: string, ...value: Child[]) => [
    h("dt", {}, label),
    h("dd", { "data-field": field }, ...value),
  ];
  const [gate, ...approvals] = x.decisions;
  return h(
    "section",
    { class: "explain", id: "explain", "data-intent-id": x.intent_id },
    h("h3", {}, "Why this intent: ", short(x.intent_id, 16)),
    h(
      "dl",
      { class: "facts" },
      row("Started by", "root", entry(x.root)),
      row("Trigger", "trigger", entry(x.trigger)),
      row(
        "State seen",
        "state",
        x.step.state_before === null
          ? h("span", { class: "muted" }, "none (a new cell)")
          : short(x.step.state_before, 16),
      ),
      row("Step", "step", entry(x.step)),
      row("Reasoning", "reasoning", reasoning(x)),
      row("Intent", "intent", entry(x.intent)),
      row("Decision", "decision", gate === undefined ? h("span", { class: "muted" }, "none yet") : entry(gate)),
      row("Approvals", "approvals", ...entries(approvals, "none")),
      row(
        "Result",
        "result",
        x.result === null ? h("span", { class: "muted" }, "pending: no receipt yet") : entry(x.result),
      ),
      row("Then", "follow-up", ...entries(x.follow_up, "nothing yet")),
    ),
  );
}
