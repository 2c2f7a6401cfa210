/**
 * @module An attacker with disk access to a world directory and none of its keys, driving
 * the real `wk` CLI: copies worlds, reads rows, cuts the journal's end, appends forged
 * entries with correctly recomputed hashes and Merkle table (extending
 * test/journal/attacker.ts's rechain), and swaps blob bytes under their names.
 */
import { copyFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, expect } from "vitest";
import {
  encodeStored,
  decodeStored,
  hashBytes,
  hashDefJson,
  type CborObject,
  type CborValue,
  type HashText,
} from "../../air/index.js";
import { CellStore, type CellKey } from "../../kernel/core/cells.js";
import { entryHash, entryLeafHash, ZERO_HASH } from "../../kernel/journal/entry-hash.js";
import { MerkleFrontier } from "../../kernel/journal/merkle.js";
import { nodeKey, STORED_NODE_LEVEL } from "../../kernel/journal/sqlite-merkle.js";
import { tamper } from "../journal/attacker.js";

export { ROOT, wk, wkAsync, ok, type Run } from "./cli-harness.js";
import { ROOT, ok, wk, type Run } from "./cli-harness.js";
export const COUNTER = join(ROOT, "worlds/counter");
export const SUMMARIZER = join(ROOT, "worlds/summarizer");
export const COUNTER_WASM = join(ROOT, "modules/assemblyscript/counter/counter.wasm");

/** Expects `wk` to exit 1 with every one of `needles` in its error (stderr, or the JSON record on stdout with `--json`). */
export function refused(args: string[], ...needles: string[]): Run {
  const r = wk(...args);
  expect(r.status, `wk ${args.join(" ")} should be refused\n${r.stderr}${r.stdout}`).toBe(1);
  for (const n of needles) expect(r.stderr + r.stdout).toContain(n);
  return r;
}

/** `wk verify --json` of a world that must fail: exit 1 and the result. */
export function verifyFails(dir: string): { fault?: string; first_bad_seq?: number; message?: string } {
  const r = wk("verify", "--world", dir, "--json");
  expect(r.status, r.stdout + r.stderr).toBe(1);
  return JSON.parse(r.stdout) as { fault?: string; first_bad_seq?: number };
}

/** The untouched copy's journal verifies (so each attack test can fail); this machine's anchor log is not consulted. */
export function expectIntact(dir: string): void {
  expect(ok("verify", "--world", dir, "--no-anchor-log", "--json")).toMatchObject({ ok: true });
}

/** `wk replay --json` of a world that must not replay: exit 1, not ok, the verify fault. */
export function replayRefused(dir: string, fault: string): void {
  const r = wk("replay", "--world", dir, "--json");
  expect(r.status, r.stdout + r.stderr).toBe(1);
  expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, verify_fault: fault });
}

/**
 * Gives each test of the calling `describe` a machine of its own: a fresh state dir, so its
 * anchor log has seen none of the test's world copies (copies of one world written on one
 * machine share a log, and the one behind is rolled_back: test/world/anchor-log.test.ts).
 */
export function ownMachinePerTest(): void {
  const state = process.env.WK_STATE_DIR!;
  beforeEach(() => {
    process.env.WK_STATE_DIR = mkdtempSync(join(state, "machine-"));
  });
  afterEach(() => {
    process.env.WK_STATE_DIR = state;
  });
}

/** A fresh temp directory. */
export const scratch = (prefix = "wk-attack-"): string => mkdtempSync(join(tmpdir(), prefix));

/** The counter world's event schema. */
export const COUNTER_EVENT = "demo/CounterEvent@1";

/** The `wk` arguments that send one counter event to `dir` (JSON output). */
export const send = (dir: string, key = "alice", by = 5): string[] => [
  "send",
  COUNTER_EVENT,
  JSON.stringify({ key, by }),
  "--world",
  dir,
  "--json",
];

/** A fresh counter world with two sends (alice 5, bob 7): 0 genesis, 1 checkpoint | 2 event, 3 step, 4 snapshot, 5 checkpoint | 6–9 the same. */
export function counterWorld(): string {
  const dir = join(scratch(), "w");
  ok("create", COUNTER, "--world", dir, "--json");
  ok(...send(dir, "alice", 5));
  ok(...send(dir, "bob", 7));
  return dir;
}

/** A copy of a (closed) world directory. */
export function copyWorld(src: string): string {
  const dst = join(scratch(), "w");
  cpSync(src, dst, { recursive: true });
  return dst;
}

export const journalOf = (dir: string): string => join(dir, "journal.db");

/** One journal row, body decoded. */
export interface Row {
  seq: number;
  kind: string;
  body: CborValue;
  hash: string;
}

