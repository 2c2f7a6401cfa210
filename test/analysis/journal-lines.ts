/**
 * @module Reading a recorded world's journal as the analysis does: its entries in the JSON form
 * (`entryToJson`, what `wk log --ndjson` prints), then every detector or one of them.
 */
import { decodeStored } from "../../air/index.js";
import {
  analyzeLines,
  defaultAnalysisConfig,
  detect,
  factOf,
  lineOfEntry,
  type AnalysisConfig,
  type AnalysisReport,
  type Detector,
  type Fact,
  type Finding,
  type JournalLine,
} from "../../kernel/analysis/index.js";
import { openWorldJournalReadonly } from "../../kernel/world/journal-open.js";

/** Every entry of the world at `dir`, as JSON lines. */
export async function linesOf(dir: string): Promise<JournalLine[]> {
  const store = await openWorldJournalReadonly(dir);
  try {
    return [...store.iterateSync()].map((e) => lineOfEntry(e, decodeStored(e.body)));
  } finally {
    await store.close();
  }
}

/** Thresholds: the defaults with `patch` applied per section. */
export function configWith(patch: { [S in keyof AnalysisConfig]?: Partial<AnalysisConfig[S]> } = {}): AnalysisConfig {
  const c = defaultAnalysisConfig();
  for (const [k, v] of Object.entries(patch)) Object.assign(c[k as keyof AnalysisConfig], v);
  return c;
}

/** One detector's findings over the world at `dir`. */
export async function findingsOf(
  d: Detector,
  dir: string,
  opts: { config?: AnalysisConfig; nowNs?: bigint } = {},
): Promise<Finding[]> {
  const lines = await linesOf(dir);
  const facts = lines.map(factOf).filter((f): f is Fact => f !== null);
  let latest = 0n;
  for (const f of facts) {
    const t = f.kind === "event" ? f.nowNs : f.kind === "receipt" ? f.finishedNs : null;
    if (t !== null && t > latest) latest = t;
  }
  return detect(d, opts.config ?? defaultAnalysisConfig(), facts, {
    nowNs: opts.nowNs ?? latest,
    lastSeq: lines[lines.length - 1]?.seq ?? -1,
  });
}

/** Every detector over the world at `dir`. */
export async function reportOf(dir: string, strict = false): Promise<AnalysisReport> {
  return analyzeLines(await linesOf(dir), { config: defaultAnalysisConfig(), strict, checked: "none" });
}
