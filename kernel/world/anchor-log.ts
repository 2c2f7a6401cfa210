/**
 * @module The anchor log: every checkpoint the kernel signs for a world is also appended, as
 * one `Anchor` (kernel/journal/anchor.ts) per line, to a JSONL file kept outside the world
 * folder (default `$WK_STATE_DIR`, else `$XDG_STATE_HOME/worldkernel`, else
 * `~/.local/state/worldkernel`, then `anchors/<world_id>.jsonl`). Opening a world holds its
 * journal to the log's newest anchor, so a journal cut back to an earlier seal, or an older
 * copy of the folder put in its place, is the verify fault `rolled_back`, not a world that
 * verifies. The location never comes from the world folder (an attacker holds that).
 */
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join } from "node:path";
import { toHex } from "../../air/hash.js";
import { anchorOfEntry, parseAnchor, verifyAnchorSignature, type Anchor } from "../journal/anchor.js";
import type { GenesisBody } from "../journal/entries.js";
import { JournalError } from "../journal/errors.js";
import type { Appended } from "../journal/store.js";
import type { VerifyResult } from "../journal/verify.js";
import type { WorldJournal } from "../journal/world-journal.js";

/** Where a world's anchor log is: a file path, `false` (none: a throwaway world), or undefined (the default location). */
export type AnchorLogOption = string | false | undefined;

/** The faults the anchor log adds to verification. */
export type AnchorLogFaultName = "rolled_back" | "bad_anchor_log";

/** Why a journal does not hold to its anchor log: the fault, the seq it concerns, and why. */
export interface AnchorLogFault {
  fault: AnchorLogFaultName;
  /** rolled_back: the journal's length, or the anchored seq whose checkpoint the journal does not hold. */
  seq?: number;
  /** bad_anchor_log: the 1-based line of the log. */
  line?: number;
  /** The newest anchored tree size (rolled_back). */
  anchored_tree_size?: number;
  message: string;
}

/** One anchor of the log with its 1-based line number. */
export interface LoggedAnchor {
  line: number;
  anchor: Anchor;
}

/** A log as read: absent, its anchors (parsed, not yet held to the world), or its first bad line. */
export type AnchorLogRead =
  { kind: "none" } | { kind: "read"; anchors: LoggedAnchor[] } | { kind: "bad"; line: number; message: string };

/** What `wk verify` and `wk info` say about a world's log. */
export interface AnchorLogStatus {
  /** The log file (null: disabled). */
  path: string | null;
  /** ok: the journal holds to it; none: no log for this world on this machine yet; disabled: not checked; failed: a fault. */
  status: "ok" | "none" | "disabled" | "failed";
  /** Anchors in the log. */
  lines: number;
  /** The newest anchored tree size (null: none). */
  tree_size: number | null;
}

/** The user's state directory for worldkernel: `$WK_STATE_DIR`, else `$XDG_STATE_HOME/worldkernel`, else `~/.local/state/worldkernel`. */
export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.WK_STATE_DIR) return env.WK_STATE_DIR;
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec ignores a relative value.
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".local", "state"), "worldkernel");
}

/** The log's file name for a world id: the id itself when it is a plain name (a UUID), else a hash of it (never a path). */
export function anchorLogName(worldId: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(worldId)) return `${worldId}.jsonl`;
  return `sha256-${createHash("sha256").update(worldId, "utf8").digest("hex")}.jsonl`;
}

/** The default log of a world: `<state dir>/anchors/<world_id>.jsonl`. */
export function defaultAnchorLogPath(worldId: string, env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), "anchors", anchorLogName(worldId));
}

/** The log a world uses under `option`: the path given, the default one, or null when disabled. */
export function anchorLogPath(worldId: string, option: AnchorLogOption): string | null {
  if (option === false) return null;
  return option ?? defaultAnchorLogPath(worldId);
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * Reads and parses a log (anchors are checked against the world by `holdToAnchorLog`). A final
 * line without its newline that does not parse is a torn write (a crash while appending) and
 * is skipped; the writer cuts it off before its next line (and ends one that is whole).
 */
export function readAnchorLog(path: string): AnchorLogRead {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { kind: "none" };
    return { kind: "bad", line: 0, message: `the anchor log ${path} cannot be read: ${errorText(e)}` };
  }
  const lines = text.split("\n");
  const torn = lines.pop() ?? ""; // "" when the file ends with a newline
  const anchors: LoggedAnchor[] = [];
  const parseLine = (raw: string): Anchor | string => {
    try {
      return parseAnchor(JSON.parse(raw) as unknown);
    } catch (e) {
      return e instanceof SyntaxError ? "is not JSON" : `is not an anchor: ${errorText(e)}`;
    }
  };
  for (const [i, raw] of lines.entries()) {
    const a = parseLine(raw);
    if (typeof a === "string")
      return { kind: "bad", line: i + 1, message: `line ${i + 1} of the anchor log ${path} ${a}` };
    anchors.push({ line: i + 1, anchor: a });
  }
  if (torn !== "") {
    const a = parseLine(torn);
    if (typeof a !== "string") anchors.push({ line: lines.length + 1, anchor: a });
  }
  return { kind: "read", anchors };
}