/** Every row of the journal (read directly from the file). */
export function rows(dir: string): Row[] {
  const db = new Database(journalOf(dir), { readonly: true });
  try {
    const all = db.prepare("SELECT seq, kind, body, hash FROM entries ORDER BY seq").all() as {
      seq: number;
      kind: string;
      body: Buffer;
      hash: Buffer;
    }[];
    return all.map((r) => ({ seq: r.seq, kind: r.kind, body: decodeStored(r.body), hash: r.hash.toString("hex") }));
  } finally {
    db.close();
  }
}

/** The rows of one kind. */
export const rowsOf = (dir: string, kind: string): Row[] => rows(dir).filter((r) => r.kind === kind);

/** Deletes every entry from `seq` on, with the Merkle nodes, receipt and erasure index rows that name them. */
export function dropFrom(dir: string, seq: number): void {
  tamper(journalOf(dir), (db) => {
    db.prepare("DELETE FROM entries WHERE seq >= ?").run(seq);
    db.prepare("DELETE FROM merkle WHERE node >= ?").run(seq * 64); // node key = last leaf seq · 64 + level
    db.exec("DROP TRIGGER IF EXISTS receipts_no_delete");
    db.prepare("DELETE FROM receipts WHERE seq >= ?").run(seq);
    db.prepare("DELETE FROM erasures WHERE seq >= ?").run(seq);
  });
}

/** Deletes the final (sealing) checkpoint: what an attacker does before appending. */
export function unseal(dir: string): number {
  const last = rows(dir).at(-1)!;
  expect(last.kind).toBe("checkpoint");
  dropFrom(dir, last.seq);
  return last.seq;
}

/**
 * Appends forged entries after the head with correctly chained hashes, rebuilding the
 * Merkle table from every entry hash; returns their seqs.
 */
export function appendForged(dir: string, entries: { kind: string; body: CborValue }[]): number[] {
  const seqs: number[] = [];
  tamper(journalOf(dir), (db) => {
    const hashes = db.prepare("SELECT hash FROM entries ORDER BY seq").pluck().all() as Buffer[];
    const tree = new MerkleFrontier();
    db.transaction(() => {
      db.exec("DELETE FROM merkle");
      const node = db.prepare("INSERT INTO merkle (node, hash) VALUES (?, ?)");
      const sink = (level: number, idx: number, h: Uint8Array) => {
        if (level >= STORED_NODE_LEVEL) node.run(nodeKey(level, idx), h);
      };
      let prev: Uint8Array = ZERO_HASH;
      for (const h of hashes) {
        tree.append(entryLeafHash(h), sink);
        prev = h;
      }
      const insert = db.prepare("INSERT INTO entries (seq, kind, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?)");
      for (const e of entries) {
        const seq = tree.size;
        const body = encodeStored(e.body);
        const hash = entryHash(prev, seq, e.kind, body);
        insert.run(seq, e.kind, body, prev, hash);
        tree.append(entryLeafHash(hash), sink);
        prev = hash;
        seqs.push(seq);
      }
    })();
  });
  return seqs;
}

/** Stores bytes in the CAS under their true name (what an attacker can always do). */
export function putBlob(dir: string, bytes: Uint8Array): string {
  const hash = hashBytes(bytes);
  tamper(journalOf(dir), (db) =>
    db.prepare("INSERT OR IGNORE INTO blobs (hash, bytes) VALUES (?, ?)").run(Buffer.from(hash.slice(7), "hex"), bytes),
  );
  return hash;
}

/** Overwrites a blob's bytes, keeping its name. */
export function overwriteBlob(dir: string, hash: string, bytes: Uint8Array): void {
  tamper(journalOf(dir), (db) => {
    expect(
      db
        .prepare("UPDATE blobs SET bytes = ? WHERE hash = ?")
        .run(bytes, Buffer.from(hash.replace(/^sha256:/, ""), "hex")).changes,
    ).toBe(1);
  });
}

/** A blob's bytes as stored (unchecked). */
export function rawBlob(dir: string, hash: string): Buffer | undefined {
  const db = new Database(journalOf(dir), { readonly: true });
  try {
    return db
      .prepare("SELECT bytes FROM blobs WHERE hash = ?")
      .pluck()
      .get(Buffer.from(hash.replace(/^sha256:/, ""), "hex")) as Buffer | undefined;
  } finally {
    db.close();
  }
}

/** Flips one byte of a stored body, keeping the row (and its stored hash). */
export function flipBodyByte(dir: string, seq: number): void {
  tamper(journalOf(dir), (db) => {
    const body = db.prepare("SELECT body FROM entries WHERE seq = ?").pluck().get(seq) as Buffer;
    body[body.length - 2]! ^= 0x01;
    db.prepare("UPDATE entries SET body = ? WHERE seq = ?").run(body, seq);
  });
}

/** Edits config.json. */
export function editConfig(dir: string, edit: (c: Record<string, unknown>) => void): void {
  const path = join(dir, "config.json");
  const c = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
  edit(c);
  writeFileSync(path, JSON.stringify(c, null, 2));
}

