/**
 * @module OpenTelemetry spans of what the server journals: `ingress` (one request's events) →
 * `step` (a module step it caused) → `intent` (an effect the step issued) → `receipt` (the
 * effect's signed outcome, timed by the receipt's own start and finish), one trace per
 * request, every span carrying `wk.world` and, where it has one, `wk.intent_id`. Exported over
 * OTLP/HTTP when an endpoint is configured; off by default, and then not even loaded: the
 * OpenTelemetry packages are imported only by `startTracing` with an endpoint.
 */
import type { Context, Span, SpanContext, Tracer } from "@opentelemetry/api";
import { decodeStored } from "../../air/cbor/decode.js";
import type { CborObject } from "../../air/cbor/value.js";
import type { JournalEntry } from "../../kernel/journal/index.js";
import type { SendResult } from "../../kernel/world/world.js";

/** Spans for one server; null when tracing is off. */
export interface Tracing {
  /** Runs one ingest request inside an `ingress` span, then records the steps and intents its events caused. */
  ingress(
    world: string,
    read: (seq: number) => JournalEntry | null,
    send: () => Promise<SendResult[]>,
  ): Promise<SendResult[]>;
  /** Records `receipt` spans for newly journaled receipts, each a child of its intent's span. */
  receipts(world: string, entries: readonly JournalEntry[]): void;
  /** Exports what is buffered and stops. */
  shutdown(): Promise<void>;
}

/** Intents whose span a later receipt may still name (oldest forgotten first). */
const MAX_OPEN_INTENTS = 10_000;

const nsToHr = (ns: bigint): [number, number] => [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)];
const big = (v: unknown): bigint => (typeof v === "bigint" ? v : BigInt(Number(v ?? 0)));

/** Starts exporting spans to `endpoint` (an OTLP/HTTP base URL, `…/v1/traces` is appended); null without one. */
export async function startTracing(endpoint: string | undefined, service = "worldkernel"): Promise<Tracing | null> {
  if (endpoint === undefined || endpoint === "") return null;
  const [api, sdk, otlp, resources] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const exporter = new otlp.OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` });
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({ "service.name": service }),
    spanProcessors: [new sdk.BatchSpanProcessor({ exporter })],
  });
  const tracer: Tracer = provider.getTracer("worldkernel.serve");
  const intents = new Map<string, SpanContext>();
  const remember = (id: string, ctx: SpanContext) => {
    intents.set(id, ctx);
    if (intents.size > MAX_OPEN_INTENTS) intents.delete(intents.keys().next().value!);
  };
  const child = (name: string, parent: Span, attributes: Record<string, string | number | boolean>): Span =>
    tracer.startSpan(name, { attributes }, api.trace.setSpan(api.context.active(), parent) as Context);

  return {
    async ingress(world, read, send) {
      const span = tracer.startSpan("ingress", { attributes: { "wk.world": world } });
      try {
        const results = await send();
        span.setAttribute("wk.events", results.length);
        for (const r of results) {
          if (r.duplicate === true) continue;
          for (let seq = r.seq; seq < r.seq + r.entries; seq++) {
            const e = read(seq);
            if (e === null || e.kind !== "step") continue;
            const b = decodeStored(e.body) as CborObject;
            const step = child("step", span, {
              "wk.world": world,
              "wk.seq": seq,
              "wk.module": String(b.module),
              "wk.ok": b.ok === true,
              "wk.fuel": Number(b.fuel),
            });
            for (const id of (b.intents as string[] | undefined) ?? []) {
              const intent = child("intent", step, { "wk.world": world, "wk.intent_id": id });
              remember(id, intent.spanContext());
              intent.end();
            }
            step.end();
          }
        }
        return results;
      } catch (e) {
        span.recordException(e as Error);
        span.setStatus({ code: api.SpanStatusCode.ERROR, message: (e as { code?: string }).code ?? "error" });
        throw e;
      } finally {
        span.end();
      }
    },
    receipts(world, entries) {
      for (const e of entries) {
        if (e.kind !== "effect_receipt") continue;
        const b = decodeStored(e.body) as CborObject;
        const r = b.receipt as CborObject;
        const id = String(b.intent_id);
        const parent = intents.get(id);
        intents.delete(id);
        const ctx = parent ? api.trace.setSpanContext(api.ROOT_CONTEXT, parent) : api.ROOT_CONTEXT;
        const span = tracer.startSpan(
          "receipt",
          {
            startTime: nsToHr(big(r.started_ns)),
            attributes: {
              "wk.world": world,
              "wk.intent_id": id,
              "wk.seq": e.seq,
              "wk.effect_kind": String(r.effect_kind),
              "wk.status": String(r.status),
            },
          },
          ctx,
        );
        if (r.status !== "ok") span.setStatus({ code: api.SpanStatusCode.ERROR, message: String(r.status) });
        span.end(nsToHr(big(r.finished_ns)));
      }
    },
    async shutdown() {
      await provider.shutdown();
    },
  };
}