/** The anchor with the largest tree size (the log is appended in order; a lagging writer may add an older one late). */
export function newestAnchor(anchors: readonly LoggedAnchor[]): LoggedAnchor | null {
  let best: LoggedAnchor | null = null;
  for (const a of anchors) if (best === null || a.anchor.tree_size >= best.anchor.tree_size) best = a;
  return best;
}

/** A line that names another world, or whose signature does not verify under the world key. */
function badLine(a: LoggedAnchor, genesis: GenesisBody, path: string, signature: boolean): AnchorLogFault | null {
  const key = toHex(genesis.world_public_key);
  const at = `line ${a.line} of the anchor log ${path}`;
  if (a.anchor.world_id !== genesis.world_id || a.anchor.world_public_key !== key)
    return {
      fault: "bad_anchor_log",
      line: a.line,
      message: `${at} names world ${a.anchor.world_id} with key ${a.anchor.world_public_key.slice(0, 16)}…, not this world ${genesis.world_id} with key ${key.slice(0, 16)}…`,
    };
  if (signature && !verifyAnchorSignature(a.anchor))
    return {
      fault: "bad_anchor_log",
      line: a.line,
      message: `${at} carries a signature that does not verify under the world key`,
    };
  return null;
}

/** True when the journal holds, at the anchor's seq, the very checkpoint the anchor copies. */
function holdsAnchor(store: WorldJournal, genesis: GenesisBody, a: Anchor): boolean {
  const entry = store.getSync(a.seq);
  if (entry === null || entry.kind !== "checkpoint") return false;
  const mine = anchorOfEntry(genesis, entry);
  const fields = ["tree_size", "root", "head_hash", "state_root", "manifest_hash", "signature", "seq"] as const;
  return fields.every((f) => mine[f] === a[f]) && toHex(store.rootSync(a.tree_size)) === a.root;
}

/** The fault of a journal whose entries do not reach, or do not hold, an anchored checkpoint. */
function rolledBack(
  store: WorldJournal,
  genesis: GenesisBody,
  a: LoggedAnchor,
  path: string,
  newest: Anchor,
): AnchorLogFault | null {
  const n = store.countSync();
  const last = `the anchor log ${path} last anchored tree size ${newest.tree_size} (the checkpoint at seq ${newest.seq})`;
  if (n <= a.anchor.seq)
    return {
      fault: "rolled_back",
      seq: n,
      anchored_tree_size: newest.tree_size,
      message: `${last}; the journal has only ${n} entries: it was cut back to an earlier seal, or an older copy of the world was put in its place`,
    };
  if (holdsAnchor(store, genesis, a.anchor)) return null;
  const what = store.getSync(a.anchor.seq)!.kind;
  const why =
    toHex(store.rootSync(a.anchor.tree_size)) === a.anchor.root
      ? "the same entries, another checkpoint over them"
      : `its tree root at size ${a.anchor.tree_size} differs`;
  return {
    fault: "rolled_back",
    seq: a.anchor.seq,
    anchored_tree_size: newest.tree_size,
    message: `${last}; the journal's ${what} at seq ${a.anchor.seq}${a.anchor === newest ? "" : ` (anchored on line ${a.line})`} is not that checkpoint (${why}): another copy of the world was put in its place`,
  };
}

/**
 * Holds the journal to a log as read. `every` (what `wk verify` does) checks every line's
 * signature and that the journal holds every anchored checkpoint; otherwise (opening a world,
 * a cost independent of the log's length) every line's world and the newest line's signature
 * and checkpoint. Null when the journal holds.
 */