/** The counter module's def as the catalog holds it (wasm by hash). */
const counterModule = (limits = { fuel_per_step: 10_000_000, memory_pages: 64 }) => ({
  $kind: "defmodule",
  name: "demo/Counter@1",
  module_kind: "workflow",
  abi: { workflow: { state: "demo/CounterState@1", event: "demo/CounterEvent@1" } },
  limits,
});
const counterDef = (limits?: { fuel_per_step: number; memory_pages: number }) => ({
  ...counterModule(limits),
  wasm_hash: hashBytes(readFileSync(COUNTER_WASM)),
});

/** An AIR folder of the counter world governed by policy demo/gov@1 naming `approvers`. */
export function governedCounterAir(approvers: string[], allowUnsigned = false): string {
  const dir = scratch("wk-air-");
  copyFileSync(join(COUNTER, "schemas.air.json"), join(dir, "schemas.air.json"));
  copyFileSync(COUNTER_WASM, join(dir, "counter.wasm"));
  writeFileSync(join(dir, "counter.air.json"), JSON.stringify({ ...counterModule(), wasm: "./counter.wasm" }));
  const manifest = JSON.parse(readFileSync(join(COUNTER, "manifest.air.json"), "utf8")) as Record<string, unknown>;
  writeFileSync(
    join(dir, "manifest.air.json"),
    JSON.stringify({ ...manifest, policies: [{ name: "demo/gov@1" }], defaults: { policy: "demo/gov@1" } }),
  );
  writeFileSync(
    join(dir, "policy.air.json"),
    JSON.stringify({
      $kind: "defpolicy",
      name: "demo/gov@1",
      rules: [],
      approvers: approvers.map((public_key, i) => ({ id: `a${i}`, public_key })),
      threshold: 1,
      ...(allowUnsigned ? { allow_unsigned_proposals: true } : {}),
    }),
  );
  return dir;
}

/**
 * A patch file raising the counter's fuel limit (another valid manifest, same state schema); returns its path.
 * `fuelPerStep`: another limit (a tiny one makes every step fail under the new manifest).
 */
export function limitsPatch(baseManifestHash: string, fuelPerStep = 20_000_000): string {
  const file = join(scratch("wk-patch-"), "patch.json");
  writeFileSync(
    file,
    JSON.stringify({
      base_manifest_hash: baseManifestHash,
      patches: [
        {
          replace_def: {
            kind: "defmodule",
            name: "demo/Counter@1",
            new_node: counterDef({ fuel_per_step: fuelPerStep, memory_pages: 64 }),
            pre_hash: hashDefJson(counterDef()),
          },
        },
      ],
    }),
  );
  return file;
}

/** A snapshot blob as the kernel writes it (kernel/world/snapshot.ts `writeSnapshotBlob`). */
export interface SnapshotBlob {
  version: number;
  /** [module, key, state hash] per cell. */
  cells: [string, CellKey, string][];
  ledger: CborValue;
  /** The kernel's PendingIntent records (intentId, kind, params, …, waiting). */
  pending: CborObject[];
  logical_now: CborValue;
  air_ref: string;
}

/** The latest snapshot entry: its seq, its body and its decoded blob. */
export function latestSnapshot(dir: string): { seq: number; body: CborObject; blob: SnapshotBlob } {
  const snap = rowsOf(dir, "snapshot").at(-1);
  expect(snap, `${dir} has no snapshot`).toBeDefined();
  const body = snap!.body as CborObject;
  const bytes = rawBlob(dir, body.cells_ref as string);
  expect(bytes, `snapshot blob ${String(body.cells_ref)}`).toBeDefined();
  return { seq: snap!.seq, body, blob: decodeStored(bytes!) as unknown as SnapshotBlob };
}

/** The state root of a snapshot's cells, computed exactly as the kernel does (CellStore.stateRoot). */
export function stateRootOf(cells: SnapshotBlob["cells"]): string {
  const store = new CellStore();
  for (const [module, key, hash] of cells) store.set(module, key, new Uint8Array(0), hash as HashText);
  return store.stateRoot();
}

/**
 * Appends a snapshot entry after the head naming `blob` (put in the CAS), with the state root
 * recomputed from its cells and its height its own seq, as the kernel writes one; the
 * manifest hash is the latest snapshot's unless given. Returns its seq.
 */
export function appendForgedSnapshot(dir: string, blob: SnapshotBlob, manifestHash?: string): number {
  const cellsRef = putBlob(dir, encodeStored(blob as unknown as CborValue));
  const height = rows(dir).length;
  const [seq] = appendForged(dir, [
    {
      kind: "snapshot",
      body: {
        state_root: stateRootOf(blob.cells),
        cells_ref: cellsRef,
        height,
        manifest_hash: manifestHash ?? (latestSnapshot(dir).body.manifest_hash as string),
      },
    },
  ]);
  expect(seq).toBe(height);
  return seq!;
}
