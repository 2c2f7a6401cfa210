/**
 * @module Audit by re-execution. `exportAuditArchive` writes a world (read-only) as one
 * archive (format in audit-archive.ts): the journal rows as stored, every blob the CAS
 * holds, the erasure records, the declared keys and any anchors. `auditArchive` takes such
 * an archive and, holding no secret key, rebuilds a world directory from it in a fresh
 * temporary directory (rows inserted verbatim, the Merkle node table recomputed from the
 * entry hashes, a config.json from genesis, no keys/), then runs `verifyWorld` (chain,
 * tree, signatures, rules, CAS; sealed head required; optionally an external anchor),
 * checks the archive's header and erasure records against the verified journal, checks
 * the archive's own anchors against its checkpoints, re-executes the world with a fresh
 * kernel (`replayWorld`, no adapter) and compares the re-executed state root with the one
 * the last attesting checkpoint signed. The result names what broke: an entry by seq, a
 * blob by hash, an anchor by its index, the archive's structure by byte offset.
 *
 * The archive is built and read as one value in memory (see audit-archive.ts); replay is
 * told the journal is verified, so an audit verifies it once.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeStored } from "../../air/cbor/decode.js";
import { hashToBytes, toHex, type HashText } from "../../air/hash.js";
import { WorldkernelError } from "../../air/errors.js";
import {
  ZERO_STATE_ROOT,
  decodeEntry,
  importVerbatim,
  isJournalError,
  parseEntryBody,
  verifyAnchorSignature,
  worldPaths,
  type Anchor,
  type CheckpointBody,
  type GenesisBody,
  type VerifyResult,
} from "../journal/index.js";
import {
  ArchiveFault,
  declaredKeysOf,
  decodeArchive,
  encodeArchive,
  keysBytes,
  offsetAt,
  type ArchiveEntry,
  type ArchiveErasure,
  type AuditArchive,
} from "./audit-archive.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { openWorldJournalReadonly } from "./journal-open.js";
import { writeConfig } from "./config.js";
import { replayWorld } from "./lifecycle.js";
import { verifyWorld } from "./verify-world.js";

/** Codes of the errors audit export and file reading throw (audit faults are results, not errors). */
export type AuditErrorCode =
  | "audit.archive_not_found"
  | "audit.anchor_mismatch"
  | "audit.bad_anchor"
  | "audit.empty_journal"
  | "audit.bad_archive";

/** A typed error of the audit commands, identified by `code`. */
export class AuditError extends WorldkernelError<AuditErrorCode> {
  /** The context beyond `path` (e.g. `anchor`: the index of the anchor at fault). */
  readonly details: Record<string, unknown>;

  constructor(code: AuditErrorCode, message: string, fields: { path?: string; [detail: string]: unknown } = {}) {
    const { path, ...details } = fields;
    super(code, message, { path });
    this.name = "AuditError";
    this.details = details;
  }
}

/** The outcome of an audit. */
export interface AuditResult {
  ok: boolean;
  entries: number;
  checkpoints: number;
  /** The re-executed state root (null when the audit stopped before re-executing). */
  state_root: string | null;
  world_id?: string;
  world_public_key?: string;
  /** The adapter keys the journal declares: at genesis (seq 0) and at each `keys` rotation. */
  declared_keys?: { seq: number; adapter_keys: { id: string; public_key: string }[] }[];
  /** The seq of the checkpoint whose signed state root the re-execution reproduced. */
  attested_seq?: number;
  blobs?: number;
  erasures?: number;
  anchors?: number;
  fault?: string;
  first_bad_seq?: number;
  blob_hash?: string;
  byte_offset?: number;
  message?: string;
}

/** What an export wrote. */
export interface ExportSummary {
  world_id: string;
  entries: number;
  blobs: number;
  erasures: number;
  anchors: number;
  bytes: number;
}

// ---- export ---------------------------------------------------------------------------

/** Builds the audit archive of the world at `dir` (journal opened read-only); anchors must be this world's. */
export async function exportAuditArchive(
  dir: string,
  opts: { anchors?: readonly Anchor[] } = {},
): Promise<{ bytes: Uint8Array; summary: ExportSummary }> {
  const store = await openWorldJournalReadonly(dir);
  try {
    const archive = archiveOfStore(store, opts.anchors ?? []);
    const bytes = encodeArchive(archive);
    return {
      bytes,
      summary: {
        world_id: archive.world_id,
        entries: archive.entries.length,
        blobs: archive.blobs.length,
        erasures: archive.erasures.length,
        anchors: archive.anchors.length,
        bytes: bytes.length,
      },
    };
  } finally {
    await store.close();
  }
}

