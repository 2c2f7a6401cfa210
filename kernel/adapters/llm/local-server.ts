/**
 * @module A tiny OpenAI-compatible HTTP server (node:http) answering `POST
 * /v1/chat/completions` with the deterministic local provider. Tests and the demo start it
 * on 127.0.0.1 and point the `openai` provider at it, so the real HTTP path is exercised.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { localComplete } from "./local-provider.js";
import type { ChatMessage } from "./messages.js";

/** A running local server; `baseUrl` ends in `/v1`. */
export interface LocalLlmServer {
  baseUrl: string;
  server: Server;
  /** Requests seen so far (method, path, headers), for tests and the demo log. */
  requests: { path: string; headers: IncomingMessage["headers"] }[];
  close(): Promise<void>;
}

/** Options: bind host/port, an optional required API key, and an optional model that always fails (500). */
export interface LocalLlmServerOptions {
  host?: string;
  port?: number;
  apiKey?: string;
  failModel?: string;
}

/** Starts the server and resolves once it listens. */
export async function startLocalLlmServer(opts: LocalLlmServerOptions = {}): Promise<LocalLlmServer> {
  const requests: LocalLlmServer["requests"] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ path: req.url ?? "", headers: req.headers });
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (req.method !== "POST" || req.url !== "/v1/chat/completions")
        return send(404, { error: { message: "not found" } });
      if (opts.apiKey && req.headers.authorization !== `Bearer ${opts.apiKey}`)
        return send(401, { error: { message: "bad api key" } });
      let body: { model?: unknown; messages?: unknown; max_tokens?: unknown };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as typeof body;
      } catch {
        return send(400, { error: { message: "body is not JSON" } });
      }
      const model = typeof body.model === "string" ? body.model : "";
      if (opts.failModel !== undefined && model === opts.failModel)
        return send(500, { error: { message: "model is overloaded" } });
      if (!Array.isArray(body.messages)) return send(400, { error: { message: "messages must be a list" } });
      const maxTokens = typeof body.max_tokens === "number" ? body.max_tokens : 256;
      const c = localComplete(model, body.messages as ChatMessage[], maxTokens);
      send(200, {
        id: "chatcmpl-local",
        object: "chat.completion",
        model,
        choices: [{ index: 0, message: { role: "assistant", content: c.text }, finish_reason: c.finishReason }],
        usage: {
          prompt_tokens: c.promptTokens,
          completion_tokens: c.completionTokens,
          total_tokens: c.promptTokens + c.completionTokens,
        },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", resolve));
  const a = server.address() as AddressInfo;
  const host = a.family === "IPv6" ? `[${a.address}]` : a.address;
  return {
    baseUrl: `http://${host}:${a.port}/v1`,
    server,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
