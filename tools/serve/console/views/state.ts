/**
 * @module A world's cells: module, key, state hash and the state as JSON (decoded by the
 * server against the module's state schema), optionally one module's only.
 */
import { reloadOnChange, type Ctx } from "../context.js";
import { h, jsonBlock, replace, short, table } from "../dom.js";
import { worldHref } from "../routes.js";

/** Draws the world's cell states. */
export async function stateView(ctx: Ctx): Promise<void> {
  const module = ctx.params.get("module") ?? "";
  const { height } = await ctx.client.journal(ctx.worldId, { limit: 1 });
  // The module list comes from an unfiltered read, so the filter can always go back.
  const all = await ctx.client.state(ctx.worldId);
  const modules = [...new Set(all.cells.map((c) => c.module))].sort();
  const shown = module === "" ? all : await ctx.client.state(ctx.worldId, { module });
  const select = h(
    "select",
    {
      id: "module-filter",
      onchange: () => (location.hash = worldHref(ctx.worldId, "state", { module: select.value })),
    },
    h("option", { value: "" }, "all modules"),
    ...modules.map((m) => h("option", { value: m, selected: m === module }, m)),
  );
  const rows = shown.cells.map((c) =>
    h(
      "tr",
      { "data-module": c.module, "data-key": c.key ?? "" },
      h("td", {}, h("code", {}, c.module)),
      h("td", {}, c.key === null ? h("span", { class: "muted" }, "(singleton)") : h("code", {}, c.key)),
      h("td", {}, short(c.state_hash)),
      h("td", {}, c.state === null ? h("span", { class: "muted" }, "empty") : jsonBlock(c.state)),
    ),
  );
  replace(
    ctx.root,
    h("h1", {}, "Cell states"),
    h(
      "div",
      { class: "toolbar" },
      h("label", {}, "Module ", select),
      h("span", { class: "muted" }, "state root ", short(all.state_root, 16)),
      h("span", { class: "muted" }, `${shown.cells.length} cell(s)`),
    ),
    rows.length === 0
      ? h("p", { class: "muted" }, "No cells yet.")
      : table(["Module", "Key", "State hash", "State"], rows, { id: "cells" }),
  );
  // Steps change cells: draw again after the world writes.
  reloadOnChange(
    ctx,
    height,
    () => ctx.refresh(),
    (e) => e.event === "entry" && e.data.includes('"kind":"step"'),
  );
}
