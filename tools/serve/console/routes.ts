/**
 * @module Hash routes: `#/` (the worlds list) and `#/worlds/<id>/<page>?<query>`. The page
 * lives in the hash so the server serves one file for every route and a reload stays put.
 */

/** The pages of a world. */
export const PAGES = ["journal", "state", "effects", "approvals"] as const;
export type Page = (typeof PAGES)[number];

/** A parsed route. */
export interface Route {
  /** "" on the worlds list. */
  world: string;
  page: Page | "worlds";
  params: URLSearchParams;
}

/** The route in `hash` (an unknown one is the worlds list). */
export function parseRoute(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
  let parts: string[];
  try {
    parts = path
      .split("/")
      .filter((p) => p !== "")
      .map(decodeURIComponent);
  } catch {
    parts = [];
  }
  if (parts[0] === "worlds" && parts[1] !== undefined) {
    const page = (PAGES as readonly string[]).includes(parts[2] ?? "") ? (parts[2] as Page) : "journal";
    return { world: parts[1], page, params };
  }
  return { world: "", page: "worlds", params };
}

/** The hash of a world's page, with an optional query. */
export function worldHref(world: string, page: Page, query?: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== "") q.set(k, String(v));
  return `#/worlds/${encodeURIComponent(world)}/${page}${q.size > 0 ? `?${q}` : ""}`;
}
