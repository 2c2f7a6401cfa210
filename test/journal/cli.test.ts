/**
 * @module The journal's `wk` commands, run in-process through commander on real world
 * directories: keys new, verify (text, JSON, anchor), checkpoint (+ anchor export), anchor,
 * log, erase — with their exit codes.
 */
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { describe, expect, it } from "vitest";
import type { HashText } from "../../air/index.js";
import { generateKeyPair, saveKeyPair } from "../../kernel/crypto/keys.js";
import type { GenesisBody } from "../../kernel/journal/entries.js";
import { CellStore } from "../../kernel/core/cells.js";
import { isJournalError } from "../../kernel/journal/errors.js";
import { SqliteJournalStore } from "../../kernel/journal/sqlite-store.js";
import { worldPaths } from "../../kernel/journal/world-dir.js";
import { registerJournal } from "../../tools/cli/commands/journal.js";
import { CliExit, describeError } from "../../tools/cli/io.js";
import { rechain } from "./attacker.js";
import { eventBody, genesisBody, makeJournal, tempDir } from "./helpers.js";
import { hashBytes } from "../../air/index.js";
import { bundleOf, createWorld, sourceFromAirDir } from "../../kernel/world/index.js";

async function wk(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const program = new Command("wk").exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
  registerJournal(program);
  let out = "";
  let err = "";
  let code = 0;
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(["node", "wk", ...args]);
  } catch (e) {
    if (e instanceof CliExit) {
      code = e.exitCode;
      err = e.message ? describeError(e) : ""; // as main.ts reports it: `code: message`
    } else if (e instanceof CommanderError) code = 2;
    else {
      code = 1;
      err = describeError(e);
    }
  } finally {
    process.stdout.write = write;
  }
  return { code, out, err };
}

const COUNTER = sourceFromAirDir(join(import.meta.dirname, "../../worlds/counter"));
const AIR = bundleOf(COUNTER.catalog);
const AIR_REF = hashBytes(AIR);

/**
 * A journal-level world directory (journal.db, keys/world.key): a genesis of format 2 naming
 * the counter's AIR bundle, synthetic events, checkpoints every 5 and one sealing the head.
 */
function worldDir(events = 12): { dir: string; blob: HashText } {
  const { dir } = tempDir("wk-cli-");
  const paths = worldPaths(dir);
  mkdirSync(paths.keysDir, { recursive: true });
  const key = generateKeyPair();
  saveKeyPair(paths.worldKey, key);
  const genesis: GenesisBody = {
    ...genesisBody(key),
    format_version: 2,
    manifest_hash: COUNTER.catalog.manifestHash,
    air_ref: AIR_REF,
    adapter_keys: [],
    checkpoint_every: 5,
  };
  // Checkpoints attest what the journal implies (the rules derive it): the genesis manifest, no cells.
  const state = () => ({ state_root: new CellStore().stateRoot(), manifest_hash: COUNTER.catalog.manifestHash });
  const { store } = makeJournal(paths.journal, events, { key, every: 5, genesis, store: { stateProvider: state } });
  store.putBlobSync(AIR);
  for (const w of COUNTER.wasm.values()) store.putBlobSync(w);
  const blob = store.putBlobSync(new TextEncoder().encode("a prompt with a name in it"));
  store.appendSync("event", { ...eventBody(99), value: { prompt: blob } });
  store.checkpointSync();
  store.closeSync();
  return { dir, blob };
}

