/**
 * @module The oversight metrics behind `GET /metrics`: per hosted world, one analysis
 * (kernel/analysis — the detectors and the oversight fold of `wk analyze --metrics`) fed each
 * journal entry once, in seq order, read from the world's store when `/metrics` is scraped: the
 * whole history at the first scrape, then what was journaled since the last one. Folding costs
 * ≈ 10 µs an entry, so it stays off the write path (an append never waits for it) and runs in
 * slices that yield to the event loop (a long history never stalls other requests). Entries are
 * folded, never kept, so a restarted server reports the whole history and /metrics agrees with
 * `wk analyze --metrics`.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { Analysis, defaultAnalysisConfig, lineOfEntry, type AnalysisReport } from "../../kernel/analysis/index.js";
import type { JournalEntry } from "../../kernel/journal/index.js";
import type { WorldHost } from "./world-host.js";

/** Entries folded between two yields to the event loop. */
const SLICE = 2_000;

/** One world followed: its analysis, the next seq it expects, and the report of what it has read. */
interface Followed {
  host: WorldHost;
  analysis: Analysis;
  /** The catch-up in progress, which a concurrent scrape joins. */
  reading: Promise<void> | undefined;
  next: number;
  report: { at: number; value: AnalysisReport } | null;
  /** Set when an entry could not be read: the world's oversight series stop rather than lie. */
  failed: boolean;
}

/** Every hosted world's analysis, fed incrementally. */
export class ServerOversight {
  private readonly worlds = new Map<string, Followed>();

  /** `onError` hears of an entry the analysis refused (a verified journal has none); that world's series then stop. */
  constructor(private readonly onError: (host: WorldHost, e: unknown) => void) {}

  /** Follows `host` from seq 0 (nothing is read until a scrape asks). */
  follow(host: WorldHost): void {
    this.followed(host);
  }

  /** Each followed world's report, after folding what it journaled since the last call. */
  async reports(): Promise<[world: string, report: AnalysisReport][]> {
    const out: [string, AnalysisReport][] = [];
    for (const [id, w] of this.worlds) {
      await this.catchUp(w);
      if (w.failed) continue;
      if (w.report?.at !== w.next) w.report = { at: w.next, value: w.analysis.report() };
      out.push([id, w.report.value]);
    }
    return out;
  }

  /** Reads the world's store up to its height, a slice at a time; concurrent callers share one read. */
  private catchUp(w: Followed): Promise<void> {
    w.reading ??= (async () => {
      try {
        while (!w.failed && w.next < w.host.height) {
          this.readStore(w, Math.min(w.host.height, w.next + SLICE) - 1);
          await new Promise<void>((r) => setImmediate(r));
        }
      } finally {
        w.reading = undefined;
      }
    })();
    return w.reading;
  }

  private followed(host: WorldHost): Followed {
    let w = this.worlds.get(host.id);
    if (w === undefined) {
      const config = host.world.config.analysis ?? defaultAnalysisConfig();
      // `checked` is a field of the report only; the server does not verify on every append.
      const analysis = new Analysis({ config, checked: "none", metrics: true });
      this.worlds.set(host.id, (w = { host, analysis, reading: undefined, next: 0, report: null, failed: false }));
    }
    return w;
  }

  /** Reads entries `w.next`..`to` from the world's store (synchronously: no append interleaves). */
  private readStore(w: Followed, to: number): void {
    if (to < w.next) return;
    for (const e of w.host.world.store.iterateSync(w.next, to)) {
      if (w.failed) return;
      this.add(w, e);
    }
  }

  private add(w: Followed, e: JournalEntry): void {
    try {
      w.analysis.add(lineOfEntry(e, decodeStored(e.body)));
      w.next = e.seq + 1;
    } catch (x) {
      w.failed = true;
      this.onError(w.host, x);
    }
  }
}
