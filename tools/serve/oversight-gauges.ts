/**
 * @module The `wk_oversight_*` series of `GET /metrics`: the oversight metrics of each world
 * (oversight.ts, the same numbers as `wk analyze --metrics`) as prom-client gauges set when
 * scraped. Gauges, not counters: each scrape reads a fold of the whole journal, not increments
 * this process saw, so a restarted server reports the same values. A metric the report gives as
 * null (a rate with nothing to count, a median of nothing) has no sample.
 */
import { Gauge, type Registry } from "prom-client";
import type { AnalysisReport, NsStats, OversightMetrics } from "../../kernel/analysis/index.js";

type Sample = [labels: Record<string, string>, value: number | null];

/** One series: its name, help, labels besides `world`, and its samples from a world's metrics. */
interface Series {
  name: string;
  help: string;
  labels: string[];
  samples: (m: OversightMetrics) => Sample[];
}

/** Per module: one of the module's counts. */
const perModule = (
  name: string,
  help: string,
  value: (x: OversightMetrics["modules"][string]) => number | null,
): Series => ({
  name,
  help,
  labels: ["module"],
  samples: (m) => Object.entries(m.modules).map(([module, x]) => [{ module }, value(x)]),
});

/** Spend by grant or by module, in tokens or cents. */
const spend = (by: "grant" | "module", unit: "tokens" | "cents"): Series => ({
  name: `wk_oversight_${by}_spend_${unit}`,
  help: `${unit} spent per ${by}, from the receipts' costs`,
  labels: [by],
  samples: (m) =>
    Object.entries(by === "grant" ? m.spend.by_grant : m.spend.by_module).map(([k, s]) => [{ [by]: k }, s[unit]]),
});

/** Median and max of durations in ns, as seconds. */
const stats = (s: NsStats, labels: Record<string, string> = {}): Sample[] => [
  [{ ...labels, stat: "median" }, s.median === null ? null : Number(BigInt(s.median)) / 1e9],
  [{ ...labels, stat: "max" }, s.max === null ? null : Number(BigInt(s.max)) / 1e9],
];

/** An escalation's key, `<code> grant <grant>` (metrics.ts): codes have no spaces, a grant name may. */
function escalation(key: string): { code: string; grant: string } {
  const m = /^(\S+) grant (.*)$/.exec(key);
  return m === null ? { code: key, grant: "" } : { code: m[1]!, grant: m[2]! };
}

const SERIES: Series[] = [
  perModule("wk_oversight_gated", "intents the gate decided, per module", (x) => x.gated),
  perModule("wk_oversight_allowed", "intents the gate allowed outright", (x) => x.allowed),
  perModule("wk_oversight_denied", "intents the gate denied", (x) => x.denied_by_gate),
  perModule("wk_oversight_escalated", "intents the gate held for an approver", (x) => x.escalated),
  perModule("wk_oversight_approved", "held intents an approver allowed", (x) => x.approved),
  perModule("wk_oversight_refused", "held intents an approver refused", (x) => x.refused),
  perModule(
    "wk_oversight_intervention_ratio",
    "approvers' decisions per gated decision (no sample: nothing gated)",
    (x) => x.intervention_rate,
  ),
  {
    name: "wk_oversight_escalations",
    help: "escalations to an approver by the gate's code and the grant",
    labels: ["code", "grant"],
    samples: (m) => Object.entries(m.escalations).map(([k, n]) => [escalation(k), n]),
  },
  spend("grant", "tokens"),
  spend("grant", "cents"),
  spend("module", "tokens"),
  spend("module", "cents"),
  {
    name: "wk_oversight_audit_receipt_completeness_ratio",
    help: "share of intents with a receipt in the journal (no sample: no intent)",
    labels: [],
    samples: (m) => [[{}, m.audit.receipt_completeness]],
  },
  {
    name: "wk_oversight_audit_reasoning_completeness_ratio",
    help: "share of intents whose step recorded its reasoning (no sample: no intent)",
    labels: [],
    samples: (m) => [[{}, m.audit.reasoning_completeness]],
  },
  {
    name: "wk_oversight_held_to_result_seconds",
    help: "held intents performed: journal time from the step that asked to the receipt, stat median or max",
    labels: ["stat"],
    samples: (m) => stats(m.held_to_result_ns),
  },
  {
    name: "wk_oversight_held_results",
    help: "held intents performed with a timed receipt (what the held-to-result median and max are of)",
    labels: [],
    samples: (m) => [[{}, m.held_to_result_ns.count]],
  },
  {
    name: "wk_oversight_detection_lag_seconds",
    help: "journal time from a finding's first seq to the seq its detector found it at, stat median or max",
    labels: ["detector", "stat"],
    samples: (m) => Object.entries(m.detection_lag_ns).flatMap(([detector, s]) => stats(s, { detector })),
  },
  {
    name: "wk_oversight_detections",
    help: "findings with a detection lag, per detector",
    labels: ["detector"],
    samples: (m) => Object.entries(m.detection_lag_ns).map(([detector, s]) => [{ detector }, s.count]),
  },
];

/** Registers the oversight gauges on `registry`; `reports` gives each world's report when scraped. */
export function registerOversightGauges(
  registry: Registry,
  reports: () => Promise<readonly [world: string, report: AnalysisReport][]>,
): void {
  for (const s of SERIES)
    new Gauge({
      name: s.name,
      help: s.help,
      labelNames: ["world", ...s.labels],
      registers: [registry],
      async collect() {
        const all = await reports();
        this.reset();
        for (const [world, r] of all) {
          if (r.metrics === undefined) continue;
          for (const [labels, v] of s.samples(r.metrics)) if (v !== null) this.set({ world, ...labels }, v);
        }
      },
    });
}
