/**
 * @module A world's cell states read straight from its sealed head: the latest snapshot, when
 * nothing but checkpoints follows it and the head checkpoint signed exactly its state root.
 * This backs `wk state`, which must answer in about the time Node takes to start: opening a
 * World costs ~250 ms of imports alone (zod schemas, the catalog build, WASM runtimes), so this
 * file is hand-written over SQLite and the AIR leaves (CBOR, hashes, value rendering) and reads
 * the AIR bundle's defs without re-validating them (they were validated at genesis or apply,
 * and the bundle is content-addressed). It checks what it serves: the blobs' hashes, the state
 * root recomputed from the cells, and the world key's signature on the head checkpoint. When
 * the head is not sealed (a crash left steps after the snapshot), it answers `undefined` and
 * the caller opens the world, which replays the tail.
 */
import { existsSync, readFileSync } from "node:fs";
import { decodeStored } from "../../air/cbor/decode.js";
import { AirError } from "../../air/errors.js";
import { isCborObject, type CborObject, type CborValue } from "../../air/cbor/value.js";
import { bytesToHash, hashToBytes, sha256, type HashText } from "../../air/hash.js";
import type { TypeExpr } from "../../air/schemas/common.js";
import { toSugarJson } from "../../air/values/conform.js";
import { expandType } from "../../air/values/types.js";
import { BUILTIN_SOURCES } from "../../air/builtins/index.js";
import { CellStore, type CellKey } from "../core/cells.js";
import { KernelError } from "../core/errors.js";
import { checkpointSigningPayload } from "../crypto/checkpoint-payload.js";
import { verifyAdmittedKey } from "../crypto/signing-message.js";
import { JournalError } from "../journal/errors.js";
import { openReadonly } from "../journal/sqlite-open.js";
import { worldPaths } from "../journal/world-paths.js";
import { jsonView } from "./json-view.js";
import { snapshotCells } from "./snapshot-blob.js";

/** One cell as the snapshot holds it. */
export interface CellView {
  module: string;
  key: CellKey;
  hash: HashText;
  /** The state's canonical bytes (empty when they were erased). */
  bytes: Uint8Array;
}

/** The state at a world's sealed head. */
export interface StateView {
  stateRoot: HashText;
  manifestHash: HashText;
  /** The seq of the head checkpoint that signed this state. */
  checkpointSeq: number;
  cells: CellView[];
  /** Every module of the manifest in force. */
  modules: string[];
  /** A cell state rendered as JSON in the sugar lens of its module's state schema. */
  json(module: string, value: CborValue): unknown;
}

/** True when a config.json names a store (its schema, in config.ts, allows only PostgreSQL URLs). */
function inPostgres(configPath: string): boolean {
  try {
    const c = JSON.parse(readFileSync(configPath, "utf8")) as { store?: unknown };
    return typeof c.store === "string";
  } catch {
    return false; // the kernel reports a broken config when it opens the world
  }
}

interface Row {
  seq: number;
  kind: string;
  body: Buffer;
}

