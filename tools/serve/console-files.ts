/**
 * @module The console's static files (built into `dist/console` by `npm run build:dist`):
 * served without a token, since they hold no data; everything they show comes from the
 * authenticated API. A strict content security policy keeps the page to its own origin.
 */
import { readFileSync, existsSync } from "node:fs";
import { extname, join, normalize } from "node:path";
import type { Hono } from "hono";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** Mounts `/` (a redirect) and `/console/*` over the built files in `dir`. */
export function consoleRoutes(app: Hono, dir: string | null): void {
  app.get("/", (c) => c.redirect("/console/"));
  app.get("/console/*", (c) => {
    if (dir === null || !existsSync(join(dir, "index.html")))
      return c.json(
        { error: { code: "http.no_console", message: "the console is not built: run npm run build:dist" } },
        404,
      );
    const rel = c.req.path.slice("/console/".length) || "index.html";
    const file = normalize(join(dir, rel));
    // Confined to the console's directory; an unknown path is the SPA's own route.
    const target =
      file.startsWith(dir + "/") && existsSync(file) && TYPES[extname(file)] ? file : join(dir, "index.html");
    return c.body(readFileSync(target), 200, {
      "content-type": TYPES[extname(target)]!,
      "content-security-policy": CSP,
      "x-content-type-options": "nosniff",
      "cache-control": "no-cache",
    });
  });
}
