/**
 * @module The anchor log (kernel/world/anchor-log.ts): every seal of a world is appended to a
 * JSONL log outside its folder, and opening, `wk verify` and replay hold the journal to it. An
 * attacker with the folder and not the log cuts the journal back to an earlier sealing
 * checkpoint (a journal that verifies on its own) or puts an older copy in its place: both are
 * `rolled_back`. Real SQLite, real `wk`, real PostgreSQL where it is available. Each test is a
 * "machine": its own state directory (`WK_STATE_DIR`, which the `wk` it runs inherits).
 */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pg from "pg";
import { afterEach, beforeEach, describe, expect, inject, it } from "vitest";
import { defaultAnchorLogPath, stateDir } from "../../kernel/world/anchor-log.js";
import { verifyWorldAnchored } from "../../kernel/world/anchor-log-verify.js";
import { openWorldJournalReadonly } from "../../kernel/world/journal-open.js";
import { createWorld, replayWorld, sourceFromAirDir, World } from "../../kernel/world/index.js";
import { tamperPg } from "../journal/pg-attacker.js";
import {
  COUNTER,
  copyWorld,
  dropFrom,
  expectIntact,
  ok,
  refused,
  replayRefused,
  rows,
  rowsOf,
  scratch,
  verifyFails,
  wk,
  COUNTER_EVENT,
  send,
} from "./attack-helpers.js";

const EVENT = COUNTER_EVENT;

/** This test file's state directory (test/state-dir.ts); each test makes a machine under it. */
const FILE_STATE = process.env.WK_STATE_DIR!;

/** A fresh state directory under this file's: a machine that has seen nothing. */
const machine = (): string => mkdtempSync(join(FILE_STATE, "machine-"));

/** Runs `fn` as another machine: `WK_STATE_DIR` points at `state` meanwhile. */
function on<T>(state: string, fn: () => T): T {
  const was = process.env.WK_STATE_DIR;
  process.env.WK_STATE_DIR = state;
  try {
    return fn();
  } finally {
    process.env.WK_STATE_DIR = was;
  }
}

interface LoggedAnchor {
  world_id: string;
  tree_size: number;
  seq: number;
  signature: string;
}

/** The anchors of a log file, one per line. */
const logOf = (file: string): LoggedAnchor[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as LoggedAnchor);

/** The seqs of a world's checkpoint entries. */
const checkpointSeqs = (dir: string): number[] => rowsOf(dir, "checkpoint").map((r) => r.seq);

interface Verified {
  ok: boolean;
  fault?: string;
  first_bad_seq?: number;
  message?: string;
  anchor_log?: { path: string | null; status: string; lines: number; tree_size: number | null };
  anchor_log_line?: number;
}

