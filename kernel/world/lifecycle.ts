/**
 * @module World lifecycle: create (genesis from AIR + module binaries), fork (a new world
 * whose genesis names its parent and whose first snapshot is the parent's state at seq N),
 * and replay of a world directory by a fresh kernel.
 */
import { existsSync, mkdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import type { AirCatalog } from "../../air/loader.js";
import type { HashText } from "../../air/hash.js";
import { generateKeyPair, saveKeyPair } from "../crypto/keys.js";
import {
  JOURNAL_FORMAT_VERSION,
  JournalError,
  worldPaths,
  type EntryBodies,
  type CheckFinding,
  type EntryChecker,
} from "../journal/index.js";
import type { WorldJournal } from "../journal/world-journal.js";
import { openWorldJournal, openWorldJournalReadonly, storeOptions } from "./journal-open.js";
import { loadAirDir } from "../air-dir.js";
import { KernelError } from "../core/errors.js";
import { AirError } from "../../air/errors.js";
import { WorldConfigSchema, readConfig, writeConfig, type WorldConfig } from "./config.js";
import { KERNEL_FLAGS, behaviourOf } from "../transition/flags.js";
import { bundleOf } from "../../air/bundle.js";
import { bootState, emptyState, genesisOf, readGenesis } from "./boot.js";
import { ModuleHost } from "./modules.js";
import type { Processor, KernelState } from "./processor.js";
import { newProcessor } from "./processor-factory.js";
import { Replayer, oracleOf, replayGenesis, replayRange, type Divergence, type ReplayResult } from "./replay.js";
import { restoreSnapshot, writeSnapshotBlob } from "./snapshot.js";
import { World, type OpenOptions } from "./world.js";
import { ADAPTER_KEY_ID } from "./keys.js";
import { verifyWorldStore, type VerifyWorldOptions } from "./verify-world.js";
import { holdResultToAnchorLog } from "./anchor-log.js";
import { resolveStop } from "./boundaries.js";

/** What a new world is made of. */
export interface WorldSource {
  catalog: AirCatalog;
  wasm: Map<HashText, Uint8Array>;
}

/** Loads an AIR folder (with `wasm` paths resolved) or throws an AirError listing every issue. */
export function sourceFromAirDir(airDir: string): WorldSource {
  const r = loadAirDir(airDir);
  if (!r.ok) {
    const first = r.issues[0]!;
    throw new AirError(
      first.code,
      `${r.issues.length} problem(s) in ${airDir}; first: ${first.file ?? ""} ${first.path}: ${first.message}`,
      first.path,
      r.issues,
    );
  }
  return { catalog: r.catalog, wasm: r.wasm };
}

function prepareDir(dir: string): ReturnType<typeof worldPaths> {
  const paths = worldPaths(dir);
  if (existsSync(paths.journal) || existsSync(paths.config))
    throw new KernelError("kernel.world_exists", `${dir} already holds a world`, { dir });
  mkdirSync(paths.keysDir, { recursive: true, mode: 0o700 });
  return paths;
}

/** A new world directory: fresh keys (0600), config, and a journal holding its genesis. */
async function initWorld(
  dir: string,
  catalog: AirCatalog,
  wasm: Iterable<Uint8Array>,
  opts: CreateOptions,
  fork: EntryBodies["genesis"]["fork"],
) {
  const storeOk = opts.store === undefined ? undefined : WorldConfigSchema.shape.store.safeParse(opts.store);
  if (storeOk !== undefined && !storeOk.success)
    throw new KernelError("kernel.bad_world", `--store: ${storeOk.error.issues[0]!.message}`, { path: "$.store" });
  const paths = prepareDir(dir);
  const worldKey = generateKeyPair();
  const adapterKey = generateKeyPair();
  saveKeyPair(paths.worldKey, worldKey);
  saveKeyPair(paths.adapterKey, adapterKey);
  const worldId = randomUUID();
  const config = {
    world_id: worldId,
    synchronous: opts.synchronous ?? "FULL",
    checkpoint_every: opts.checkpointEvery ?? 1000,
    ...(opts.adapterSettings ? { adapters: opts.adapterSettings } : {}),
    ...(opts.store ? { store: opts.store } : {}),
  } as const;
  writeConfig(paths.config, config);
  const store = await openWorldJournal(dir, config, { create: true, ...storeOptions(config, worldKey, opts) });
  for (const bytes of wasm) store.putBlobSync(bytes);
  const airRef = store.putBlobSync(bundleOf(catalog));
  await store.append("genesis", {
    format_version: JOURNAL_FORMAT_VERSION,
    world_id: worldId,
    world_public_key: worldKey.publicKey,
    manifest_hash: catalog.manifestHash,
    air_ref: airRef,
    created_ns: BigInt(Date.now()) * 1_000_000n,
    kernel_flags: [...KERNEL_FLAGS],
    fork,
    adapter_keys: [{ id: ADAPTER_KEY_ID, public_key: adapterKey.publicKey }],
    checkpoint_every: config.checkpoint_every,
  });
  return { store, worldKey, adapterKey, worldId, config, airRef };
}

/** How to create a world (and a fork): its cadence, adapter settings and where its journal lives. */
export interface CreateOptions extends OpenOptions {
  checkpointEvery?: number;
  adapterSettings?: WorldConfig["adapters"];
  /** A PostgreSQL URL (no password) to keep the journal in, instead of journal.db in the directory. */
  store?: string;
}

/** Creates a world directory: keys (0600), journal with genesis, AIR bundle and wasm in the CAS. */
export async function createWorld(dir: string, source: WorldSource, opts: CreateOptions = {}): Promise<World> {
  // Operator settings of adapters (config.json `adapters`, e.g. an OpenAI-compatible LLM endpoint): refused before anything is written.
  if (opts.adapterSettings !== undefined) {
    const r = WorldConfigSchema.shape.adapters.safeParse(opts.adapterSettings);
    if (!r.success)
      throw new KernelError(
        "kernel.bad_world",
        `adapter settings: ${r.error.issues[0]!.message} at $.adapters.${r.error.issues[0]!.path.join(".")}`,
      );
  }
  for (const [name, m] of source.catalog.modules) {
    if (!source.wasm.has(m.def.wasm_hash as HashText))
      throw new KernelError("kernel.missing_blob", `no binary for ${name} (wasm_hash ${m.def.wasm_hash})`, {
        module: name,
      });
  }
  const { store, worldKey, adapterKey, worldId, config, airRef } = await initWorld(
    dir,
    source.catalog,
    source.wasm.values(),
    opts,
    null,
  );
  const state = emptyState(worldId, source.catalog, airRef, behaviourOf(KERNEL_FLAGS));
  return World.attach(dir, { store, state, worldKey, adapterKey, config }, opts);
}

/** A fresh kernel over a (read-only) journal, starting at genesis, at its latest snapshot ≤ `to`, or (a fork) at its base snapshot. */
function freshKernel(
  store: WorldJournal,
  dir: string,
  opts: { useSnapshot: boolean; to?: number },
): { processor: Processor; modules: ModuleHost; from: number; snapshotSeq: number | null } {
  const { genesis, catalog } = readGenesis(store);
  // A fork's history before its base snapshot lives in its parent: replay re-executes from that
  // base (the first snapshot), never from a later one, unless asked to start from the latest.
  const choice = opts.useSnapshot ? "latest" : genesis.fork !== null ? "first" : "none";
  const { state, from, snapshotSeq } = bootState(store, genesis, catalog, {
    snapshot: choice,
    ...(opts.to !== undefined ? { to: opts.to } : {}),
  });
  const modules = new ModuleHost((h) => store.getBlobSync(h));
  // Replay needs no secret: gate denials are checked against the world's public key.
  const processor = newProcessor(state, modules, { publicKey: genesis.world_public_key });
  return { processor, modules, from, snapshotSeq };
}

/**
 * Replays a world directory with a fresh kernel, calling no adapter; `fromSnapshot` starts at
 * the latest covered snapshot ≤ `to`. Unless the caller verified it already, the journal is
 * verified in the same pass: each entry is read and decoded once, checked by the rules, then
 * fed to the replayer, so replay never accepts what verify rejects (a fault at or before the
 * point of divergence wins; a journal that fails anywhere is refused).
 */
export async function replayWorld(dir: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const store = await openWorldJournalReadonly(dir);
  let kernel: ReturnType<typeof freshKernel> | undefined;
  try {
    // A stop inside a batch moves to the boundary before it (or, exact, is refused).
    const stop = opts.to === undefined ? undefined : resolveStop(store, opts.to, opts.exact === true, "replay --to");
    const to = stop?.seq;
    const boot = () =>
      freshKernel(store, dir, { useSnapshot: !!opts.fromSnapshot, ...(to !== undefined ? { to } : {}) });
    let r: ReplayResult;
    if (opts.verified) {
      kernel = boot();
      r = await replayRange(store, kernel.processor, kernel.from, to, {
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      });
    } else {
      let replayer: Replayer | undefined;
      const replay: EntryChecker = {
        // The walk starts at genesis, after the rules passed it: boot there, feed from the boot point on.
        check: (e) => {
          if (kernel === undefined) {
            kernel = boot();
            replayer = new Replayer(
              kernel.processor,
              replayGenesis(e.value),
              (h) => store.getBlob(h),
              kernel.from,
              oracleOf(store),
            );
          }
          if (e.seq < kernel.from || (to !== undefined && e.seq > to)) return null;
          opts.onProgress?.(e.seq);
          const d = replayer!.feed(e);
          return d instanceof Promise ? d.then(finding) : finding(d);
        },
        // A step the replayer re-ran to these very bytes needs no decode or schema check (verify.ts).
        reproduced: (e) => replayer?.reproduces(e),
      };
      // A tail after the last checkpoint is allowed here (a crash leaves one); verify reports it.
      // Nor a journal cut back behind this machine's anchor log (anchor-log.ts): rolled_back.
      const v = holdResultToAnchorLog(
        store,
        await verifyWorldStore(store, {
          requireSealedHead: false,
          alsoCheck: [replay],
          ...(opts.lane ? { lane: opts.lane } : {}),
        }),
        opts.anchorLog,
      );
      if (!v.ok && v.fault !== REPLAY_DIVERGED)
        return {
          ok: false,
          entries: v.entries,
          state_root: "",
          steps: 0,
          divergence: {
            seq: v.first_bad_seq ?? v.entries,
            reason: `the journal fails verification: ${v.fault}: ${v.message}`,
            expected: null,
            got: null,
          },
          verify_fault: v.fault!,
        };
      replayer!.end();
      r = replayer!.result();
    }
    const from = kernel!.from;
    return {
      ...r,
      entries_checked: r.entries - from,
      start_seq: from,
      ...(kernel!.snapshotSeq === null ? {} : { snapshot_seq: kernel!.snapshotSeq }),
      ...(stop?.inside ? { to: stop.seq, moved_from: opts.to!, batch: stop.inside } : to !== undefined ? { to } : {}),
    };
  } finally {
    await kernel?.modules.close();
    await store.close();
  }
}

/** The fault a replay divergence raises inside the verifying pass (never reported as a verify fault). */
const REPLAY_DIVERGED = "replay_divergence";

/** A divergence as the verifying pass's finding. */
const finding = (d: Divergence | undefined): CheckFinding =>
  d === undefined ? null : { fault: REPLAY_DIVERGED, message: d.reason, seq: d.seq };

/** How to replay a world directory. */
export interface ReplayOptions {
  /** Stop after this seq; a seq inside a batch moves to the boundary before it. */
  to?: number;
  /** Refuse a `to` inside a batch (`kernel.not_a_boundary`) instead of moving it. */
  exact?: boolean;
  /** Start from the latest snapshot ≤ `to` instead of genesis (a fork's base snapshot). */
  fromSnapshot?: boolean;
  onProgress?: (seq: number) => void;
  /** The caller already ran verifyWorld on this journal. */
  verified?: boolean;
  /** The anchor log to hold the journal to: a file, false for none, default this machine's log of the world. */
  anchorLog?: string | false;
  /** Where verification's hashing runs (kernel/journal/chain-lane.ts); default "auto", a worker for long journals. */
  lane?: VerifyWorldOptions["lane"];
}

/**
 * Forks `srcDir` at seq `at` into a new world at `dstDir` that shares history up to `at`. A
 * seq inside a batch moves to the boundary before it (the new genesis's `fork.seq` says
 * where); `exact` refuses it instead.
 */
export async function forkWorld(
  srcDir: string,
  at: number,
  dstDir: string,
  opts: CreateOptions & { exact?: boolean } = {},
): Promise<World> {
  const src = await openWorldJournalReadonly(srcDir);
  try {
    const v = await verifyWorldStore(src, { requireSealedHead: false });
    if (!v.ok) {
      throw new JournalError(
        "journal.verify_failed",
        `the source journal fails verification, so it is not forked: ${v.fault} at seq ${v.first_bad_seq}: ${v.message}`,
        {
          ...(v.first_bad_seq === undefined ? {} : { seq: v.first_bad_seq }),
          ...(v.fault === undefined ? {} : { fault: v.fault }),
        },
      );
    }
    const count = src.countSync();
    if (!Number.isSafeInteger(at) || at < 0 || at >= count)
      throw new KernelError("kernel.seq_out_of_range", `fork point ${at} is outside the journal (0..${count - 1})`);
    at = resolveStop(src, at, opts.exact === true, "fork --at").seq;
    const { processor, modules, from } = freshKernel(src, srcDir, { useSnapshot: false });
    const r = await replayRange(src, processor, from, at);
    await modules.close();
    if (!r.ok)
      throw new KernelError(
        "kernel.replay_divergence",
        `source diverges at seq ${r.divergence!.seq} before the fork point`,
        { divergence: r.divergence },
      );
    const state = processor.state;
    const head = src.getSync(at)!.hash;
    const wasm = [...state.catalog.modules.values()].map((m) => src.getBlobSync(m.def.wasm_hash as HashText));
    state.pending.clear(); // in-flight intents of the parent are the parent's; a fork does not re-issue them
    const parentId = genesisOf(src).world_id;
    // The parent's operator settings carry over unless the caller gives its own: a fork of a
    // world that calls an LLM endpoint calls it too. Secrets and webhooks stay behind (a fork
    // calls no authenticated API, and gets no delivery, until it is given its own).
    const parentConfig = readConfig(worldPaths(srcDir).config);
    const inherited: CreateOptions = {
      synchronous: parentConfig.synchronous,
      checkpointEvery: parentConfig.checkpoint_every,
      ...(parentConfig.adapters ? { adapterSettings: parentConfig.adapters } : {}),
      ...opts,
    };
    const {
      store: dst,
      worldKey,
      adapterKey,
      worldId,
      config: created,
      airRef,
    } = await initWorld(dstDir, state.catalog, wasm, inherited, {
      parent_world_id: parentId,
      seq: at,
      head_hash: head,
    });
    const config = parentConfig.analysis ? { ...created, analysis: parentConfig.analysis } : created;
    if (config !== created) writeConfig(worldPaths(dstDir).config, config);
    const forked: KernelState = { ...state, worldId, airRef };
    const blobs = { put: (b: Uint8Array) => dst.putBlobSync(b), get: (h: HashText) => dst.getBlobSync(h) };
    const { cellsRef, stateRoot } = writeSnapshotBlob(forked, blobs);
    await dst.append("snapshot", {
      state_root: stateRoot,
      cells_ref: cellsRef,
      height: 1,
      manifest_hash: state.catalog.manifestHash,
    });
    const restored = restoreSnapshot(
      worldId,
      state.catalog,
      cellsRef,
      stateRoot,
      blobs,
      behaviourOf(KERNEL_FLAGS),
      state.catalog.manifestHash,
    );
    return World.attach(dstDir, { store: dst, state: restored, worldKey, adapterKey, config }, opts);
  } finally {
    await src.close();
  }
}
