/**
 * @module A world moved between SQLite and PostgreSQL with `wk migrate-store` keeps its
 * hashes, signatures, Merkle root and state root both ways (issue 13), and every `wk` command
 * works on it in PostgreSQL: send, state, info, verify, log, replay, receipt list; `wk enqueue`
 * hands events to a `wk worker` that journals them once, and a second writer is refused with
 * `journal.lease_held` and a hint naming `wk enqueue`. Real PostgreSQL, real processes.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, inject, it } from "vitest";
import { ok, ROOT, WK, wk } from "../world/cli-harness.js";

const url = inject("wkPgUrl");
const skip = inject("wkPgSkip");
if (url === null && process.env.CI === "true") throw new Error(`PostgreSQL suites cannot be skipped in CI: ${skip}`);

interface Info {
  head: { seq: number; hash: string };
  checkpoint: { seq: number; root: string } | null;
  journal: { entries: number; at: string };
}

describe.skipIf(url === null)(
  "wk migrate-store and wk on a world in PostgreSQL (skipped when no PostgreSQL server can be started here, e.g. its binaries are not installed; never in CI)",
  () => {
    it("SQLite → PostgreSQL → SQLite keeps hashes, signatures, root and state root; every command works in between", () => {
      const w = join(mkdtempSync(join(tmpdir(), "wk-migrate-")), "w");
      ok("create", join(ROOT, "worlds/counter"), "--world", w, "--json");
      for (const by of [1, 2, 3])
        ok("send", "demo/CounterEvent@1", JSON.stringify({ key: "a", by }), "--world", w, "--json");
      const before = ok<Info>("info", "--world", w, "--json");
      const state = ok("state", "--world", w, "--json");

      const there = ok<{ from: string; to: string; head_hash: string; state_root: string }>(
        "migrate-store",
        "--to",
        url!,
        "--world",
        w,
        "--json",
      );
      expect(there).toMatchObject({ from: "sqlite", to: url, head_hash: before.head.hash });
      expect(existsSync(join(w, "journal.db"))).toBe(false);
      expect(existsSync(join(w, "journal.db.moved"))).toBe(true);
      expect(JSON.parse(readFileSync(join(w, "config.json"), "utf8"))).toMatchObject({ store: url });
      const inPg = ok<Info>("info", "--world", w, "--json");
      expect(inPg.head).toEqual(before.head);
      expect(inPg.checkpoint).toEqual(before.checkpoint);
      expect(inPg.journal.at).toMatch(/^pg:/);
      expect(ok("state", "--world", w, "--json")).toEqual(state);
      expect(ok("verify", "--world", w, "--json")).toMatchObject({ ok: true });
      expect(ok("replay", "--world", w, "--json")).toMatchObject({ ok: true, state_root: there.state_root });
      // A moved world is written where it now lives.
      ok("send", "demo/CounterEvent@1", '{"key":"b","by":5}', "--world", w, "--json");
      expect(ok<{ seq: number }[]>("log", "--world", w, "--kind", "event", "--json")).toHaveLength(4);
      expect(ok("receipt", "list", "--world", w, "--json")).toEqual([]);
      const moved = ok<Info>("info", "--world", w, "--json");
      expect(wk("migrate-store", "--to", url!, "--world", w, "--json").stdout).toContain("kernel.same_store");

      const back = ok<{ from: string; to: string; head_hash: string; state_root: string }>(
        "migrate-store",
        "--to",
        "sqlite",
        "--world",
        w,
        "--json",
      );
      expect(back).toMatchObject({ from: url, to: "sqlite", head_hash: moved.head.hash });
      expect(ok<Info>("info", "--world", w, "--json").head).toEqual(moved.head);
      expect(ok("verify", "--world", w, "--json")).toMatchObject({ ok: true });
      expect(ok("replay", "--world", w, "--json")).toMatchObject({ ok: true, state_root: back.state_root });
    }, 120_000);

    it("wk enqueue hands events to the worker that holds the world; a second writer is refused with a hint", async () => {
      const base = mkdtempSync(join(tmpdir(), "wk-enqueue-"));
      const w = join(base, "worlds", "w");
      ok("create", join(ROOT, "worlds/counter"), "--world", w, "--store", url!, "--json");
      const node = spawn(
        process.execPath,
        [...WK, "worker", "--store", url!, "--worlds", join(base, "worlds")].concat([
          "--holder",
          "solo",
          "--ttl",
          "3000",
          "--poll",
          "20",
        ]),
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      const lines: Record<string, unknown>[] = [];
      const waiters: (() => void)[] = [];
      createInterface({ input: node.stdout! }).on("line", (l) => {
        lines.push(JSON.parse(l) as Record<string, unknown>);
        for (const wake of waiters.splice(0)) wake();
      });
      const seen = async (pred: (l: Record<string, unknown>) => boolean) => {
        while (!lines.some(pred)) await new Promise<void>((r) => waiters.push(r));
      };
      try {
        await seen((l) => l.event === "acquired");
        const refused = wk("send", "demo/CounterEvent@1", '{"key":"a","by":1}', "--world", w);
        expect(refused.status).toBe(1);
        expect(refused.stderr).toContain("journal.lease_held");
        expect(refused.stderr).toContain("wk enqueue");
        const first = ok(
          "enqueue",
          "demo/CounterEvent@1",
          '{"key":"a","by":7}',
          "--idempotency-key",
          "k1",
          "--world",
          w,
          "--json",
        );
        expect(first).toMatchObject({ enqueued: 1, duplicates: 0 });
        await seen((l) => l.event === "journaled");
        // A retry after the event was journaled: enqueued again, journaled as a duplicate, appended never.
        ok("enqueue", "demo/CounterEvent@1", '{"key":"a","by":7}', "--idempotency-key", "k1", "--world", w, "--json");
        await seen((l) => l.event === "journaled" && l.duplicates === 1);
      } finally {
        const exited = new Promise((r) => node.once("exit", r));
        node.kill("SIGTERM");
        await exited;
      }
      expect(node.exitCode).toBe(0);
      expect(ok("state", "demo/Counter@1", "a", "--world", w, "--json")).toMatchObject({ count: 7, events: 1 });
      expect(ok<unknown[]>("log", "--world", w, "--kind", "event", "--json")).toHaveLength(1);
      expect(ok("verify", "--world", w, "--json")).toMatchObject({ ok: true });
    }, 120_000);
  },
);
