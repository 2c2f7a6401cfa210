/**
 * @module The console's side of the API: a client for the page's own origin, the event
 * stream read with fetch (EventSource cannot send an Authorization header, and the token
 * must not go in the URL), and a receipt bundle saved as a file.
 */
import { ApiError, WorldkernelClient } from "../client.js";

export { ApiError, WorldkernelClient };

/** A client for the server that served this page. */
export function clientFor(token: string): WorldkernelClient {
  return new WorldkernelClient({ baseUrl: "", token });
}

/** One server-sent event. */
export interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/**
 * Reads a world's event stream until it ends or `signal` aborts, calling `on` per event.
 * Parses the text/event-stream format itself: `field: value` lines, a blank line ends an
 * event, `:` lines are comments (the keep-alives).
 */
export async function readStream(
  client: WorldkernelClient,
  token: string,
  worldId: string,
  from: number,
  signal: AbortSignal,
  on: (e: SseEvent) => void,
): Promise<void> {
  const res = await fetch(client.streamUrl(worldId, from), {
    headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
    signal,
  });
  if (!res.ok || res.body === null) throw await errorOf(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let event = "message";
  let id: string | null = null;
  let data: string[] = [];
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      const lines = buffer.split(/\r\n|\r|\n/);
      buffer = lines.pop() ?? ""; // an unfinished line waits for the next chunk
      for (const line of lines) {
        if (line === "") {
          if (data.length > 0) on({ event, id, data: data.join("\n") });
          event = "message";
          data = [];
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const v = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "event") event = v;
        else if (field === "data") data.push(v);
        else if (field === "id") id = v;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

/** Fetches an intent's receipt bundle and saves it as `receipt-<intent>.json` through a download link. */
export async function downloadBundle(client: WorldkernelClient, worldId: string, intentId: string): Promise<void> {
  const bundle = await client.bundle(worldId, intentId);
  const blob = new Blob([JSON.stringify(bundle, null, 2) + "\n"], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = `receipt-${intentId.replace(/^sha256:/, "").slice(0, 16)}.json`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The click has handed the blob to the browser's download; the URL may go after this task.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

async function errorOf(res: Response): Promise<ApiError> {
  try {
    const e = ((await res.json()) as { error?: { code?: string; message?: string; path?: string } }).error;
    return new ApiError(res.status, e?.code ?? `http.${res.status}`, e?.message ?? res.statusText, e?.path);
  } catch {
    return new ApiError(res.status, `http.${res.status}`, res.statusText);
  }
}
