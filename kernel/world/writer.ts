/**
 * @module The world's single writer: serializes everything that appends (steps, receipt
 * deliveries, approvals, erasures, governance records), reentrantly, appends a batch in one
 * transaction, and keeps the seq the next batch starts at in step with the journal.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import type { AirCatalog } from "../../air/loader.js";
import type { Appended, EntryBodies } from "../journal/index.js";
import type { MigrationOutcome } from "../transition/migrate.js";
import type { Processor } from "./processor.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { KernelError } from "../core/errors.js";
import { Batch } from "../transition/batch.js";

/** One writer at a time over a world's journal. */
export class Writer {
  /** The seq the next appended entry gets. */
  private nextSeq: number;
  private chain: Promise<unknown> = Promise.resolve();
  /** Which writer the current async context holds (reentrancy). */
  private readonly holder = new AsyncLocalStorage<Writer>();

  constructor(private readonly store: WorldJournal) {
    this.nextSeq = store.countSync();
  }

  /** The seq the next appended entry gets (what a snapshot records as its height). */
  get height(): number {
    return this.nextSeq;
  }

  /** Settles once every writer queued so far has run (never rejects). */
  get idle(): Promise<unknown> {
    return this.chain;
  }

  /**
   * Serializes writers: steps, receipt deliveries and governance records never interleave.
   * Reentrant: a write nested in one this writer is already running (an apply inside
   * `w.exclusive(...)`, say) runs inside it, where waiting for the lock its own caller holds
   * would wait forever. The holder is tracked per async context, so only work started by the
   * section itself counts as nested.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.holder.getStore() === this) return fn();
    const held = () => this.holder.run(this, fn);
    const run = this.chain.then(held, held);
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** An empty batch starting at the next seq. */
  batch(): Batch {
    return new Batch(this.nextSeq);
  }

  /** Appends a batch in one transaction and advances the seq counter. */
  async flush(batch: Batch): Promise<Appended[]> {
    if (batch.entries.length === 0) return [];
    // Before the entries that name them: a crash between leaves an unnamed blob, never a missing one.
    for (const b of batch.blobs) this.store.putBlobSync(b);
    const appended = await this.store.appendMany(batch.entries);
    if (appended[0]!.seq !== batch.baseSeq)
      throw new KernelError(
        "kernel.journal_moved",
        `journal moved under the kernel: expected seq ${batch.baseSeq}, got ${appended[0]!.seq}`,
        { expected: String(batch.baseSeq), actual: String(appended[0]!.seq) },
      );
    // An auto checkpoint may follow the batch in the same transaction.
    this.nextSeq = this.store.countSync();
    return appended;
  }

  /** Re-reads the seq counter after an append made straight on the journal. */
  synced(): void {
    this.nextSeq = this.store.countSync();
  }

  /** Appends one record that steps nothing (governance), keeping the seq counter in step. */
  async appendRecord<K extends RecordKind>(kind: K, body: EntryBodies[K]): Promise<number> {
    const a = await this.store.append(kind, body);
    this.synced();
    return a.seq;
  }
}

/** The governance records a writer appends (an apply goes through `appendApply`). */
export type RecordKind = "proposal" | "shadow_report" | "approval" | "apply";

/**
 * Journals an apply, then runs it through the transition: the manifest, the AIR bundle and the
 * migrated cells change there only, exactly as replay changes them at the same seq. `planned`
 * holds the migrations governance ran to write `body`, so they are not run twice.
 */
export async function appendApply(
  parts: { writer: Writer; processor: Processor },
  body: EntryBodies["apply"],
  next: AirCatalog,
  planned?: MigrationOutcome,
): Promise<number> {
  const seq = await parts.writer.appendRecord("apply", body);
  const fault = await parts.processor.run(
    { kind: "apply", seq, body, next, ...(planned ? { planned } : {}) },
    parts.writer.batch(),
  );
  // The body was written from `planned`, so they cannot disagree unless the kernel is wrong.
  if (fault) throw new KernelError("kernel.internal", fault.message, { seq });
  return seq;
}
