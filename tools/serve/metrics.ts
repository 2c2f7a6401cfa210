/**
 * @module What `GET /metrics` reports (prom-client, a registry per server). Most series are
 * read off the entries the server journals, so they count exactly what the journal holds:
 * steps and their fuel, failures by code, gate decisions by stage and code, effect latency by
 * kind and status (the receipt's own start and finish). Append latency, pending intents and
 * approvals, leases, HTTP requests and idempotency hits are measured by the server itself (a hit
 * appends nothing, so no journal could count it). The oversight series are oversight-gauges.ts's.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { decodeStored } from "../../air/cbor/decode.js";
import type { CborObject } from "../../air/cbor/value.js";
import type { JournalEntry } from "../../kernel/journal/index.js";
import type { SendResult } from "../../kernel/world/world.js";

/** Per-world numbers the gauges read at scrape time. */
export interface WorldGauges {
  id: string;
  pendingIntents: number;
  pendingApprovals: number;
  /** 1 while the world's PostgreSQL lease is held, 0 once lost; undefined for SQLite worlds. */
  lease: number | undefined;
}

const num = (v: unknown): number => (typeof v === "bigint" ? Number(v) : typeof v === "number" ? v : 0);

/** The server's metrics. */
export class ServerMetrics {
  readonly registry = new Registry();
  private readonly steps: Counter<"world" | "module" | "ok">;
  private readonly failures: Counter<"world" | "code">;
  private readonly fuel: Counter<"world" | "module">;
  private readonly decisions: Counter<"world" | "stage" | "decision" | "code">;
  private readonly effects: Histogram<"world" | "kind" | "status">;
  readonly append: Histogram<"world">;
  readonly http: Counter<"method" | "route" | "status">;
  private readonly idempotency: Counter<"world" | "result">;

  constructor(gauges: () => WorldGauges[]) {
    const r = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "wk_process_" });
    this.steps = new Counter({
      name: "wk_steps_total",
      help: "module steps journaled",
      labelNames: ["world", "module", "ok"],
      registers: r,
    });
    this.failures = new Counter({
      name: "wk_step_failures_total",
      help: "failed steps by error code",
      labelNames: ["world", "code"],
      registers: r,
    });
    this.fuel = new Counter({
      name: "wk_fuel_total",
      help: "WASM fuel spent by steps",
      labelNames: ["world", "module"],
      registers: r,
    });
    this.decisions = new Counter({
      name: "wk_gate_decisions_total",
      help: "gate and approval decisions by stage, decision and code",
      labelNames: ["world", "stage", "decision", "code"],
      registers: r,
    });
    this.effects = new Histogram({
      name: "wk_effect_duration_seconds",
      help: "effect latency (the receipt's started_ns to finished_ns) by kind and status",
      labelNames: ["world", "kind", "status"],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers: r,
    });
    this.append = new Histogram({
      name: "wk_journal_append_seconds",
      help: "ingress to durable: one request's events journaled with their steps",
      labelNames: ["world"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: r,
    });
    this.http = new Counter({
      name: "wk_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["method", "route", "status"],
      registers: r,
    });
    this.idempotency = new Counter({
      name: "wk_idempotency_requests_total",
      help: "events sent under an idempotency key: hit (answered from an earlier append) or miss (appended)",
      labelNames: ["world", "result"],
      registers: r,
    });
    // Gauges are read when scraped, so they are never stale (prom-client collects each before it renders it).
    const gauge = (name: string, help: string, value: (g: WorldGauges) => number | undefined) =>
      new Gauge({
        name,
        help,
        labelNames: ["world"],
        registers: r,
        collect() {
          this.reset();
          for (const g of gauges()) {
            const v = value(g);
            if (v !== undefined) this.set({ world: g.id }, v);
          }
        },
      });
    gauge("wk_pending_intents", "intents waiting for dispatch or approval", (g) => g.pendingIntents);
    gauge("wk_pending_approvals", "held intents waiting for an approver", (g) => g.pendingApprovals);
    gauge("wk_lease_held", "1 while this server holds the world's PostgreSQL lease", (g) => g.lease);
  }

  /** Counts what newly journaled entries record. */
  observe(world: string, entries: readonly JournalEntry[]): void {
    for (const e of entries) {
      if (e.kind !== "step" && e.kind !== "policy_decision" && e.kind !== "effect_receipt") continue;
      const b = decodeStored(e.body) as CborObject;
      if (e.kind === "step") {
        const module = String(b.module);
        this.steps.inc({ world, module, ok: String(b.ok === true) });
        this.fuel.inc({ world, module }, num(b.fuel));
        if (b.ok !== true)
          this.failures.inc({ world, code: String((b.error as CborObject | null)?.code ?? "unknown") });
      } else if (e.kind === "policy_decision") {
        const code = b.stage === "approval" ? "approval" : String(b.code);
        this.decisions.inc({ world, stage: String(b.stage), decision: String(b.decision), code });
      } else {
        const r = b.receipt as CborObject;
        const seconds = Math.max(0, num(r.finished_ns) - num(r.started_ns)) / 1e9;
        this.effects.observe({ world, kind: String(r.effect_kind), status: String(r.status) }, seconds);
      }
    }
  }

  /** Counts each event sent under an idempotency key by whether its result came from an earlier append. */
  idempotent(
    world: string,
    events: readonly { idempotencyKey?: string | undefined }[],
    results: readonly SendResult[],
  ): void {
    events.forEach((e, i) => {
      if (e.idempotencyKey !== undefined)
        this.idempotency.inc({ world, result: results[i]?.duplicate === true ? "hit" : "miss" });
    });
  }
}
