/**
 * @module Shared fixtures for the journal tests: temp dirs, a genesis body for a key,
 * event bodies, and a small populated world on a real SQLite file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HashText } from "../../air/index.js";
import { generateKeyPair, type KeyPair } from "../../kernel/crypto/keys.js";
import type { GenesisBody } from "../../kernel/journal/entries.js";
import { SqliteJournalStore, type SqliteJournalOptions } from "../../kernel/journal/sqlite-store.js";

export const MANIFEST: HashText = `sha256:${"ab".repeat(32)}`;
export const STATE: HashText = `sha256:${"cd".repeat(32)}`;

const made: string[] = [];
process.on("exit", () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp directory, removed by the returned cleanup or at the latest when the process exits. */
export function tempDir(prefix = "wk-journal-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A genesis body for a world keyed by `key`. */
export function genesisBody(key: KeyPair, worldId = "world-1"): GenesisBody {
  return {
    format_version: 1,
    world_id: worldId,
    world_public_key: key.publicKey,
    manifest_hash: MANIFEST,
    created_ns: 1_700_000_000_000_000_000n,
    kernel_flags: [],
    fork: null,
  };
}

/** A small event body. */
export function eventBody(i: number): {
  schema: string;
  value: Record<string, number | string>;
  key: null;
  ctx: Record<string, number>;
  origin: Record<string, string>;
} {
  return {
    schema: "demo/Tick@1",
    value: { n: i, note: `tick ${i}` },
    key: null,
    ctx: { now_ns: 1_000 + i },
    origin: { source: "test" },
  };
}

/** A state provider with fixed refs. */
export const fixedState = () => ({ state_root: STATE, manifest_hash: MANIFEST });

/** Creates a world journal with genesis and `events` events; checkpoints every `every` if given. */
export function makeJournal(
  path: string,
  events: number,
  opts: { key?: KeyPair; every?: number; store?: SqliteJournalOptions; genesis?: GenesisBody } = {},
): { store: SqliteJournalStore; key: KeyPair } {
  const key = opts.key ?? generateKeyPair();
  const store = SqliteJournalStore.open(path, {
    create: true,
    ...(opts.every === undefined ? {} : { checkpointEvery: opts.every, worldKey: key, stateProvider: fixedState }),
    ...opts.store,
  });
  store.appendSync("genesis", opts.genesis ?? genesisBody(key));
  for (let i = 0; i < events; i++) store.appendSync("event", eventBody(i));
  return { store, key };
}

/** The `code` of what `fn` throws, its text when it has none, or "no error". */
export const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return "no error";
};

/** The error code a promise rejects with, the message when it has none, or "no error". */
export async function codeOfAsync(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
  return "no error";
}
