/**
 * @module `wk analyze` benchmarks, each beside a same-run baseline, on one 100,000-entry journal
 * recorded through the real kernel from worlds/analysis (the scripted agent): plain steps, A → B
 * chains, fan-outs, gate denials delivered back, held intents. (1) The analysis pass as
 * `wk analyze --no-verify` runs it — every entry read, decoded, turned into its JSON form and
 * folded by the six detectors — against a raw iterate of the same journal (rows read, nothing
 * decoded). (2) `wk analyze`'s default, verification with the analysis riding along in the same
 * pass, against verification alone. The journal is built once and cached under the temp dir
 * (keyed by CACHE_VERSION); delete `wk-bench-analysis-*` there to rebuild.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeStored, encodeCanonical, type CborValue } from "../../air/index.js";
import { Analysis, defaultAnalysisConfig, lineOfEntry } from "../../kernel/analysis/index.js";
import { createWorld, sourceFromAirDir, verifyWorldStore } from "../../kernel/world/index.js";
import { openWorldJournalReadonly } from "../../kernel/world/journal-open.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { compareAsync, type Bench, type BenchResult } from "./harness.js";

const ENTRIES = 100_000;
/** Bump when the cached journal's construction changes. */
const CACHE_VERSION = 2;
const WORLD = new URL("../../worlds/analysis", import.meta.url).pathname;

const params = (url: string): string => {
  const v: CborValue = { method: "GET", url, headers: {}, body_ref: null };
  return Buffer.from(encodeCanonical(v)).toString("base64");
};
const DENIED = [{ kind: "http.request", slot: "net", params: params("http://example.com/") }];
const HELD = [{ kind: "http.request", slot: "held", params: params("http://127.0.0.1:9/") }];

/** The i-th request of the mix: mostly plain steps, with chains, fan-outs, denials and held intents. */
function requestOf(i: number): { schema: string; json: unknown } {
  const k = i % 10;
  return {
    schema: "demo/ToA@1",
    json: {
      key: `cell-${i % 97}`,
      next: k === 1 ? ["demo/ToB@1"] : k === 2 ? ["demo/ToB@1", "demo/ToA@1"] : [],
      fanout: k === 3 ? ["demo/ToC@1", "demo/ToC@1"] : [],
      effects: k === 4 ? DENIED : k === 5 && i % 100 === 5 ? HELD : [],
      then: [],
      on_fail: k === 4 ? "report" : "",
      retries: 0,
      fail: false,
      status: "",
    },
  };
}

/** The cached world holding ≥ ENTRIES entries (built on first use). */
async function journalWorld(): Promise<string> {
  const dir = join(tmpdir(), `wk-bench-analysis-v${CACHE_VERSION}`);
  if (existsSync(join(dir, "journal.db"))) return dir;
  const building = join(mkdtempSync(join(tmpdir(), "wk-bench-analysis-build-")), "w");
  // Throwaway: its anchor log must not outlive it. The clock is fixed: the journal is the same every build.
  const w = await createWorld(building, sourceFromAirDir(WORLD), {
    adapters: defaultAdapters(),
    anchorLog: false,
    synchronous: "NORMAL",
    clock: () => 1_800_000_000_000_000_000n,
  });
  let i = 0;
  while (w.store.countSync() < ENTRIES) {
    await w.sendMany(Array.from({ length: 500 }, () => requestOf(i++)));
  }
  await w.close();
  mkdirSync(join(dir, ".."), { recursive: true });
  rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return dir;
}

export const benchmarks: Bench[] = [
  {
    name: "analysis",
    async run(): Promise<BenchResult[]> {
      const dir = await journalWorld();
      const store = await openWorldJournalReadonly(dir);
      const config = defaultAnalysisConfig();
      const n = store.countSync();
      let findings = 0;
      try {
        const analyze = async () => {
          const a = new Analysis({ config, checked: "none" });
          for (const e of store.iterateSync()) a.add(lineOfEntry(e, decodeStored(e.body)));
          findings = a.report().findings.length;
        };
        const raw = async () => {
          let c = 0;
          for (const e of store.iterateSync()) c += e.body.length > 0 ? 1 : 0;
          if (c !== n) throw new Error("short read");
        };
        const [fig, base] = await compareAsync(
          { label: "wk analyze --no-verify pass (entries/s)", fn: analyze, batch: n },
          { label: "raw iterate of the same journal (entries/s)", fn: raw, batch: n },
          { rounds: 4, sliceMs: 500, warmup: 1 },
        );
        const verified = async () => {
          const a = new Analysis({ config, checked: "verified" });
          const r = await verifyWorldStore(store, {
            requireSealedHead: false,
            alsoCheck: [{ check: (e) => (a.add(lineOfEntry(e, e.value)), null) }],
          });
          if (!r.ok) throw new Error(r.message);
          a.report();
        };
        const verifyOnly = async () => {
          const r = await verifyWorldStore(store, { requireSealedHead: false });
          if (!r.ok) throw new Error(r.message);
        };
        const [vfig, vbase] = await compareAsync(
          { label: "wk analyze pass, verified (entries/s)", fn: verified, batch: n },
          { label: "verification alone (entries/s)", fn: verifyOnly, batch: n },
          { rounds: 2, sliceMs: 500, warmup: 1 },
        );
        return [
          { name: "analysis: detectors over a journal", figure: fig, baseline: base, extra: { entries: n, findings } },
          { name: "analysis: verified analysis", figure: vfig, baseline: vbase, extra: { entries: n } },
        ];
      } finally {
        await store.close();
      }
    },
  },
];
