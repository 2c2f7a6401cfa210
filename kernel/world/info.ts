/**
 * @module What a world is, read from its journal alone (`wk info`): identity, declared
 * keys, head, last checkpoint and snapshot, manifest in force, formats and kernel flags.
 * Cheap by construction: a read-only open (no writer lock, so a running world can be
 * asked), the head and the rare-kind index — no replay, no module loaded, no scan of the
 * log. It reports what the journal says; `wk verify` is what checks it.
 */
import { decodeStored } from "../../air/cbor/decode.js";
import { parseEntryBody, genesisAdapterKeys, type DeclaredKey } from "../journal/entries.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { openWorldJournalReadonly } from "./journal-open.js";
import type { JournalEntry } from "../journal/store.js";
import { KernelError } from "../core/errors.js";
import { unsupportedFlags } from "../transition/flags.js";
import { anchorLogInfo, type AnchorLogInfo } from "./anchor-log.js";

/** One declared adapter key, with the seq of the entry that declared it (0: genesis). */
export interface InfoKey {
  id: string;
  public_key: string;
  declared_at: number;
}

/** Everything `wk info` reports. Bytes are lowercase hex; `*_ns` are decimal strings. */
export interface WorldInfo {
  world: string;
  world_id: string;
  created_ns: string;
  fork: { parent_world_id: string; seq: number; head_hash: string } | null;
  /** `at`: where the journal lives (its file, or `pg:host:port/db#world` for PostgreSQL). */
  journal: { format_version: number; storage_version: number; entries: number; at: string };
  keys: {
    /** The world key (genesis): signs checkpoints, keys entries and gate denials. */
    world: string;
    /** The adapter keys in force at the head (receipts must be signed by one of them). */
    adapter: InfoKey[];
    /** Every declaration: genesis, then each `keys` entry (a rotation). */
    declarations: { seq: number; adapter_keys: { id: string; public_key: string }[] }[];
  };
  head: { seq: number; hash: string } | null;
  checkpoint: {
    seq: number;
    tree_size: number;
    root: string;
    head_hash: string;
    state_root: string;
    manifest_hash: string;
    covers_head: boolean;
  } | null;
  snapshot: { seq: number; state_root: string; manifest_hash: string } | null;
  /** The manifest in force at the head: the latest apply's, else genesis's. */
  manifest: { hash: string; since_seq: number; genesis_hash: string };
  checkpoint_every: number | null;
  kernel_flags: string[];
  /** Flags this kernel does not implement (it refuses to open or replay such a world). */
  unsupported_flags: string[];
  /** This machine's anchor log of the world (`wk info` reads it; `wk verify` checks it). */
  anchor_log?: AnchorLogInfo;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const keyList = (keys: readonly DeclaredKey[]) => keys.map((k) => ({ id: k.id, public_key: hex(k.public_key) }));

/** Reads what `wk info` shows from the world at `dir` (read-only; throws `journal.not_found` when there is no journal). */
export async function worldInfo(dir: string): Promise<WorldInfo> {
  const store = await openWorldJournalReadonly(dir);
  try {
    const info = infoOfStore(dir, store);
    return { ...info, anchor_log: anchorLogInfo(info.world_id) };
  } finally {
    await store.close();
  }
}

/** The info of an open store. */
export function infoOfStore(dir: string, store: WorldJournal): WorldInfo {
  const g0 = store.getSync(0);
  if (g0 === null || g0.kind !== "genesis")
    throw new KernelError("kernel.bad_world", `${store.path} has no genesis entry`);
  const genesis = parseEntryBody("genesis", decodeStored(g0.body), 0);
  const head = store.headSync();
  const declarations = [{ seq: 0, adapter_keys: keyList(genesisAdapterKeys(genesis)) }];
  let inForce: InfoKey[] = declarations[0]!.adapter_keys.map((k) => ({ ...k, declared_at: 0 }));
  let manifest = { hash: genesis.manifest_hash as string, since_seq: 0, genesis_hash: genesis.manifest_hash as string };
  // The rare-kind index holds genesis, keys, governance, snapshots, checkpoints and erasures only.
  for (const e of store.ruleEntriesSync(1)) {
    if (e.kind === "keys") {
      const k = parseEntryBody("keys", decodeStored(e.body), e.seq);
      const list = keyList(k.adapter_keys);
      declarations.push({ seq: e.seq, adapter_keys: list });
      inForce = list.map((x) => ({ ...x, declared_at: e.seq }));
    } else if (e.kind === "apply") {
      const a = parseEntryBody("apply", decodeStored(e.body), e.seq);
      manifest = { ...manifest, hash: a.new_manifest_hash, since_seq: e.seq };
    }
  }
  return {
    world: dir,
    world_id: genesis.world_id,
    created_ns: String(genesis.created_ns),
    fork:
      genesis.fork === null
        ? null
        : {
            parent_world_id: genesis.fork.parent_world_id,
            seq: genesis.fork.seq,
            head_hash: hex(genesis.fork.head_hash),
          },
    journal: {
      format_version: genesis.format_version,
      storage_version: store.storageVersionSync(),
      entries: head === null ? 0 : head.seq + 1,
      at: store.path,
    },
    keys: { world: hex(genesis.world_public_key), adapter: inForce, declarations },
    head: head === null ? null : { seq: head.seq, hash: hex(head.hash) },
    checkpoint: checkpointInfo(store.latestOfKind("checkpoint"), head?.seq ?? -1),
    snapshot: snapshotInfo(store.latestOfKind("snapshot")),
    manifest,
    checkpoint_every: genesis.format_version === 1 ? null : genesis.checkpoint_every,
    kernel_flags: [...genesis.kernel_flags],
    unsupported_flags: unsupportedFlags(genesis.kernel_flags),
  };
}

function checkpointInfo(e: JournalEntry | null, headSeq: number): WorldInfo["checkpoint"] {
  if (e === null) return null;
  const c = parseEntryBody("checkpoint", decodeStored(e.body), e.seq);
  return {
    seq: e.seq,
    tree_size: c.tree_size,
    root: hex(c.root),
    head_hash: hex(c.head_hash),
    state_root: c.state_root,
    manifest_hash: c.manifest_hash,
    covers_head: e.seq === headSeq,
  };
}

function snapshotInfo(e: JournalEntry | null): WorldInfo["snapshot"] {
  if (e === null) return null;
  const s = parseEntryBody("snapshot", decodeStored(e.body), e.seq);
  return { seq: e.seq, state_root: s.state_root, manifest_hash: s.manifest_hash };
}