describe("the anchor log", () => {
  let home: string;
  beforeEach(() => {
    home = machine();
    process.env.WK_STATE_DIR = home;
  });
  afterEach(() => {
    process.env.WK_STATE_DIR = FILE_STATE;
  });

  it("the state directory: $WK_STATE_DIR, else $XDG_STATE_HOME/worldkernel, else ~/.local/state/worldkernel", () => {
    expect(stateDir({ WK_STATE_DIR: "/s", XDG_STATE_HOME: "/x", HOME: "/h" })).toBe("/s");
    expect(stateDir({ XDG_STATE_HOME: "/x" })).toBe("/x/worldkernel");
    expect(stateDir({ XDG_STATE_HOME: "relative" })).toMatch(/\.local\/state\/worldkernel$/);
    expect(defaultAnchorLogPath("3f0c", { WK_STATE_DIR: "/s" })).toBe("/s/anchors/3f0c.jsonl");
    // A world id is never a path: one that is not a plain name is hashed.
    expect(defaultAnchorLogPath("../../etc/x", { WK_STATE_DIR: "/s" })).toMatch(
      /^\/s\/anchors\/sha256-[0-9a-f]{64}\.jsonl$/,
    );
  });

  it("a cut back to an earlier seal, and an older copy put in place: verify says rolled_back naming the last anchored size; send, checkpoint and replay are refused and append nothing", () => {
    const dir = join(scratch(), "w");
    const { world_id } = ok<{ world_id: string }>("create", COUNTER, "--world", dir, "--json");
    ok(...send(dir, "alice", 5));
    const older = copyWorld(dir); // what an attacker keeps to swap in later
    for (const [key, by] of [
      ["bob", 7],
      ["carol", 1],
      ["dave", 2],
    ] as const)
      ok(...send(dir, key, by));
    const log = defaultAnchorLogPath(world_id);
    const seals = checkpointSeqs(dir);
    expect(seals.length).toBeGreaterThanOrEqual(5); // create and each send sealed the head
    expect(logOf(log).map((a) => a.seq)).toEqual(seals); // one line per seal
    expect(statSync(log).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(log)).mode & 0o777).toBe(0o700);
    const last = seals.at(-1)!;
    expect(ok<Verified>("verify", "--world", dir, "--json").anchor_log).toEqual({
      path: log,
      status: "ok",
      lines: seals.length,
      tree_size: last,
    });

    // The attack: every entry after an earlier sealing checkpoint goes. On its own, the journal verifies.
    const earlier = seals.at(-3)!;
    dropFrom(dir, earlier + 1);
    expect(ok<Verified>("verify", "--world", dir, "--no-anchor-log", "--json")).toMatchObject({ ok: true });
    const n = rows(dir).length;
    expect(n).toBe(earlier + 1);
    const v = verifyFails(dir);
    expect(v).toMatchObject({ ok: false, fault: "rolled_back", first_bad_seq: n });
    expect(v.message).toContain(`last anchored tree size ${last}`);
    expect(wk("verify", "--world", dir).stdout).toContain(`FAILED at seq ${n}: rolled_back: `);

    const logText = readFileSync(log, "utf8");
    refused(send(dir), "journal.verify_failed", "rolled_back", `last anchored tree size ${last}`);
    refused(["checkpoint", "--world", dir], "journal.verify_failed", "rolled_back"); // no re-seal of the cut head
    expect(rows(dir)).toHaveLength(n);
    expect(readFileSync(log, "utf8")).toBe(logText);
    replayRefused(dir, "rolled_back");

    // An older copy of the folder in its place: the same.
    const o = verifyFails(older);
    expect(o).toMatchObject({ fault: "rolled_back", first_bad_seq: rows(older).length });
    expect(o.message).toContain(`last anchored tree size ${last}`);
    refused(send(older), "rolled_back");
  }, 120_000);

  it("a copy that went its own way on another machine, held to this machine's log: the journal's entry at the anchored seq is not that checkpoint", () => {
    const dir = join(scratch(), "w");
    const { world_id } = ok<{ world_id: string }>("create", COUNTER, "--world", dir, "--json");
    ok(...send(dir, "alice", 5));
    const copy = copyWorld(dir);
    ok(...send(dir, "bob", 7));
    ok(...send(dir, "bob", 8));
    const anchored = checkpointSeqs(dir).at(-1)!;
    const elsewhere = machine();
    on(elsewhere, () => {
      for (const by of [1, 2, 3]) ok(...send(copy, "zed", by));
      expectIntact(copy); // on its own machine, the copy holds to its own log
    });
    expect(rows(copy).length).toBeGreaterThan(anchored);
    const r = wk("verify", "--world", copy, "--anchor-log", defaultAnchorLogPath(world_id), "--json");
    expect(r.status).toBe(1);
    const v = JSON.parse(r.stdout) as Verified;
    expect(v).toMatchObject({ fault: "rolled_back", first_bad_seq: anchored });
    expect(v.message).toContain(`last anchored tree size ${anchored}`);
    expect(v.message).toContain("is not that checkpoint");
  }, 120_000);

  it("a world copied to a machine with no log verifies, saying so, and starts a log at its next seal", () => {
    const dir = join(scratch(), "w");
    const { world_id } = ok<{ world_id: string }>("create", COUNTER, "--world", dir, "--json");
    ok(...send(dir));
    const copy = copyWorld(dir);
    on(machine(), () => {
      const text = wk("verify", "--world", copy);
      expect(text.status, text.stderr).toBe(0);
      expect(text.stdout).toContain("no anchor log for this world on this machine");
      expect(ok<Verified>("verify", "--world", copy, "--json").anchor_log).toMatchObject({ status: "none", lines: 0 });
      expect(wk("info", "--world", copy).stdout).toContain("none on this machine yet");
      ok(...send(copy, "bob", 2));
      const log = defaultAnchorLogPath(world_id);
      expect(logOf(log).at(-1)!.seq).toBe(checkpointSeqs(copy).at(-1));
      expect(ok<Verified>("verify", "--world", copy, "--json").anchor_log).toMatchObject({
        status: "ok",
        tree_size: checkpointSeqs(copy).at(-1),
      });
    });
  }, 120_000);

  it("a tampered log line is bad_anchor_log naming the line: a signature that does not verify (verify), a line that is no anchor (verify and open)", () => {
    const dir = join(scratch(), "w");
    const { world_id } = ok<{ world_id: string }>("create", COUNTER, "--world", dir, "--json");
    ok(...send(dir));
    ok(...send(dir, "bob", 2));
    const log = defaultAnchorLogPath(world_id);
    const good = readFileSync(log, "utf8");
    const lines = good.split("\n");
    const a = JSON.parse(lines[1]!) as LoggedAnchor;
    const flipped = a.signature.replace(/^./, (c) => (c === "0" ? "1" : "0"));
    lines[1] = JSON.stringify({ ...a, signature: flipped });
    writeFileSync(log, lines.join("\n"));
    const v = verifyFails(dir) as Verified;
    expect(v).toMatchObject({ fault: "bad_anchor_log", anchor_log_line: 2 });
    expect(v.message).toContain("line 2 of the anchor log");
    expect(v.message).toContain("does not verify");

    writeFileSync(log, good);
    expectIntact(dir);
    appendFileSync(log, '{"world_id": "not an anchor"}\n');
    const bad = good.split("\n").length; // the appended line's number
    const n = rows(dir).length;
    expect(verifyFails(dir)).toMatchObject({ fault: "bad_anchor_log" });
    refused(send(dir), "journal.verify_failed", "bad_anchor_log", `line ${bad} of the anchor log`);
    expect(rows(dir)).toHaveLength(n);

    // A torn last line (a crash while appending) is skipped, and cut off by the next seal.
    writeFileSync(log, good + good.split("\n")[0]!.slice(0, 40));
    expectIntact(dir);
    ok(...send(dir, "carol", 3));
    expect(logOf(log).map((x) => x.seq)).toEqual(checkpointSeqs(dir));
  }, 120_000);

  it("a normal life stays green and the log grows by one line per seal: create, automatic checkpoints, close, reopen, wk checkpoint, fork, wk info", async () => {
    const dir = join(scratch(), "w");
    const w = await createWorld(dir, sourceFromAirDir(COUNTER), { checkpointEvery: 5 });
    const id = w.id;
    for (let i = 0; i < 4; i++) await w.send(EVENT, { key: `k${i % 2}`, by: i + 1 });
    await w.close();
    const log = defaultAnchorLogPath(id);
    const seqs = () => logOf(log).map((a) => a.seq);
    // Automatic checkpoints (after a batch crossing the cadence, not preceded by the close's snapshot) are anchored too.
    const all = rows(dir);
    expect(all.some((r) => r.kind === "checkpoint" && all[r.seq - 1]!.kind !== "snapshot")).toBe(true);
    expect(seqs()).toEqual(checkpointSeqs(dir));

    const events = join(scratch(), "events.jsonl");
    writeFileSync(
      events,
      Array.from({ length: 6 }, (_, i) => JSON.stringify({ schema: EVENT, value: { key: "bulk", by: i + 1 } })).join(
        "\n",
      ),
    );
    ok("send", "--file", events, "--world", dir, "--json");
    expect(seqs()).toEqual(checkpointSeqs(dir));

    const reopened = await World.open(dir);
    await reopened.close(); // nothing written: the head is already sealed
    expect(seqs()).toEqual(checkpointSeqs(dir));

    const before = seqs().length;
    const cp = ok<{ seq: number }>("checkpoint", "--world", dir, "--json");
    expect(seqs()).toEqual(checkpointSeqs(dir));
    expect(seqs()).toHaveLength(before + 1);
    expect(seqs().at(-1)).toBe(cp.seq);

    const v = ok<Verified>("verify", "--world", dir, "--json");
    expect(v).toMatchObject({ ok: true, anchor_log: { status: "ok", lines: seqs().length, tree_size: cp.seq } });
    const info = ok<{ anchor_log: { path: string; lines: number; tree_size: number } }>(
      "info",
      "--world",
      dir,
      "--json",
    );
    expect(info.anchor_log).toEqual({ path: log, lines: seqs().length, tree_size: cp.seq });
    expect(wk("info", "--world", dir).stdout).toMatch(
      new RegExp(
        `anchor log +${log.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} \\(${seqs().length} anchor\\(s\\), last anchored tree size ${cp.seq}\\)`,
      ),
    );
    expect(wk("verify", "--world", dir).stdout).toContain(`last anchored tree size ${cp.seq} holds`);

    // A fork is a new world (its own id, its own log).
    const forkDir = join(scratch(), "f");
    const f = ok<{ world_id: string }>("fork", "--world", dir, "--at", "3", "--to", forkDir, "--json");
    ok(...send(forkDir, "fork", 1));
    const forkLog = defaultAnchorLogPath(f.world_id);
    expect(logOf(forkLog).map((a) => a.seq)).toEqual(checkpointSeqs(forkDir));
    expect(logOf(forkLog).every((a) => a.world_id === f.world_id)).toBe(true);
    expect(ok<Verified>("verify", "--world", forkDir, "--json").anchor_log).toMatchObject({ status: "ok" });
    expect(seqs()).toEqual(checkpointSeqs(dir)); // the parent's log is untouched
    ok(...send(dir, "after-fork", 1));
    expect(seqs()).toEqual(checkpointSeqs(dir));
    expectIntact(dir);
  }, 120_000);

  it("in process: anchorLog names the file (dirs 0700, file 0600); open and replay refuse a cut; anchorLog false disables it", async () => {
    const dir = join(scratch(), "w");
    const file = join(scratch("wk-anchor-file-"), "nested", "world.anchors.jsonl");
    const w = await createWorld(dir, sourceFromAirDir(COUNTER), { checkpointEvery: 4, anchorLog: file });
    for (let i = 0; i < 6; i++) await w.send(EVENT, { key: `k${i % 3}`, by: i + 1 });
    await w.close();
    expect(logOf(file).map((a) => a.seq)).toEqual(checkpointSeqs(dir));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(dirname(file)).mode & 0o777).toBe(0o700);
    expect(existsSync(defaultAnchorLogPath(w.id))).toBe(false); // the default location is not used

    const again = await World.open(dir, { anchorLog: file });
    await again.send(EVENT, { key: "k0", by: 9 });
    await again.close();
    expect(logOf(file).map((a) => a.seq)).toEqual(checkpointSeqs(dir));
    expect(await verifyWorldAnchored(dir, { anchorLog: file })).toMatchObject({
      ok: true,
      anchor_log: { path: file, status: "ok" },
    });

    const seals = checkpointSeqs(dir);
    const last = seals.at(-1)!;
    dropFrom(dir, seals.at(-3)! + 1);
    const n = rows(dir).length;
    const err = await World.open(dir, { anchorLog: file }).then(
      () => null,
      (e: unknown) => e as { code: string; fault: string; seq: number; message: string },
    );
    expect(err).toMatchObject({ code: "journal.verify_failed", fault: "rolled_back", seq: n });
    expect(err!.message).toContain(`last anchored tree size ${last}`);
    expect(rows(dir)).toHaveLength(n);
    expect(await replayWorld(dir, { anchorLog: file })).toMatchObject({ ok: false, verify_fault: "rolled_back" });
    expect(await verifyWorldAnchored(dir, { anchorLog: file })).toMatchObject({
      ok: false,
      fault: "rolled_back",
      first_bad_seq: n,
    });
    // Without a log (a throwaway world, or this machine's log, which never saw it), the cut journal is just a journal.
    expect(await replayWorld(dir)).toMatchObject({ ok: true });
    const throwaway = await World.open(dir, { anchorLog: false });
    await throwaway.send(EVENT, { key: "k1", by: 1 });
    await throwaway.close();
    expect(existsSync(defaultAnchorLogPath(w.id))).toBe(false);
    expect(logOf(file).at(-1)!.seq).toBe(last);
  }, 120_000);
});

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);

