/**
 * @module The journal's own clock, by seq: the times entries record (an event's `now_ns`, a
 * receipt's `finished_ns`), kept in typed arrays — 24 bytes per timed entry, no object each —
 * because the metrics look times up long after the entry (a held intent's cause when its receipt
 * comes, a finding's first seq when the finding is reported), and a server keeps one per world.
 */

/** Times above this do not fit the arrays; no clock this side of the year 2554 records one. */
const MAX_NS = 2n ** 64n - 1n;

/** Recorded times by seq, in seq order. */
export class JournalClock {
  private seqs = new Float64Array(1024);
  private times = new BigUint64Array(1024);
  /** The latest time recorded at or before each index (the clock as a reader of the journal saw it). */
  private latest = new BigUint64Array(1024);
  private n = 0;

  /** Records the time of entry `seq` (seqs ascending); a time the journal cannot mean (negative, past 2^64) is left out. */
  record(seq: number, ns: bigint): void {
    if (ns < 0n || ns > MAX_NS) return;
    if (this.n > 0 && seq <= this.seqs[this.n - 1]!) return;
    if (this.n === this.seqs.length) this.grow();
    const before = this.n === 0 ? 0n : this.latest[this.n - 1]!;
    this.seqs[this.n] = seq;
    this.times[this.n] = ns;
    this.latest[this.n] = ns > before ? ns : before;
    this.n++;
  }

  /** The time entry `seq` recorded, or null when it recorded none. */
  timeOf(seq: number): bigint | null {
    const i = this.indexAtOrBefore(seq);
    return i >= 0 && this.seqs[i] === seq ? this.times[i]! : null;
  }

  /** The journal time at `seq`: the latest time recorded at or before it, or null before the first. */
  at(seq: number): bigint | null {
    const i = this.indexAtOrBefore(seq);
    return i < 0 ? null : this.latest[i]!;
  }

  /** The index of the last recorded seq at or before `seq` (-1: none). */
  private indexAtOrBefore(seq: number): number {
    let lo = 0;
    let hi = this.n - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid]! <= seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }

  private grow(): void {
    const size = this.seqs.length * 2;
    const seqs = new Float64Array(size);
    const times = new BigUint64Array(size);
    const latest = new BigUint64Array(size);
    seqs.set(this.seqs);
    times.set(this.times);
    latest.set(this.latest);
    [this.seqs, this.times, this.latest] = [seqs, times, latest];
  }
}