/** The archive of an open store: every row, every blob the CAS holds, the erasure records, the keys, the anchors. */
export function archiveOfStore(store: WorldJournal, anchors: readonly Anchor[]): AuditArchive {
  // Materialized: a connection runs one statement at a time, and the cursor holds it.
  const entries: ArchiveEntry[] = [];
  for (const e of store.iterateSync())
    entries.push({ seq: e.seq, kind: e.kind, body: e.body, prev_hash: e.prev_hash, hash: e.hash });
  if (entries.length === 0)
    throw new AuditError("audit.empty_journal", `the journal ${store.path} is empty: nothing to audit`, {
      path: store.path,
    });
  const genesis = store.genesis();
  for (const [i, a] of anchors.entries()) {
    if (a.world_id !== genesis.world_id || a.world_public_key !== toHex(genesis.world_public_key)) {
      throw new AuditError(
        "audit.anchor_mismatch",
        `anchor #${i} names world ${a.world_id} with key ${a.world_public_key}; this world is ${genesis.world_id} with key ${toHex(genesis.world_public_key)}`,
        { anchor: i },
      );
    }
    if (!verifyAnchorSignature(a))
      throw new AuditError("audit.bad_anchor", `anchor #${i}'s signature does not verify under the world key`, {
        anchor: i,
      });
  }
  const blobs = [...store.iterateBlobsSync()].map((b) => ({ hash: hashToBytes(b.hash), bytes: b.bytes }));
  const erased = new Map<HashText, number>();
  for (const raw of entries) {
    if (raw.kind !== "erasure") continue; // only erasures are decoded
    const hash = decodeEntry({ ...raw, kind: raw.kind }).body.blob_hash as HashText;
    const seq = store.erasureSeq(hash);
    if (seq !== null) erased.set(hash, seq);
  }
  const erasures: ArchiveErasure[] = [...erased].map(([hash, seq]) => ({ hash, seq }));
  return {
    world_id: genesis.world_id,
    world_public_key: genesis.world_public_key,
    keys: declaredKeysOf(entries),
    entries,
    blobs,
    erasures,
    anchors: [...anchors],
  };
}

// ---- audit ----------------------------------------------------------------------------

/** Options of an audit. */
export interface AuditOptions {
  /** Hold the journal to this anchor, kept outside the archive (passed to verifyWorld). */
  anchor?: Anchor;
  /** Where the temporary world directory is made (default: the OS temp directory). */
  tmpRoot?: string;
}

/** Reads an archive file; a missing file is `audit.archive_not_found`. */
export function readArchiveFile(path: string): Uint8Array {
  if (!existsSync(path)) throw new AuditError("audit.archive_not_found", `no audit archive at ${path}`, { path });
  return readFileSync(path);
}

/** Audits the archive file at `path` (see auditArchive). */
export async function auditFile(path: string, opts: AuditOptions = {}): Promise<AuditResult> {
  return auditArchive(readArchiveFile(path), opts);
}

