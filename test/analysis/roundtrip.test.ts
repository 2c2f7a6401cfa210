/**
 * @module Properties of the analysis over random journals the real kernel records (worlds/analysis,
 * requests drawn from a seeded generator: chains, fan-outs, denied, allowed and held effects, what
 * to do with failures, traps). For each journal: its NDJSON export (`entryToJson` per line, what
 * `wk log --ndjson` prints) parses back, line by line and link by link, to the world's own lines
 * and the same report; every finding is well-formed and names seqs the journal has; each detector
 * run alone finds what it finds in the full run; a second run finds the same (no hidden state, no
 * clock); and a run asked for its report along the way (as `wk serve`'s metrics ask) ends with the
 * report of a run asked once. The seed is printed; `WK_TEST_SEED` replays it.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Analysis,
  analyzeLines,
  ChainCheck,
  DETECTORS,
  defaultAnalysisConfig,
  detect,
  factOf,
  FindingSchema,
  parseJournalLine,
  type Fact,
} from "../../kernel/analysis/index.js";
import { generateKeyPair } from "../../kernel/crypto/keys.js";
import { entryToJson } from "../../kernel/journal/entry-json.js";
import { openWorldJournalReadonly } from "../../kernel/world/journal-open.js";
import { below, mulberry32, reproduce, testSeed } from "../seeded.js";
import { startPageServer, type PageServer } from "../world/page-server.js";
import { agentWorld, get, request } from "./agent-world.js";
import { linesOf } from "./journal-lines.js";

const SEED = testSeed();
const FILE = "test/analysis/roundtrip.test.ts";
console.info(`roundtrip seed ${SEED} (${reproduce(SEED, FILE)})`);

let server: PageServer;
beforeAll(async () => {
  server = await startPageServer("ok");
});
afterAll(() => server.close());

const SCHEMAS = ["demo/ToA@1", "demo/ToB@1", "demo/ToC@1"];
const MODES = ["ignore", "report", "claim", "retry"] as const;

/** A random request for worlds/analysis. */
function randomRequest(r: () => number): ReturnType<typeof request> {
  const pick = <T>(xs: readonly T[]): T => xs[below(r, xs.length)]!;
  const effect = below(r, 6);
  return request(`k${below(r, 4)}`, {
    next: Array.from({ length: below(r, 5) }, () => pick(SCHEMAS)),
    fanout: Array.from({ length: below(r, 3) }, () => pick(SCHEMAS.slice(1))),
    effects:
      effect === 0
        ? [get(`http://example.com/${below(r, 3)}`)]
        : effect === 1
          ? [get(`${server.url}/${below(r, 3)}`, pick(["net", "once"]))]
          : effect === 2
            ? [get(`${server.url}/held`, "held")]
            : [],
    on_fail: pick(MODES),
    retries: below(r, 4),
    fail: r() < 0.05,
  });
}

describe("the analysis over random recorded journals", () => {
  for (let round = 0; round < 3; round++) {
    it(`round ${round}: export round trip, well-formed findings, detectors compose, runs repeat, reports along the way`, async () => {
      const r = mulberry32(SEED + round);
      const { w, dir } = await agentWorld(generateKeyPair());
      for (let batch = 0; batch < 4; batch++) await w.sendMany(Array.from({ length: 15 }, () => randomRequest(r)));
      await w.close();
      const why = `seed ${SEED}, round ${round}: ${reproduce(SEED, FILE)}`;

      const lines = await linesOf(dir);
      const store = await openWorldJournalReadonly(dir);
      const ndjson = [...store.iterateSync()].map((e) => JSON.stringify(entryToJson(e)));
      await store.close();
      const chain = new ChainCheck();
      const back = ndjson.map((text, i) => {
        const l = parseJournalLine(text, i + 1);
        chain.next(l, i + 1);
        return l;
      });
      expect(back, why).toEqual(lines);

      const opts = { config: defaultAnalysisConfig(), checked: "none" as const };
      const report = analyzeLines(lines, opts);
      console.info(`${why}: ${report.entries} entries, findings ${JSON.stringify(report.counts)}`);
      expect(analyzeLines(back, opts), why).toEqual(report);
      expect(analyzeLines(lines, opts), why).toEqual(report);

      const seqs = new Set(lines.map((l) => l.seq));
      for (const f of report.findings) {
        expect(() => FindingSchema.parse(f), why).not.toThrow();
        for (const s of f.seqs) expect(seqs.has(s), `${why}: ${f.message} names seq ${s}`).toBe(true);
      }

      const facts = lines.map(factOf).filter((f): f is Fact => f !== null);
      const end = { nowNs: BigInt(report.now_ns), lastSeq: report.range?.[1] ?? -1 };
      const alone = DETECTORS.flatMap((d) => detect(d, opts.config, facts, end));
      const key = (f: { detector: string; message: string }) => `${f.detector} ${f.message}`;
      expect(alone.map(key).sort(), why).toEqual(report.findings.map(key).sort());

      // Reporting changes nothing: reports every few lines, then the same report as one at the end.
      const withMetrics = { ...opts, metrics: true };
      const along = new Analysis(withMetrics);
      lines.forEach((l, i) => {
        along.add(l);
        if (i % (3 + round) === 0) along.report();
      });
      expect(along.report(), why).toEqual(analyzeLines(lines, withMetrics));
    }, 120_000);
  }
});
