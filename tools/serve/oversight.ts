/**
 * @module The oversight metrics behind `GET /metrics`: per hosted world, one analysis
 * (kernel/analysis — the detectors and the oversight fold of `wk analyze --metrics`) fed each
 * journal entry once, in seq order: the world's history when the server starts, read from its
 * store, then the entries it journals as they are announced. Entries are folded, never kept, so a
 * restarted server reports the whole history and /metrics agrees with `wk analyze --metrics`.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { Analysis, defaultAnalysisConfig, lineOfEntry, type AnalysisReport } from "../../kernel/analysis/index.js";
import type { JournalEntry } from "../../kernel/journal/index.js";
import type { WorldHost } from "./world-host.js";

/** One world followed: its analysis, the next seq it expects, and the report of what it has read. */
interface Followed {
  analysis: Analysis;
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

  /** Folds newly journaled entries of `host`, first reading from its store any it has not folded before them. */
  observe(host: WorldHost, entries: readonly JournalEntry[]): void {
    const w = this.followed(host);
    for (const e of entries) {
      if (w.failed) return;
      if (e.seq < w.next) continue; // already read from the store
      if (e.seq > w.next) this.readStore(host, w, e.seq - 1);
      this.add(host, w, e);
    }
  }

  /** Folds what `host` has journaled and this has not read yet: on start, the world's whole history. */
  catchUp(host: WorldHost): void {
    const w = this.followed(host);
    this.readStore(host, w, host.height - 1);
  }

  /** Each followed world's report (computed at most once per entry read, however often scraped). */
  reports(): [world: string, report: AnalysisReport][] {
    const out: [string, AnalysisReport][] = [];
    for (const [id, w] of this.worlds) {
      if (w.failed) continue;
      if (w.report?.at !== w.next) w.report = { at: w.next, value: w.analysis.report() };
      out.push([id, w.report.value]);
    }
    return out;
  }

  private followed(host: WorldHost): Followed {
    let w = this.worlds.get(host.id);
    if (w === undefined) {
      const config = host.world.config.analysis ?? defaultAnalysisConfig();
      // `checked` is a field of the report only; the server does not verify on every append.
      const analysis = new Analysis({ config, checked: "none", metrics: true });
      this.worlds.set(host.id, (w = { analysis, next: 0, report: null, failed: false }));
    }
    return w;
  }

  /** Reads entries `w.next`..`to` from the world's store (synchronously: no append interleaves). */
  private readStore(host: WorldHost, w: Followed, to: number): void {
    if (to < w.next) return;
    for (const e of host.world.store.iterateSync(w.next, to)) {
      if (w.failed) return;
      this.add(host, w, e);
    }
  }

  private add(host: WorldHost, w: Followed, e: JournalEntry): void {
    try {
      w.analysis.add(lineOfEntry(e, decodeStored(e.body)));
      w.next = e.seq + 1;
    } catch (x) {
      w.failed = true;
      this.onError(host, x);
    }
  }
}
