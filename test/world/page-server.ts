/**
 * @module A real HTTP page server on 127.0.0.1 for world tests whose modules fetch a page.
 */
import { createServer, type RequestListener } from "node:http";

/** A running page server: its base URL (no trailing slash) and how to stop it. */
export interface PageServer {
  url: string;
  close(): Promise<void>;
}

/** Serves `page` (a fixed text, or a listener of its own) on a free loopback port. */
export async function startPageServer(page: string | RequestListener): Promise<PageServer> {
  const server = createServer(typeof page === "string" ? (_req, res) => res.end(page) : page);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