/** The world's state at its sealed head, or undefined when the head is not a sealed snapshot. */
export function readSealedState(dir: string): StateView | undefined {
  const paths = worldPaths(dir);
  // A world in PostgreSQL keeps no journal.db here: the caller serves it through the kernel.
  if (!existsSync(paths.journal) && existsSync(paths.config) && inPostgres(paths.config)) return undefined;
  const path = paths.journal;
  const db = openReadonly(path);
  try {
    const head = db.prepare("SELECT seq, kind, body FROM entries ORDER BY seq DESC LIMIT 1").get() as Row | undefined;
    const snap = db
      .prepare("SELECT seq, kind, body FROM entries WHERE kind = 'snapshot' ORDER BY seq DESC LIMIT 1")
      .get() as Row | undefined;
    if (head === undefined || snap === undefined || head.kind !== "checkpoint") return undefined;
    const after = db
      .prepare("SELECT count(*) AS n FROM entries WHERE seq > ? AND kind != 'checkpoint'")
      .get(snap.seq) as { n: number };
    if (after.n !== 0) return undefined;

    const getBlob = db.prepare("SELECT bytes FROM blobs WHERE hash = ?"); // once: it runs for every cell
    const blob = (hash: HashText): Uint8Array => {
      const r = getBlob.get(hashToBytes(hash)) as { bytes: Buffer } | undefined;
      if (r === undefined) return new Uint8Array(0); // erased (or missing: the state root check below tells)
      const actual = bytesToHash(sha256(r.bytes));
      if (actual !== hash)
        throw new JournalError(
          "journal.blob_hash_mismatch",
          `blob ${hash} holds bytes that hash to ${actual}: the CAS was altered`,
          { path, blob_hash: hash, expected: hash, actual },
        );
      return r.bytes;
    };
    const genesis = mapOf((db.prepare("SELECT seq, kind, body FROM entries WHERE seq = 0").get() as Row).body, 0, dir);
    const snapshot = mapOf(snap.body, snap.seq, dir);
    const checkpoint = mapOf(head.body, head.seq, dir);
    const state = decodeStored(blob(snapshot.cells_ref as HashText));
    const stateCells = snapshotCells(state);
    if (!isCborObject(state) || state.version !== 1 || stateCells === null)
      throw new KernelError("kernel.bad_snapshot", `snapshot at seq ${snap.seq} has an unknown format`, {
        seq: snap.seq,
      });

    const cells = new CellStore();
    const views: CellView[] = [];
    for (const [module, key, hash] of stateCells) {
      const bytes = blob(hash);
      cells.set(module, key, bytes, hash);
      views.push({ module, key, hash, bytes });
    }
    const root = cells.stateRoot();
    if (root !== snapshot.state_root || root !== checkpoint.state_root) {
      throw new KernelError(
        "kernel.state_root_mismatch",
        `the snapshot at seq ${snap.seq} holds state root ${root}; its entry says ${String(snapshot.state_root)} and the checkpoint at seq ${head.seq} ${String(checkpoint.state_root)}`,
      );
    }
    // The head checkpoint's body comes from disk: a field it lacks is a bad body, not an encoding error.
    const signed = (field: string): CborValue => {
      const v = checkpoint[field];
      if (v === undefined)
        throw new JournalError(
          "journal.verify_failed",
          `the checkpoint at seq ${head.seq} has no ${field} (run wk verify --world ${dir})`,
          { seq: head.seq, body_path: `$.${field}`, fault: "bad_body" },
        );
      return v;
    };
    const payload = checkpointSigningPayload({
      tree_size: signed("tree_size") as number,
      root: signed("root") as Uint8Array,
      head_hash: signed("head_hash") as Uint8Array,
      state_root: signed("state_root") as string,
      manifest_hash: signed("manifest_hash") as string,
    });
    // The world key as genesis holds it (its strict parse, at open and in verify, refuses weak keys;
    // one who can rewrite genesis can as well write a whole journal under a key of their own).
    if (
      !verifyAdmittedKey(
        genesis.world_public_key as Uint8Array,
        "checkpoint",
        payload,
        checkpoint.signature as Uint8Array,
      )
    ) {
      throw new JournalError(
        "journal.verify_failed",
        `the checkpoint at seq ${head.seq} is not signed by the world key (run wk verify --world ${dir})`,
        { seq: head.seq, fault: "bad_signature" },
      );
    }
    const schemas = stateSchemas(decodeStored(blob(state.air_ref as HashText)));
    return {
      stateRoot: root,
      manifestHash: snapshot.manifest_hash as HashText,
      checkpointSeq: head.seq,
      cells: views,
      modules: [...schemas.keys()],
      json: (module, value) => {
        const t = schemas.get(module);
        return t ? toSugarJson(t, value) : jsonView(value);
      },
    };
  } finally {
    db.close();
  }
}

/**
 * An entry body read from disk as a map: this file reads entries without their schemas (see the
 * module comment), so a body that is not one is a bad body, as `wk verify` would say.
 */
function mapOf(body: Uint8Array, seq: number, dir: string): CborObject {
  const v = decodeStored(body);
  if (isCborObject(v)) return v;
  throw new JournalError(
    "journal.verify_failed",
    `the entry at seq ${seq} is not a map (run wk verify --world ${dir})`,
    {
      seq,
      body_path: "$",
      fault: "bad_body",
    },
  );
}

/** Module → its expanded state type (undefined for modules without workflow state), from an AIR bundle. */
function stateSchemas(bundle: CborValue): Map<string, TypeExpr | undefined> {
  if (!isCborObject(bundle) || !Array.isArray(bundle.defs))
    throw new AirError("air.bad_bundle", "AIR bundle has an unknown format");
  const types = new Map<string, TypeExpr>();
  const modules: CborObject[] = [];
  const builtin = BUILTIN_SOURCES.flatMap((s): unknown[] => (Array.isArray(s.value) ? s.value : []));
  const defs: unknown[] = [...builtin, ...bundle.defs];
  for (const d of defs) {
    if (!isCborObject(d)) continue;
    if (d.$kind === "defschema") types.set(d.name as string, d.type as unknown as TypeExpr);
    else if (d.$kind === "defmodule") modules.push(d);
  }
  const out = new Map<string, TypeExpr | undefined>();
  for (const m of modules) {
    const workflow = isCborObject(m.abi) && isCborObject(m.abi.workflow) ? m.abi.workflow : undefined;
    const name = typeof workflow?.state === "string" ? workflow.state : undefined;
    const t = name === undefined ? undefined : types.get(name);
    out.set(m.name as string, t === undefined ? undefined : expandType(t, (n) => types.get(n)));
  }
  return out;
}
