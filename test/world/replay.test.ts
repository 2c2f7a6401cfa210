/**
 * @module Replay ≡ live: a 10,000-event counter world replayed by a fresh kernel, cold
 * started from its snapshot, and replayed from the snapshot, always reaches the live
 * state root; a module swapped behind the kernel's back stops replay at the first
 * differing step with a report; a fork at N verifies and diverges independently.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { decodeStored, hashBytes, hashToBytes } from "../../air/index.js";
import { SqliteJournalStore, verifyJournal, worldPaths } from "../../kernel/journal/index.js";
import { World, createWorld, forkWorld, replayWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";

const CLI = new URL("../../tools/cli/main.ts", import.meta.url).pathname;

const COUNTER = new URL("../../worlds/counter", import.meta.url).pathname;
const tmp = () => mkdtempSync(join(tmpdir(), "wk-world-"));
const events = (n: number, cells: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    schema: "demo/CounterEvent@1",
    json: { key: `cell-${(i + offset) % cells}`, by: ((i + offset) % 13) + 1 },
  }));

describe("replay reproduces live execution", () => {
  it("10,000 events across 16 cells: full replay, cold start from snapshot and replay from snapshot agree", async () => {
    const dir = join(tmp(), "w");
    const world = await createWorld(dir, sourceFromAirDir(COUNTER), {
      synchronous: "NORMAL",
    });
    for (let b = 0; b < 10; b++) await world.sendMany(events(1000, 16, b * 1000));
    const live = world.stateRefs().state_root;
    const cell0 = world.cellState("demo/Counter@1", "cell-0") as { count: number; events: number };
    expect(cell0.events).toBe(625);
    await world.close(); // writes a snapshot

    const full = await replayWorld(dir);
    expect(full).toMatchObject({ ok: true, state_root: live, steps: 10_000 });

    const reopened = await World.open(dir);
    expect(reopened.stateRefs().state_root).toBe(live);
    await reopened.send("demo/CounterEvent@1", { key: "cell-0", by: 1 });
    const after = reopened.stateRefs().state_root;
    await reopened.close();

    const fromSnap = await replayWorld(dir, { fromSnapshot: true });
    expect(fromSnap).toMatchObject({ ok: true, state_root: after });
    expect(fromSnap.steps).toBeLessThan(10); // only the tail after the snapshot ran
  });
});

describe("divergence", () => {
  it("a module swapped behind the kernel's back stops replay at the first differing step", async () => {
    const dir = join(tmp(), "w");
    const world = await createWorld(dir, sourceFromAirDir(COUNTER));
    await world.sendMany(events(20, 3));
    const wasmHash = world.catalog.modules.get("demo/Counter@1")!.def.wasm_hash;
    await world.close({ snapshot: false });

    // Replace the module's bytes in the CAS with a counter that counts events twice: same hash
    // key, different behaviour — exactly what only governance may do.
    const source = readFileSync(new URL("../../modules/wat/counter.wat", import.meta.url), "utf8");
    const mutated = source.replace(
      "(i64.add (global.get $events) (i64.const 1))",
      "(i64.add (global.get $events) (i64.const 2))",
    );
    expect(mutated).not.toBe(source);
    const wabt = await (await import("wabt")).default();
    const tampered = Buffer.from(wabt.parseWat("counter.wat", mutated).toBinary({}).buffer);
    expect(hashBytes(tampered)).not.toBe(wasmHash);
    const db = new Database(worldPaths(dir).journal);
    db.prepare("UPDATE blobs SET bytes = ? WHERE hash = ?").run(tampered, Buffer.from(hashToBytes(wasmHash)));
    db.close();

    // A fresh process: this one caches compiled modules by hash and would run the original code.
    const cli = spawnSync(process.execPath, ["--import", "tsx", CLI, "replay", "--world", dir, "--json"], {
      encoding: "utf8",
    });
    expect(cli.status, cli.stderr).toBe(1);
    const r = JSON.parse(cli.stdout) as {
      ok: boolean;
      verify_fault?: string;
      divergence?: { seq: number; reason: string };
    };
    expect(r.ok).toBe(false);
    // Replay verifies first: the CAS is content-checked, so the swap is named before any step runs,
    // at genesis, whose AIR bundle declares the module's wasm_hash.
    expect(r.verify_fault).toBe("blob_hash_mismatch");
    expect(r.divergence).toMatchObject({ seq: 0, reason: expect.stringContaining(wasmHash) });
    // Opening the world for writing refuses it as well.
    const send = spawnSync(
      process.execPath,
      ["--import", "tsx", CLI, "send", "demo/CounterEvent@1", '{"key":"a","by":1}', "--world", dir],
      { encoding: "utf8" },
    );
    expect(send.status).toBe(1);
    expect(send.stderr).toContain("blob_hash_mismatch");
  });
});

describe("fork", () => {
  it("fork at seq N of a 1,000-event world: both verify, and the fork's new events stay out of the parent", async () => {
    const base = tmp();
    const dir = join(base, "parent");
    const world = await createWorld(dir, sourceFromAirDir(COUNTER), {
      synchronous: "NORMAL",
    });
    await world.sendMany(events(1000, 7));
    await world.close();
    const n = 777;
    const fork = await forkWorld(dir, n, join(base, "fork"));
    const forkRoot0 = fork.stateRefs().state_root;
    const atN = await replayWorld(dir, { to: n });
    expect(atN.state_root).toBe(forkRoot0);
    await fork.sendMany(events(10, 7));
    await fork.close();

    const parentCount = SqliteJournalStore.open(worldPaths(dir).journal, { readonly: true });
    const before = parentCount.countSync();
    parentCount.closeSync();
    expect((await verifyJournal(worldPaths(dir).journal)).ok).toBe(true);
    const fv = await verifyJournal(worldPaths(join(base, "fork")).journal);
    expect(fv.ok).toBe(true);

    const fs = SqliteJournalStore.open(worldPaths(join(base, "fork")).journal, { readonly: true });
    const genesis = decodeStored(fs.getSync(0)!.body) as { fork: { seq: number } };
    expect(genesis.fork.seq).toBe(n);
    fs.closeSync();
    const ps = SqliteJournalStore.open(worldPaths(dir).journal, { readonly: true });
    expect(ps.countSync()).toBe(before);
    ps.closeSync();
    expect((await replayWorld(join(base, "fork"))).ok).toBe(true);
  });
});
