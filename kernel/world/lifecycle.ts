/**
 * @module World lifecycle: create (genesis from AIR + module binaries), fork (a new world
 * whose genesis names its parent and whose first snapshot is the parent's state at seq N),
 * and replay of a world directory by a fresh kernel.
 */
import { existsSync, mkdirSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { decodeStored, type AirCatalog, type HashText } from "../../air/index.js";
import { generateKeyPair, loadKeyPair, saveKeyPair } from "../crypto/keys.js";
import { JOURNAL_FORMAT_VERSION, SqliteJournalStore, worldPaths, type EntryBodies } from "../journal/index.js";
import { loadAirDir } from "../air-dir.js";
import { BudgetLedger } from "../core/budget.js";
import { CellStore } from "../core/cells.js";
import { KernelError } from "../core/errors.js";
import type { GateHooks } from "../core/gate.js";
import { AirError } from "../../air/index.js";
import { writeConfig } from "./config.js";
import { KERNEL_FLAGS, unsupportedFlags } from "./flags.js";
import { ModuleHost } from "./modules.js";
import { Processor, gateDenySigner, type KernelState } from "./processor.js";
import { replayRange, type ReplayResult } from "./replay.js";
import { restoreSnapshot, writeSnapshotBlob } from "./snapshot.js";
import { World, bundleOf, catalogFromBundle, storeOptions, type OpenOptions } from "./world.js";

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
    throw new AirError(first.code, `${r.issues.length} problem(s) in ${airDir}; first: ${first.file ?? ""} ${first.path}: ${first.message}`, first.path, r.issues);
  }
  return { catalog: r.catalog, wasm: r.wasm };
}

function prepareDir(dir: string): ReturnType<typeof worldPaths> {
  const paths = worldPaths(dir);
  if (existsSync(paths.journal)) throw new KernelError("kernel.world_exists", `${dir} already holds a world`, { dir });
  mkdirSync(paths.keysDir, { recursive: true, mode: 0o700 });
  return paths;
}

/** A new world directory: fresh keys (0600), config, and a journal holding its genesis. */
function initWorld(dir: string, catalog: AirCatalog, wasm: Iterable<Uint8Array>, opts: { synchronous?: "FULL" | "NORMAL"; checkpointEvery?: number }, fork: EntryBodies["genesis"]["fork"]) {
  const paths = prepareDir(dir);
  const worldKey = generateKeyPair();
  const adapterKey = generateKeyPair();
  saveKeyPair(paths.worldKey, worldKey);
  saveKeyPair(paths.adapterKey, adapterKey);
  const worldId = randomUUID();
  const config = { world_id: worldId, synchronous: opts.synchronous ?? "FULL", checkpoint_every: opts.checkpointEvery ?? 1000 } as const;
  writeConfig(paths.config, config);
  const store = SqliteJournalStore.open(paths.journal, { create: true, ...storeOptions(config, worldKey) });
  for (const bytes of wasm) store.putBlobSync(bytes);
  const airRef = store.putBlobSync(bundleOf(catalog));
  store.appendSync("genesis", {
    format_version: JOURNAL_FORMAT_VERSION, world_id: worldId, world_public_key: worldKey.publicKey, manifest_hash: catalog.manifestHash,
    air_ref: airRef, created_ns: BigInt(Date.now()) * 1_000_000n, kernel_flags: [...KERNEL_FLAGS], fork,
  });
  return { store, worldKey, adapterKey, worldId, config };
}

/** Creates a world directory: keys (0600), journal with genesis, AIR bundle and wasm in the CAS. */
export async function createWorld(dir: string, source: WorldSource, opts: OpenOptions & { checkpointEvery?: number } = {}): Promise<World> {
  for (const [name, m] of source.catalog.modules) {
    if (!source.wasm.has(m.def.wasm_hash as HashText)) throw new KernelError("kernel.missing_blob", `no binary for ${name} (wasm_hash ${m.def.wasm_hash})`, { module: name });
  }
  const { store, worldKey, adapterKey, worldId, config } = initWorld(dir, source.catalog, source.wasm.values(), opts, null);
  const state: KernelState = { worldId, catalog: source.catalog, cells: new CellStore(), ledger: new BudgetLedger(), pending: new Map(), logicalNow: 0 };
  return World.attach(dir, store, state, worldKey, adapterKey, config, opts);
}

