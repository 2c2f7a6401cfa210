/**
 * @module Verifying a world: the journal's chain, tree and checkpoints (kernel/journal)
 * together with its rules (journal-rules.ts) and its CAS, passed explicitly. `verifyWorld`
 * is what `wk verify`, replay and audit run; `checkTailOnOpen` is the bounded check a
 * writer runs before it appends: from the last signed checkpoint (or the snapshot it boots
 * from, if older) to the head, so its cost follows `checkpoint_every`, not the journal's length.
 */
import { existsSync } from "node:fs";
import {
  JournalError,
  SqliteJournalStore,
  verifyJournal,
  worldPaths,
  type Anchor,
  type EntryChecker,
  type VerifyOptions,
  type VerifyResult,
} from "../journal/index.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { readConfig } from "./config.js";
import { openWorldJournal } from "./journal-open.js";
import { JournalRules } from "./journal-rules.js";

/** Options of a world verification. */
export interface VerifyWorldOptions {
  anchor?: Anchor;
  onProgress?: (done: number, total: number) => void;
  /** Entries after the last checkpoint fail as `uncovered_tail` (default true: a clean close seals the head). */
  requireSealedHead?: boolean;
  pureSignatures?: boolean;
  /** Checks to run after the rules, in the same pass (replay rides along this way: one read, one decode). */
  alsoCheck?: readonly EntryChecker[];
  /** Where the walk's hashing runs (kernel/journal/chain-lane.ts); default "auto". */
  lane?: VerifyOptions["lane"];
}

/** Verifies an open store (chain, tree, checkpoints, rules, CAS). */
export async function verifyWorldStore(store: WorldJournal, opts: VerifyWorldOptions = {}): Promise<VerifyResult> {
  return verifyJournal(store, {
    checks: [new JournalRules(store), ...(opts.alsoCheck ?? [])],
    requireSealedHead: opts.requireSealedHead ?? true,
    ...(opts.anchor ? { anchor: opts.anchor } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    ...(opts.pureSignatures ? { pureSignatures: true } : {}),
    ...(opts.lane ? { lane: opts.lane } : {}),
  });
}

/** Verifies a journal file (opened read-only); a file that is not a journal is a failed result. */
export async function verifyWorld(journalPath: string, opts: VerifyWorldOptions = {}): Promise<VerifyResult> {
  let store: SqliteJournalStore;
  try {
    store = SqliteJournalStore.open(journalPath, { readonly: true });
  } catch (e) {
    // The journal layer maps foreign and broken files to faults; let it, with the same wording.
    return verifyJournal(journalPath);
  }
  try {
    return await verifyWorldStore(store, opts);
  } finally {
    store.closeSync();
  }
}

/** Verifies the world at `dir`, wherever its config.json says its journal lives. */
export async function verifyWorldDir(dir: string, opts: VerifyWorldOptions = {}): Promise<VerifyResult> {
  const paths = worldPaths(dir);
  const config = existsSync(paths.config) ? readConfig(paths.config) : undefined;
  if (config?.store === undefined) return verifyWorld(paths.journal, opts);
  const store = await openWorldJournal(dir, config, { readonly: true });
  try {
    return await verifyWorldStore(store, opts);
  } finally {
    await store.close();
  }
}

/**
 * Checks the tail a writer is about to extend — everything after the snapshot it boots from
 * (`bootSnapshotSeq`, covered by a signed checkpoint), or the whole journal when it boots from
 * genesis — and throws `journal.verify_failed` naming the fault and seq. The rules derive the
 * state the tail implies from that snapshot on, so a snapshot, checkpoint or receipt in the
 * tail that disagrees with it is refused here. What a signed checkpoint covers is trusted as far
 * as its signature attests it (root, head and genesis are re-proven); a full `wk verify`
 * checks the rest.
 */
export async function checkTailOnOpen(store: WorldJournal, bootSnapshotSeq: number | null): Promise<void> {
  const from = bootSnapshotSeq ?? 0;
  const rules = new JournalRules(store, from === 0, bootSnapshotSeq);
  // Materialized: the rules read blobs while seeding, and a connection runs one statement at a time.
  if (from > 0) rules.seed([...store.ruleEntriesSync(0, from - 1)]);
  const r = await verifyJournal(store, { from, checks: [rules], requireSealedHead: false });
  if (!r.ok) throw tailRefusal(store, r);
}

/** The typed refusal of a journal a writer will not extend. */
export function tailRefusal(
  store: { path: string },
  r: { fault?: string; first_bad_seq?: number; message?: string },
): JournalError {
  return new JournalError(
    "journal.verify_failed",
    `the journal fails verification, so it is not opened for writing: ${r.fault} at seq ${r.first_bad_seq}: ${r.message} (run wk verify)`,
    {
      path: store.path,
      ...(r.first_bad_seq === undefined ? {} : { seq: r.first_bad_seq }),
      ...(r.fault === undefined ? {} : { fault: r.fault }),
    },
  );
}
