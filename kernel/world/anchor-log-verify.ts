/**
 * @module `wk verify` over the anchor log (anchor-log.ts): a world directory verified as
 * `verifyWorldDir` does, then held to every line of its log on this machine (`rolled_back`,
 * `bad_anchor_log`).
 */
import type { VerifyResult } from "../journal/verify.js";
import type { WorldJournal } from "../journal/world-journal.js";
import {
  anchorLogPath,
  anchorLogStatus,
  holdToAnchorLog,
  readAnchorLog,
  type AnchorLogOption,
  type AnchorLogRead,
  type AnchorLogStatus,
} from "./anchor-log.js";
import { existsSync } from "node:fs";
import { worldPaths } from "../journal/world-paths.js";
import { readConfig } from "./config.js";
import { openWorldJournal, openWorldJournalReadonly } from "./journal-open.js";
import { verifyWorldDir, verifyWorldStore, type VerifyWorldOptions } from "./verify-world.js";

/** A world verification with what its anchor log said (absent when the journal itself failed first). */
export interface AnchoredVerifyResult extends VerifyResult {
  anchor_log?: AnchorLogStatus;
  /** bad_anchor_log: the 1-based line of the log at fault. */
  anchor_log_line?: number;
}

/** Options of `verifyWorldAnchored`: those of `verifyWorldDir` and the log to hold the journal to. */
export interface AnchoredVerifyOptions extends VerifyWorldOptions {
  /** A log file, false to skip the log, or undefined for this machine's log of the world. */
  anchorLog?: AnchorLogOption;
}

/**
 * Verifies the world at `dir` (chain, tree, signatures, rules, CAS), then holds it to every
 * line of its anchor log. The journal is compared as it is after the log was read, so a writer
 * sealing meanwhile (it appends to the log after its commit) never looks like a cut.
 */
export async function verifyWorldAnchored(
  dir: string,
  opts: AnchoredVerifyOptions = {},
): Promise<AnchoredVerifyResult> {
  const { anchorLog, ...verifyOpts } = opts;
  const paths = worldPaths(dir);
  const config = existsSync(paths.config) ? readConfig(paths.config) : undefined;
  if (config?.store !== undefined) {
    // A PostgreSQL world: one read-only open (its mirror is loaded once) for both. The mirror is
    // the database as of the open, so the log is read first (the database names the world by
    // config's id: its genesis cannot say another).
    const path = anchorLogPath(config.world_id, anchorLog);
    const read = path === null ? null : readAnchorLog(path);
    const store = await openWorldJournal(dir, config, { readonly: true });
    try {
      const r = await verifyWorldStore(store, verifyOpts);
      return !r.ok || read === null ? notHeld(r, anchorLog) : holdStore(store, r, path!, read);
    } finally {
      await store.close();
    }
  }
  const r = await verifyWorldDir(dir, verifyOpts);
  if (!r.ok || anchorLog === false) return notHeld(r, anchorLog);
  const store = await openWorldJournalReadonly(dir);
  try {
    // A fresh SQLite read sees every commit, so reading the log after the open is enough.
    const path = anchorLogPath(store.genesis().world_id, anchorLog)!;
    return holdStore(store, r, path, readAnchorLog(path));
  } finally {
    await store.close();
  }
}

/** A result not held to a log: the journal failed first, or the log is disabled. */
function notHeld(r: VerifyResult, option: AnchorLogOption): AnchoredVerifyResult {
  return !r.ok || option !== false ? r : { ...r, anchor_log: anchorLogStatus(null, null) };
}

function holdStore(store: WorldJournal, r: VerifyResult, path: string, read: AnchorLogRead): AnchoredVerifyResult {
  const f = holdToAnchorLog(store, path, read, { every: true });
  if (f === null) return { ...r, anchor_log: anchorLogStatus(path, read) };
  return {
    ok: false,
    entries: r.entries,
    checkpoints: r.checkpoints,
    ...(f.seq === undefined ? {} : { first_bad_seq: f.seq }),
    fault: f.fault,
    message: f.message,
    anchor_log: { ...anchorLogStatus(path, read), status: "failed" },
    ...(f.line === undefined ? {} : { anchor_log_line: f.line }),
  };
}