/** A fresh kernel over a (read-only) journal: genesis catalog, empty state. */
function freshKernel(store: SqliteJournalStore, dir: string, hooks?: GateHooks): { processor: Processor; genesis: EntryBodies["genesis"]; modules: ModuleHost } {
  const g0 = store.getSync(0);
  if (!g0) throw new KernelError("kernel.bad_world", "journal has no genesis");
  const genesis = decodeStored(g0.body) as EntryBodies["genesis"];
  const bad = unsupportedFlags(genesis.kernel_flags);
  if (bad.length) throw new KernelError("kernel.bad_world", `this kernel does not implement flag(s) ${bad.join(", ")}`);
  if (!genesis.air_ref) throw new KernelError("kernel.bad_world", "genesis names no AIR bundle");
  const catalog = catalogFromBundle(store.getBlobSync(genesis.air_ref as HashText), genesis.manifest_hash);
  const state: KernelState = { worldId: genesis.world_id, catalog, cells: new CellStore(), ledger: new BudgetLedger(), pending: new Map(), logicalNow: 0 };
  const modules = new ModuleHost((h) => store.getBlobSync(h));
  const worldKey = loadKeyPair(worldPaths(dir).worldKey);
  const processor = new Processor(state, modules, hooks ?? { checks: {}, estimate: () => ({ tokens: 0, cents: 0 }) }, gateDenySigner(genesis.world_id, worldKey));
  return { processor, genesis, modules };
}

/** Replays a world directory with a fresh kernel, calling no adapter; `fromSnapshot` starts at the latest snapshot ≤ `to`. */
export async function replayWorld(dir: string, opts: { to?: number; fromSnapshot?: boolean; hooks?: GateHooks; onProgress?: (seq: number) => void } = {}): Promise<ReplayResult> {
  const store = SqliteJournalStore.open(worldPaths(dir).journal, { readonly: true });
  const { processor, genesis, modules } = freshKernel(store, dir, opts.hooks);
  try {
    let from = 1;
    if (opts.fromSnapshot || genesis.fork !== null) {
      const snap = latestSnapshotAtOrBefore(store, opts.to);
      if (snap) {
        const s = decodeStored(snap.body) as EntryBodies["snapshot"];
        const restored = restoreSnapshot(genesis.world_id, processor.state.catalog, s.cells_ref as HashText, s.state_root, { put: () => { throw new Error("read-only"); }, get: (h) => store.getBlobSync(h) });
        Object.assign(processor.state, restored);
        from = snap.seq + 1;
      }
    }
    return await replayRange(store, processor, from, opts.to, { ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) });
  } finally {
    await modules.close();
    store.closeSync();
  }
}

function latestSnapshotAtOrBefore(store: SqliteJournalStore, to: number | undefined) {
  const last = store.latestOfKind("snapshot");
  if (!last || to === undefined || last.seq <= to) return last;
  // Walk back for an older snapshot (rare: --to before the latest snapshot).
  for (let s = Math.min(to, last.seq - 1); s >= 0; s--) {
    const e = store.getSync(s);
    if (e?.kind === "snapshot") return e;
  }
  return null;
}

/** Forks `srcDir` at seq `at` into a new world at `dstDir` that shares history up to `at`. */
export async function forkWorld(srcDir: string, at: number, dstDir: string, opts: OpenOptions = {}): Promise<World> {
  const src = SqliteJournalStore.open(worldPaths(srcDir).journal, { readonly: true });
  try {
    const count = src.countSync();
    if (!Number.isSafeInteger(at) || at < 0 || at >= count) throw new KernelError("kernel.bad_world", `fork point ${at} is outside the journal (0..${count - 1})`);
    const { processor, modules } = freshKernel(src, srcDir, opts.hooks);
    const r = await replayRange(src, processor, 1, at);
    await modules.close();
    if (!r.ok) throw new KernelError("kernel.replay_divergence", `source diverges at seq ${r.divergence!.seq} before the fork point`, { divergence: r.divergence });
    const state = processor.state;
    const head = src.getSync(at)!.hash;
    const wasm = [...state.catalog.modules.values()].map((m) => src.getBlobSync(m.def.wasm_hash as HashText));
    state.pending.clear(); // in-flight intents of the parent are the parent's; a fork does not re-issue them
    const parentId = (decodeStored(src.getSync(0)!.body) as EntryBodies["genesis"]).world_id;
    const { store: dst, worldKey, adapterKey, worldId, config } = initWorld(dstDir, state.catalog, wasm, opts, { parent_world_id: parentId, seq: at, head_hash: head });
    const forked: KernelState = { ...state, worldId };
    const blobs = { put: (b: Uint8Array) => dst.putBlobSync(b), get: (h: HashText) => dst.getBlobSync(h) };
    const { cellsRef, stateRoot } = writeSnapshotBlob(forked, blobs);
    dst.appendSync("snapshot", { state_root: stateRoot, cells_ref: cellsRef, height: 1, manifest_hash: state.catalog.manifestHash });
    const restored = restoreSnapshot(worldId, state.catalog, cellsRef, stateRoot, blobs);
    return World.attach(dstDir, dst, restored, worldKey, adapterKey, config, opts);
  } finally {
    src.closeSync();
  }
}