/** Verifies and re-executes an archive in a fresh temporary world directory; ok only when everything agrees. */
export async function auditArchive(bytes: Uint8Array, opts: AuditOptions = {}): Promise<AuditResult> {
  let archive: AuditArchive;
  try {
    archive = decodeArchive(bytes);
  } catch (e) {
    if (e instanceof ArchiveFault) return fail({ entries: 0, checkpoints: 0 }, e.fault, e.message, e.where);
    throw e;
  }
  const root = mkdtempSync(join(opts.tmpRoot ?? tmpdir(), "wk-audit-"));
  try {
    const dir = join(root, "world");
    rebuildWorld(archive, dir);
    return await checkWorld(archive, bytes, dir, opts);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function fail(
  counts: { entries: number; checkpoints: number },
  fault: string,
  message: string,
  where: { seq?: number; blob_hash?: string; byte_offset?: number } = {},
  more: Partial<AuditResult> = {},
): AuditResult {
  return {
    ok: false,
    entries: counts.entries,
    checkpoints: counts.checkpoints,
    state_root: null,
    ...more,
    fault,
    ...(where.seq === undefined ? {} : { first_bad_seq: where.seq }),
    ...(where.blob_hash === undefined ? {} : { blob_hash: where.blob_hash }),
    ...(where.byte_offset === undefined ? {} : { byte_offset: where.byte_offset }),
    message,
  };
}

/**
 * Writes the archive as a world directory at `dir`: a journal with the schema the store
 * creates, the rows, blobs and erasure records inserted verbatim, the Merkle node table
 * and receipt index derived from the rows. No keys, no config (written once genesis verifies).
 */
export function rebuildWorld(archive: AuditArchive, dir: string): void {
  mkdirSync(dir, { recursive: true });
  importVerbatim(worldPaths(dir).journal, archive);
}

async function checkWorld(
  archive: AuditArchive,
  bytes: Uint8Array,
  dir: string,
  opts: AuditOptions,
): Promise<AuditResult> {
  const paths = worldPaths(dir);
  const totals = { blobs: archive.blobs.length, erasures: archive.erasures.length, anchors: archive.anchors.length };

  // 1. Chain, tree, checkpoint signatures, rules (receipt signers, governance), CAS; a sealed head.
  let v: VerifyResult;
  try {
    v = await verifyWorld(paths.journal, {
      requireSealedHead: true,
      ...(opts.anchor === undefined ? {} : { anchor: opts.anchor }),
    });
  } catch (e) {
    if (isJournalError(e, "journal.bad_anchor"))
      return fail({ entries: 0, checkpoints: 0 }, "bad_anchor", `the --anchor: ${e.message}`);
    throw e;
  }
  const counts = { entries: v.entries, checkpoints: v.checkpoints };
  if (!v.ok) {
    const blobHash = v.fault === "blob_hash_mismatch" ? /sha256:[0-9a-f]{64}/.exec(v.message ?? "")?.[0] : undefined;
    return fail(counts, v.fault ?? "verify_failed", v.message ?? "verification failed", {
      ...(v.first_bad_seq === undefined ? {} : { seq: v.first_bad_seq }),
      ...(blobHash === undefined ? {} : { blob_hash: blobHash }),
    });
  }

  // 2. The header repeats genesis and the keys entries; it must agree with them.
  const genesis: GenesisBody = parseEntryBody("genesis", decodeStored(archive.entries[0]!.body), 0);
  const more = { world_id: genesis.world_id, world_public_key: toHex(genesis.world_public_key), ...totals };
  const at = (path: (string | number)[]) => {
    const o = offsetAt(bytes, path);
    return o === undefined ? {} : { byte_offset: o };
  };
  if (archive.world_id !== genesis.world_id)
    return fail(
      counts,
      "archive_mismatch",
      `the archive header names world ${archive.world_id}; its genesis says ${genesis.world_id}`,
      { seq: 0, ...at(["world_id"]) },
      more,
    );
  if (toHex(archive.world_public_key) !== toHex(genesis.world_public_key)) {
    return fail(
      counts,
      "archive_mismatch",
      `the archive header names world key ${toHex(archive.world_public_key)}; its genesis says ${toHex(genesis.world_public_key)}`,
      { seq: 0, ...at(["world_public_key"]) },
      more,
    );
  }
  const keys = declaredKeysOf(archive.entries);
  if (Buffer.compare(keysBytes(archive.keys), keysBytes(keys)) !== 0) {
    let i = 0;
    while (
      i < keys.length &&
      i < archive.keys.length &&
      Buffer.compare(keysBytes([archive.keys[i]!]), keysBytes([keys[i]!])) === 0
    )
      i++;
    const seq = keys[i]?.seq ?? archive.keys[i]?.seq;
    return fail(
      counts,
      "archive_mismatch",
      `the archive header's keys[${i}] does not list the adapter keys the journal declares${seq === undefined ? "" : ` at seq ${seq}`}`,
      { ...(seq === undefined ? {} : { seq }), ...at(["keys", i]) },
      more,
    );
  }

  // 3. The erasure records: the rebuilt store's erasure index is what verify held to the
  //    journal's erasure entries (index_mismatch, naming the blob), so nothing is left here.

  // 4. The archive's own anchors: signed by the world key, each the very checkpoint at its seq.
  for (const [i, a] of archive.anchors.entries()) {
    const where = { seq: a.seq, ...at(["anchors", i]) };
    if (a.world_id !== genesis.world_id || a.world_public_key !== toHex(genesis.world_public_key))
      return fail(
        counts,
        "anchor_mismatch",
        `archive anchor #${i} names world ${a.world_id} with key ${a.world_public_key}; genesis says ${genesis.world_id} with key ${toHex(genesis.world_public_key)}`,
        where,
        more,
      );
    if (!verifyAnchorSignature(a))
      return fail(
        counts,
        "bad_anchor",
        `archive anchor #${i} (tree size ${a.tree_size}): its signature does not verify under the world key`,
        where,
        more,
      );
    const e = archive.entries[a.seq];
    const cp = e?.kind === "checkpoint" ? parseEntryBody("checkpoint", decodeStored(e.body), e.seq) : undefined;
    if (cp === undefined || !sameCheckpoint(cp, a))
      return fail(
        counts,
        "anchor_mismatch",
        `archive anchor #${i} is a checkpoint at seq ${a.seq} that the journal does not hold there`,
        where,
        more,
      );
  }

  // 5. Re-execute with a fresh kernel, no adapter and no secret; compare with what the checkpoints signed.
  writeConfig(paths.config, {
    world_id: genesis.world_id,
    synchronous: "FULL",
    checkpoint_every: genesis.format_version === 2 ? genesis.checkpoint_every : 1000,
  });
  const replayed = await replayWorld(dir, { verified: true });
  if (!replayed.ok) {
    const d = replayed.divergence!;
    return fail(
      counts,
      replayed.verify_fault ?? "replay_divergence",
      `${d.reason}${d.expected === null && d.got === null ? "" : ` (journal: ${short(d.expected)}; re-executed: ${short(d.got)})`}`,
      { seq: d.seq },
      { ...more, state_root: replayed.state_root || null },
    );
  }
  if (replayed.entries !== v.entries)
    return fail(
      counts,
      "replay_divergence",
      `replay covered ${replayed.entries} entries, the journal holds ${v.entries}`,
      { seq: replayed.entries },
      more,
    );
  const attesting = lastAttestingCheckpoint(archive.entries);
  if (attesting === undefined)
    return fail(
      counts,
      "unattested_state",
      "no checkpoint signs a state root (all carry the all-zero root), so the re-executed state cannot be compared with anything the world key signed",
      {},
      { ...more, state_root: replayed.state_root },
    );
  let root = replayed.state_root;
  if (attesting.seq !== archive.entries.length - 1) {
    const upTo = await replayWorld(dir, { to: attesting.seq, verified: true });
    if (!upTo.ok)
      return fail(counts, "replay_divergence", upTo.divergence!.reason, { seq: upTo.divergence!.seq }, more);
    root = upTo.state_root;
  }
  if (root !== attesting.state_root) {
    return fail(
      counts,
      "state_root_mismatch",
      `re-execution reaches state root ${root}; the checkpoint at seq ${attesting.seq} signed ${attesting.state_root}`,
      { seq: attesting.seq },
      { ...more, state_root: replayed.state_root },
    );
  }
  const declared = keys.map((k) => ({
    seq: k.seq,
    adapter_keys: k.adapter_keys.map((d) => ({ id: d.id, public_key: toHex(d.public_key) })),
  }));
  return {
    ok: true,
    ...counts,
    state_root: replayed.state_root,
    ...more,
    declared_keys: declared,
    attested_seq: attesting.seq,
  };
}

function sameCheckpoint(cp: CheckpointBody, a: Anchor): boolean {
  return (
    cp.tree_size === a.tree_size &&
    toHex(cp.root) === a.root &&
    toHex(cp.head_hash) === a.head_hash &&
    cp.state_root === a.state_root &&
    cp.manifest_hash === a.manifest_hash &&
    toHex(cp.signature) === a.signature
  );
}

/** The last checkpoint that attests a state root (the all-zero root attests nothing). */
function lastAttestingCheckpoint(entries: readonly ArchiveEntry[]): { seq: number; state_root: string } | undefined {
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.kind !== "checkpoint") continue;
    const root = parseEntryBody("checkpoint", decodeStored(e.body), e.seq).state_root;
    if (root !== ZERO_STATE_ROOT) return { seq: e.seq, state_root: root };
  }
  return undefined;
}

function short(v: unknown): string {
  const s =
    JSON.stringify(v, (_k, x: unknown) =>
      typeof x === "bigint" ? x.toString() : x instanceof Uint8Array ? toHex(x) : x,
    ) ?? String(v);
  return s.length > 300 ? `${s.slice(0, 300)}…` : s;
}