describe("wk journal commands", () => {
  it("keys new writes a 0600 key file and prints the public key", async () => {
    const { dir } = tempDir("wk-cli-");
    const file = join(dir, "sub", "me.key");
    const r = await wk("keys", "new", file);
    expect(r.code).toBe(0);
    expect(r.out.trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, "utf8")).public_key).toBe(r.out.trim());
    const again = await wk("keys", "new", file);
    expect(again.code).toBe(1);
    expect(again.err).toContain("crypto.key_exists");
  });

  it("verify: ok (exit 0) in text and JSON", async () => {
    const { dir } = worldDir();
    const text = await wk("verify", "--world", dir);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/^ok: 18 entries, 4 checkpoints/);
    const json = await wk("verify", "--world", dir, "--json");
    expect(JSON.parse(json.out)).toEqual({
      ok: true,
      entries: 18,
      checkpoints: 4,
      // This machine never saw the world (it was written without a kernel): no anchor log yet.
      anchor_log: {
        path: expect.stringMatching(/anchors\/world-1\.jsonl$/),
        status: "none",
        lines: 0,
        tree_size: null,
      },
    });
  });

  it("verify: exit 1 naming the seq and fault; a missing world is an error too", async () => {
    const { dir } = worldDir();
    rechain(worldPaths(dir).journal, 3, (seq, kind, body) =>
      seq === 3 ? { ...(body as object), value: { n: -1 } } : null,
    );
    const r = await wk("verify", "--world", dir, "--json");
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, first_bad_seq: 5, fault: "checkpoint_mismatch" });
    const text = await wk("verify", "--world", dir);
    expect(text.out).toContain("FAILED at seq 5: checkpoint_mismatch");
    const missing = await wk("verify", "--world", join(dir, "nope"));
    expect(missing.code).toBe(1);
    expect(missing.err).toContain("journal.not_found");
  });

  it("checkpoint signs the live state through the kernel and exports an anchor that verify --anchor holds the world to", async () => {
    const { dir: base } = tempDir("wk-cli-cp-");
    const dir = join(base, "w");
    const w = await createWorld(dir, COUNTER);
    await w.send("demo/CounterEvent@1", { key: "alice", by: 3 });
    const root = w.stateRefs().state_root;
    await w.close();
    const anchorFile = join(base, "anchor.json");
    const cp = await wk("checkpoint", "--world", dir, "--anchor-out", anchorFile, "--json");
    expect(cp.code, cp.err).toBe(0);
    const entry = JSON.parse(cp.out) as {
      seq: number;
      kind: string;
      body: { tree_size: number; state_root: string; manifest_hash: string; signature: string };
    };
    expect(entry).toMatchObject({
      kind: "checkpoint",
      body: { tree_size: entry.seq, state_root: root, manifest_hash: COUNTER.catalog.manifestHash },
    });
    expect(entry.body.signature).toMatch(/^[0-9a-f]{128}$/);
    expect(JSON.parse(readFileSync(anchorFile, "utf8"))).toMatchObject({ seq: entry.seq, tree_size: entry.seq });
    expect((await wk("verify", "--world", dir, "--anchor", anchorFile)).code).toBe(0);
    const exported = await wk("anchor", "--world", dir);
    expect(JSON.parse(exported.out)).toEqual(JSON.parse(readFileSync(anchorFile, "utf8")));
    // An anchor of another world does not hold this one.
    const other = worldDir();
    const otherAnchor = join(base, "other.json");
    writeFileSync(otherAnchor, (await wk("anchor", "--world", other.dir)).out);
    expect(JSON.parse((await wk("verify", "--world", dir, "--anchor", otherAnchor, "--json")).out)).toMatchObject({
      ok: false,
      fault: "anchor_mismatch",
    });
  });

  it("log prints decoded entries; --kind and --from filter; bytes come out as hex", async () => {
    const { dir } = worldDir();
    const all = JSON.parse((await wk("log", "--world", dir, "--json")).out) as {
      seq: number;
      kind: string;
      hash: string;
      body: Record<string, unknown>;
    }[];
    expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 18 }, (_, i) => i));
    expect(all[0]!.body.world_public_key).toMatch(/^[0-9a-f]{64}$/);
    expect(all[0]!.body.created_ns).toBe("1700000000000000000");
    const cps = JSON.parse((await wk("log", "--world", dir, "--kind", "checkpoint", "--json")).out) as {
      seq: number;
    }[];
    expect(cps.map((e) => e.seq)).toEqual([5, 10, 15, 17]);
    const tail = JSON.parse((await wk("log", "--world", dir, "--from", "15", "--json")).out) as { seq: number }[];
    expect(tail.map((e) => e.seq)).toEqual([15, 16, 17]);
    const text = await wk("log", "--world", dir, "--from", "16");
    expect(text.out).toMatch(/^\s+16 {2}event/);
    expect((await wk("log", "--world", dir, "--kind", "bogus")).code).toBe(2);
  });

  it("erase deletes the blob, journals it, and the world still verifies; structure is refused", async () => {
    const { dir: base } = tempDir("wk-cli-erase-");
    const dir = join(base, "w");
    const w = await createWorld(dir, COUNTER);
    await w.send("demo/CounterEvent@1", { key: "alice", by: 1 });
    const blob = w.store.putBlobSync(new TextEncoder().encode("a prompt with a name in it"));
    await w.close();
    const r = await wk("erase", blob, "--reason", "user asked", "--world", dir, "--json");
    expect(r.code, r.err).toBe(0);
    const seq = (JSON.parse(r.out) as { seq: number }).seq;
    const store = SqliteJournalStore.open(worldPaths(dir).journal, { readonly: true });
    let caught: unknown;
    try {
      store.getBlobSync(blob);
    } catch (e) {
      caught = e;
    }
    store.closeSync();
    expect(
      isJournalError(caught, "journal.blob_erased") &&
        (caught as unknown as { erasure_seq: number }).erasure_seq === seq,
    ).toBe(true);
    expect((await wk("verify", "--world", dir)).code).toBe(0);
    expect((await wk("erase", "not-a-hash", "--reason", "x", "--world", dir)).code).toBe(2);
    const again = await wk("erase", blob, "--reason", "again", "--world", dir);
    expect(again.code).toBe(1);
    expect(again.err).toContain("journal.blob_erased");
    const air = await wk("erase", AIR_REF, "--reason", "no", "--world", dir);
    expect(air.code).toBe(1);
    expect(air.err).toContain("kernel.erase_refused");
    expect(air.err).toContain("AIR bundle");
    expect((await wk("verify", "--world", dir)).code).toBe(0);
  });
});
