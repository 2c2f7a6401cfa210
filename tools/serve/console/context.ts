/**
 * @module What a page is given to render: the client, the route, where to draw, and how to
 * report. Each navigation gets a fresh `signal`; a page's background work (a live stream)
 * stops when it aborts, so a page left behind never draws over the next one.
 */
import { readStream, type SseEvent, type WorldkernelClient } from "./api.js";

/** A page's view of the console. */
export interface Ctx {
  client: WorldkernelClient;
  token: string;
  /** Aborted when the user leaves the page. */
  signal: AbortSignal;
  /** Where the page draws (detached once the user has left). */
  root: HTMLElement;
  /** The world of the route ("" on the worlds list). */
  worldId: string;
  /** The route's query (`#/worlds/w/journal?from=10`). */
  params: URLSearchParams;
  /** Shows an error (ApiError code and message) in the banner. */
  fail(e: unknown): void;
  /** Shows a passing message (what an action did). */
  notify(text: string): void;
  /** Draws the current route again, keeping the banner and message. */
  refresh(): void;
}

/** A page: draws itself into `ctx.root`. */
export type View = (ctx: Ctx) => Promise<void>;

/**
 * Follows the world's stream from `from` until the page is left, calling `on` for each event;
 * `onEnd` when the server ends it (a drain). Errors other than the page's own abort go to the banner.
 */
export function follow(ctx: Ctx, from: number, on: (e: SseEvent) => void, onEnd?: () => void): void {
  readStream(ctx.client, ctx.token, ctx.worldId, from, ctx.signal, on).then(
    () => onEnd?.(),
    (e: unknown) => {
      if (!ctx.signal.aborted) ctx.fail(e);
    },
  );
}

/**
 * Calls `reload` after the world writes, coalescing a burst of entries into one reload; the
 * page stays current without polling.
 */
export function reloadOnChange(ctx: Ctx, from: number, reload: () => void, only?: (e: SseEvent) => boolean): void {
  let queued = false;
  follow(ctx, from, (e) => {
    if (queued || (only !== undefined && !only(e))) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      if (!ctx.signal.aborted) reload();
    }, 100);
  });
}
