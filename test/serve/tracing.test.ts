/**
 * @module OpenTelemetry from a real `wk serve`: with `--otlp-endpoint` pointing at an OTLP/HTTP
 * receiver the test runs on 127.0.0.1, one event that makes the fetcher module fetch a page
 * yields the spans ingress → step → intent → receipt in one trace, the receipt a child of its
 * intent and both naming the intent id; the receipt span is timed by the receipt itself.
 */
import { mkdtempSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFetcherAir } from "../world/fixtures/fetcher.js";
import { createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { killLeftovers, startServe, writeTokens } from "./server-fixture.js";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: { stringValue?: string; intValue?: string; boolValue?: boolean } }[];
}

const spans: OtlpSpan[] = [];
const listen = (s: Server) =>
  new Promise<string>((r) =>
    s.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(s.address() as { port: number }).port}`)),
  );
const receiver = createServer((req, res) => {
  let body = "";
  req.on("data", (d: Buffer) => (body += d.toString()));
  req.on("end", () => {
    if (req.url === "/v1/traces") {
      const doc = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const r of doc.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
    }
    res.writeHead(200, { "content-type": "application/json" }).end("{}");
  });
});
const page = createServer((_req, res) => res.end("hello"));
let otlp = "";
let site = "";
beforeAll(async () => {
  [otlp, site] = await Promise.all([listen(receiver), listen(page)]);
});
afterAll(() => {
  killLeftovers();
  receiver.close();
  page.close();
});

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  return v?.stringValue ?? v?.intValue ?? v?.boolValue;
};

describe("wk serve --otlp-endpoint", () => {
  it("exports ingress → step → intent → receipt spans in one trace, linked by intent id", async () => {
    const base = mkdtempSync(join(tmpdir(), "wk-otel-"));
    const air = writeFetcherAir(join(base, "air"));
    const dir = join(base, "w");
    await (await createWorld(dir, sourceFromAirDir(air), { adapters: defaultAdapters() })).close();
    const { file: tokens, tokens: roles } = writeTokens(base);
    const server = await startServe([dir], tokens, ["--otlp-endpoint", otlp]);
    const auth = { authorization: `Bearer ${roles.admin}` };
    const id = server.worlds[0]!;
    const listening = { url: server.url };
    const sent = await fetch(`${listening.url}/v1/worlds/${id}/events`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ schema: "demo/Fetch@1", value: { key: "a", url: `${site}/one` } }),
    });
    expect(sent.status, await sent.clone().text()).toBe(201);
    // The receipt is journaled after the response (dispatch runs in the background): wait for it.
    for (let i = 0; i < 400; i++) {
      const r = (await (await fetch(`${listening.url}/v1/worlds/${id}/receipts`, { headers: auth })).json()) as {
        intents: { receipt: unknown }[];
      };
      if (r.intents[0]?.receipt) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await server.stop()).code, "the drain flushes the spans and exits 0").toBe(0);

    const byName = (n: string) => spans.filter((s) => s.name === n);
    const [ingress, step, intent, receipt] = ["ingress", "step", "intent", "receipt"].map((n) => {
      expect(byName(n), `one ${n} span in ${JSON.stringify(spans.map((s) => s.name))}`).toHaveLength(1);
      return byName(n)[0]!;
    });
    expect(new Set([ingress, step, intent, receipt].map((s) => s!.traceId)).size).toBe(1);
    expect(step!.parentSpanId).toBe(ingress!.spanId);
    expect(intent!.parentSpanId).toBe(step!.spanId);
    expect(receipt!.parentSpanId).toBe(intent!.spanId);
    expect(attr(receipt!, "wk.intent_id")).toBe(attr(intent!, "wk.intent_id"));
    expect(attr(receipt!, "wk.status")).toBe("ok");
    expect(attr(step!, "wk.module")).toBe("demo/Fetcher@1");
    expect(attr(ingress!, "wk.world")).toBe(id);
    // Timed by the receipt's own fields: it starts no earlier than the request that caused it.
    expect(BigInt(receipt!.startTimeUnixNano) >= BigInt(ingress!.startTimeUnixNano)).toBe(true);
    expect(BigInt(receipt!.endTimeUnixNano) >= BigInt(receipt!.startTimeUnixNano)).toBe(true);
  }, 60_000);
});