export function holdToAnchorLog(
  store: WorldJournal,
  path: string,
  read: AnchorLogRead,
  opts: { every: boolean },
): AnchorLogFault | null {
  if (read.kind === "none") return null;
  if (read.kind === "bad") return { fault: "bad_anchor_log", line: read.line, message: read.message };
  const genesis = store.genesis();
  const newest = newestAnchor(read.anchors);
  if (newest === null) return null;
  for (const a of read.anchors) {
    const bad = badLine(a, genesis, path, opts.every || a === newest);
    if (bad !== null) return bad;
  }
  const first = rolledBack(store, genesis, newest, path, newest.anchor);
  if (first !== null || !opts.every) return first;
  for (const a of read.anchors) {
    const f = rolledBack(store, genesis, a, path, newest.anchor);
    if (f !== null) return f;
  }
  return null;
}

/** The status line of a log that holds (or is absent, or disabled). */
export function anchorLogStatus(path: string | null, read: AnchorLogRead | null): AnchorLogStatus {
  if (path === null) return { path: null, status: "disabled", lines: 0, tree_size: null };
  if (read === null || read.kind !== "read") return { path, status: "none", lines: 0, tree_size: null };
  const newest = newestAnchor(read.anchors);
  return {
    path,
    status: newest === null ? "none" : "ok",
    lines: read.anchors.length,
    tree_size: newest?.anchor.tree_size ?? null,
  };
}

function isAnchorText(text: string): boolean {
  try {
    parseAnchor(JSON.parse(text) as unknown);
    return true;
  } catch {
    return false;
  }
}

/** Appends anchors, one per line (dirs 0700, file 0600), mending a torn last line first; fsyncs the file (and its folder when new). */
export function appendAnchorLines(path: string, anchors: readonly Anchor[]): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created = !existsSync(path);
  const fd = openSync(path, "a+", 0o600);
  try {
    const size = fstatSync(fd).size;
    if (size > 0) {
      const lastByte = Buffer.alloc(1);
      readSync(fd, lastByte, 0, 1, size - 1);
      if (lastByte[0] !== 0x0a) {
        // The last line lost its newline (a crash while appending): end it if it is a whole anchor, else cut it off.
        const bytes = readFileSync(path);
        const cut = bytes.lastIndexOf(0x0a) + 1;
        if (isAnchorText(bytes.subarray(cut).toString("utf8"))) writeSync(fd, "\n");
        else ftruncateSync(fd, cut);
      }
    }
    writeSync(fd, anchors.map((a) => JSON.stringify(a) + "\n").join(""));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (created) {
    try {
      const d = openSync(dir, "r");
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    } catch {
      // Not every platform fsyncs a directory; the file itself is durable.
    }
  }
}

/**
 * Keeps a world's log up to date: after each write it anchors the checkpoints newer than the
 * last one anchored. Automatic checkpoints end their batch, so a write's own results and the
 * head (in memory for a writer) say when to look; the index is read only then, and the log
 * file written only at a seal.
 */
export class AnchorLogKeeper {
  /** True when the journal may hold a checkpoint the log lacks (at open, or after a failed append). */
  private behind: boolean;

  constructor(
    private readonly store: WorldJournal,
    private readonly genesis: GenesisBody,
    /** The log file. */
    readonly path: string,
    /** The seq of the newest checkpoint in the log (-1: none). */
    private anchoredSeq: number,
  ) {
    this.behind = (store.latestOfKind("checkpoint")?.seq ?? -1) > anchoredSeq;
  }

  /** Called with a write's result once it is durable; returns it. */
  after<T extends Appended | Appended[]>(written: T): T {
    const list: Appended[] = Array.isArray(written) ? written : [written];
    const last = list.length === 0 ? -1 : list[list.length - 1]!.seq;
    if (this.behind || list.some((a) => a.kind === "checkpoint") || this.store.countSync() - 1 > last) this.anchor();
    return written;
  }

  /**
   * Anchors the checkpoints the log lacks: every one since the last anchored (a write may end
   * with two: a seal and the automatic one after it), or only the latest when the log has none
   * for this world yet. A failure warns (the journal stays as it is) and is retried at the next write.
   */
  private anchor(): void {
    const latest = this.store.latestOfKind("checkpoint");
    this.behind = false;
    if (latest === null || latest.seq <= this.anchoredSeq) return;
    const fresh =
      this.anchoredSeq < 0
        ? [latest]
        : [...this.store.rareEntriesSync(this.anchoredSeq + 1, latest.seq)].filter((e) => e.kind === "checkpoint");
    try {
      appendAnchorLines(
        this.path,
        fresh.map((e) => anchorOfEntry(this.genesis, e)),
      );
      this.anchoredSeq = latest.seq;
    } catch (e) {
      this.behind = true;
      process.emitWarning(
        `the checkpoint at seq ${latest.seq} could not be added to the anchor log ${this.path}: ${errorText(e)} (the journal is unaffected; the log is retried at the next write)`,
        { code: "WK_ANCHOR_LOG" },
      );
    }
  }
}