describe.skipIf(url === null)(
  "the anchor log of a world in PostgreSQL (skipped when no PostgreSQL server can be started here; never in CI)",
  () => {
    it("every seal is anchored; an attacker with the database cutting the world back to an earlier seal is rolled_back", async () => {
      const dir = join(scratch(), "w");
      const file = join(machine(), "pg.jsonl");
      const w = await createWorld(dir, sourceFromAirDir(COUNTER), { store: url!, checkpointEvery: 4, anchorLog: file });
      for (let i = 0; i < 6; i++) await w.send(EVENT, { key: `k${i % 3}`, by: i + 1 });
      const id = w.id;
      await w.close();
      const seqs = async (): Promise<number[]> => {
        const s = await openWorldJournalReadonly(dir);
        try {
          return [...s.rareEntriesSync()].filter((e) => e.kind === "checkpoint").map((e) => e.seq);
        } finally {
          await s.close();
        }
      };
      const seals = await seqs();
      expect(logOf(file).map((a) => a.seq)).toEqual(seals);
      expect(await verifyWorldAnchored(dir, { anchorLog: file })).toMatchObject({ ok: true });

      const cut = seals.at(-2)! + 1;
      const raw = new pg.Client({ connectionString: url! });
      await raw.connect();
      try {
        await tamperPg(raw, async (c) => {
          for (const t of ["entries", "receipts", "ingress_keys", "erasures"])
            await c.query(`DELETE FROM worldkernel.${t} WHERE world_id = $1 AND seq >= $2`, [id, cut]);
          await c.query("DELETE FROM worldkernel.merkle WHERE world_id = $1 AND node >= $2", [id, cut * 64]);
        });
      } finally {
        await raw.end();
      }
      expect(await verifyWorldAnchored(dir, { anchorLog: false })).toMatchObject({ ok: true });
      expect(await verifyWorldAnchored(dir, { anchorLog: file })).toMatchObject({
        ok: false,
        fault: "rolled_back",
        first_bad_seq: cut,
      });
      const err = await World.open(dir, { anchorLog: file }).then(
        () => null,
        (e: unknown) => e as { code: string; fault: string },
      );
      expect(err).toMatchObject({ code: "journal.verify_failed", fault: "rolled_back" });
      expect(await seqs()).toEqual(seals.slice(0, -1));
    }, 60_000);
  },
);
