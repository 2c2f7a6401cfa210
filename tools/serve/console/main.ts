/**
 * @module The web console of `wk serve`: a small single-page app over the /v1 API, routed by
 * the URL hash. It signs in once per tab, draws one page at a time (worlds, journal, cells,
 * effects, approvals), and shows every API refusal (code and message) in a banner.
 */
import { ApiError, clientFor } from "./api.js";
import type { Ctx, View } from "./context.js";
import { h, replace } from "./dom.js";
import { PAGES, parseRoute, worldHref, type Route } from "./routes.js";
import { savedToken, signOut } from "./session.js";
import { approvalsView } from "./views/approvals.js";
import { effectsView } from "./views/effects.js";
import { journalView } from "./views/journal.js";
import { signInView } from "./views/signin.js";
import { stateView } from "./views/state.js";
import { worldsView } from "./views/worlds.js";

const VIEWS: Record<Route["page"], View> = {
  worlds: worldsView,
  journal: journalView,
  state: stateView,
  effects: effectsView,
  approvals: approvalsView,
};
const TITLES: Record<Route["page"], string> = {
  worlds: "Worlds",
  journal: "Journal",
  state: "Cell states",
  effects: "Effects",
  approvals: "Approvals",
};

const nav = h("nav", { class: "tabs", "aria-label": "pages" });
const signOutButton = h(
  "button",
  {
    type: "button",
    id: "sign-out",
    class: "quiet",
    hidden: true,
    onclick: () => {
      signOut();
      clearBanner();
      location.hash = "#/";
      void render(false);
    },
  },
  "Sign out",
);
const banner = h("div", { id: "banner", class: "banner", role: "alert", hidden: true });
const notice = h("div", { id: "notice", class: "notice", role: "status", hidden: true });
const view = h("main", { id: "view" });

document.body.append(
  h(
    "header",
    { class: "top" },
    h("a", { class: "brand", href: "#/" }, "worldkernel"),
    nav,
    h("span", { class: "spacer" }),
    signOutButton,
  ),
  banner,
  notice,
  view,
);

/** Shows an error in the banner; a refused token signs out. */
function fail(e: unknown): void {
  const text =
    e instanceof ApiError
      ? `${e.code}: ${e.message}${e.path ? ` (at ${e.path})` : ""}`
      : `console.error: ${e instanceof Error ? e.message : String(e)}`;
  replace(
    banner,
    h("span", { class: "banner-text" }, text),
    h("button", { type: "button", class: "quiet", "aria-label": "dismiss", onclick: clearBanner }, "×"),
  );
  banner.hidden = false;
  if (e instanceof ApiError && e.status === 401 && savedToken() !== null) {
    signOut();
    void render(true);
  }
}

function clearBanner(): void {
  banner.hidden = true;
  replace(banner);
}

function notify(text: string): void {
  notice.textContent = text;
  notice.hidden = false;
}

function drawNav(route: Route, signedIn: boolean): void {
  signOutButton.hidden = !signedIn;
  if (!signedIn) return replace(nav);
  const tab = (href: string, label: string, current: boolean) =>
    h("a", { href, class: current ? "current" : "", "aria-current": current ? "page" : false }, label);
  replace(
    nav,
    tab("#/", "Worlds", route.page === "worlds"),
    route.world === ""
      ? null
      : [
          h("span", { class: "world-name" }, h("code", {}, route.world)),
          ...PAGES.map((p) => tab(worldHref(route.world, p), TITLES[p], route.page === p)),
        ],
  );
}

let current: AbortController | null = null;

/**
 * Draws the current route. A navigation shows "Loading…" at once; a refresh (`quiet`) keeps
 * the old page on screen until the new one is drawn, so a live page does not flicker.
 */
async function render(quiet: boolean): Promise<void> {
  current?.abort();
  const ctl = new AbortController();
  current = ctl;
  const route = parseRoute(location.hash);
  const token = savedToken();
  drawNav(route, token !== null);
  document.title = `${TITLES[route.page]}${route.world ? ` · ${route.world}` : ""} · worldkernel`;
  if (token === null) {
    const root = h("div", {});
    replace(view, root);
    return signInView(root, fail, () => {
      clearBanner();
      void render(false);
    });
  }
  const root = h("div", { class: `page page-${route.page}` });
  if (!quiet) replace(view, h("p", { class: "muted loading" }, "Loading…"));
  const ctx: Ctx = {
    client: clientFor(token),
    token,
    signal: ctl.signal,
    root,
    worldId: route.world,
    params: route.params,
    fail,
    notify,
    refresh: () => void render(true),
  };
  try {
    await VIEWS[route.page](ctx);
  } catch (e) {
    if (ctl.signal.aborted) return;
    fail(e);
    // A refresh that failed leaves the last good page up; a navigation says why it is empty.
    if (quiet) return;
    replace(root, h("p", { class: "muted" }, "This page could not be drawn: see the message above."));
  }
  if (!ctl.signal.aborted) replace(view, root);
}

window.addEventListener("hashchange", () => {
  // A new page: the last page's messages are about the last page.
  clearBanner();
  notice.hidden = true;
  void render(false);
});
void render(false);