type JournalWrites = Pick<WorldJournal, "append" | "appendMany" | "checkpoint" | "erase">;

/** The store with its writes followed by the keeper (every other member is the store's own, bound to it). */
export function anchoredJournal(store: WorldJournal, keeper: AnchorLogKeeper): WorldJournal {
  const writes: JournalWrites = {
    append: async (kind, body) => keeper.after(await store.append(kind, body)),
    appendMany: async (items) => keeper.after(await store.appendMany(items)),
    checkpoint: async (key, state) => keeper.after(await store.checkpoint(key, state)),
    erase: async (hash, reason, extra) => keeper.after(await store.erase(hash, reason, extra)),
  };
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, prop) {
      if (Object.hasOwn(writes, prop)) return writes[prop as keyof JournalWrites];
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== "function") return v;
      let b = bound.get(prop);
      if (b === undefined) bound.set(prop, (b = (v as (...args: unknown[]) => unknown).bind(target)));
      return b;
    },
  });
}

/**
 * What a World does with its store when it opens (or is created or forked): holds the journal
 * to its anchor log (throws `journal.verify_failed` with fault `rolled_back` or
 * `bad_anchor_log`, so nothing is appended) and returns the store with its seals anchored.
 */
export function withAnchorLog(store: WorldJournal, option: AnchorLogOption): WorldJournal {
  if (store.readonly) return store;
  const genesis = store.genesis();
  const path = anchorLogPath(genesis.world_id, option);
  if (path === null) return store;
  const read = readAnchorLog(path);
  const fault = holdToAnchorLog(store, path, read, { every: false });
  if (fault !== null) throw anchorLogError(store, path, fault);
  const newest = read.kind === "read" ? newestAnchor(read.anchors) : null;
  return anchoredJournal(store, new AnchorLogKeeper(store, genesis, path, newest?.anchor.seq ?? -1));
}

/** The typed error of a fault found when opening a world. */
export function anchorLogError(store: WorldJournal, logPath: string, f: AnchorLogFault): JournalError {
  return new JournalError(
    "journal.verify_failed",
    `the journal fails its anchor log, so it is not opened for writing: ${f.fault}${f.seq === undefined ? "" : ` at seq ${f.seq}`}: ${f.message} (run wk verify)`,
    {
      path: f.fault === "bad_anchor_log" ? logPath : store.path,
      ...(f.seq === undefined ? {} : { seq: f.seq }),
      fault: f.fault,
    },
  );
}

/**
 * A verification result held to the world's anchor log as well (replay runs this before it
 * re-executes): the result itself when it already failed, the log is disabled, or the journal holds.
 */
export function holdResultToAnchorLog(store: WorldJournal, r: VerifyResult, option: AnchorLogOption): VerifyResult {
  if (!r.ok) return r;
  const path = anchorLogPath(store.genesis().world_id, option);
  if (path === null) return r;
  const f = holdToAnchorLog(store, path, readAnchorLog(path), { every: true });
  if (f === null) return r;
  return {
    ok: false,
    entries: r.entries,
    checkpoints: r.checkpoints,
    fault: f.fault,
    ...(f.seq === undefined ? {} : { first_bad_seq: f.seq }),
    message: f.message,
  };
}

/** What `wk info` shows of a world's log on this machine: where it is, its anchors, the newest anchored size (not checked: `wk verify` does). */
export interface AnchorLogInfo {
  path: string;
  lines: number;
  tree_size: number | null;
  /** The log's first bad line, if it has one. */
  problem?: string;
}

/** Reads what `wk info` shows of the world's log at its default location. */
export function anchorLogInfo(worldId: string): AnchorLogInfo {
  const path = anchorLogPath(worldId, undefined)!;
  const read = readAnchorLog(path);
  if (read.kind === "bad") return { path, lines: 0, tree_size: null, problem: read.message };
  const { lines, tree_size } = anchorLogStatus(path, read);
  return { path, lines, tree_size };
}
