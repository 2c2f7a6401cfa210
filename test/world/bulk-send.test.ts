/**
 * @module `wk send --file` (NDJSON bulk ingest through group commit): 20,000 counter events
 * in seconds; the `--json` summary; a bad line (invalid JSON, wrong shape, invalid event,
 * idempotency conflict) is a typed error naming the line and JSON path, exit 1; a bad file
 * appends nothing (it is checked whole first), stdin stops at the bad line after committing
 * the lines before it; idempotency keys per line; committed work survives a kill.
 */
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT, json, wk, wkAsync, type Run } from "./cli-harness.js";
import { constOutputWasm } from "./wat-modules.js";

const COUNTER = join(ROOT, "worlds/counter");
const CLI = join(ROOT, "tools/cli/main.ts");
const EVENT = "demo/CounterEvent@1";

/** Runs `wk` with `input` on its standard input. */
const wkIn = (input: string, ...args: string[]): Run =>
  spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { encoding: "utf8", input });

const line = (key: string, by: number, idem?: string): string =>
  JSON.stringify({ schema: EVENT, value: { key, by }, ...(idem === undefined ? {} : { idempotency_key: idem }) });

interface Summary {
  ok: boolean;
  source: string;
  lines: number;
  events: number;
  duplicates: number;
  steps: number;
  failures: number;
  failed_steps: { seq: number; module: string; key: string | null; code: string; message: string }[];
  entries: number;
  seq: { first: number; last: number } | null;
  batches: number;
  batch_size: number;
  duration_ms: number;
  events_per_s: number;
  state_root: string;
  checked_first: boolean;
  error?: { code: string; message: string; line: number; path?: string; hint: string };
}

function newWorld(): { dir: string; base: string } {
  const base = mkdtempSync(join(tmpdir(), "wk-bulk-"));
  const dir = join(base, "w");
  expect(wk("create", COUNTER, "--world", dir).status).toBe(0);
  return { dir, base };
}

const entries = (w: string): number =>
  json<{ journal: { entries: number } }>(wk("info", "--world", w, "--json")).journal.entries;
const count = (w: string, key: string): number | undefined => {
  const r = wk("state", "demo/Counter@1", key, "--world", w);
  return r.status === 0 ? (JSON.parse(r.stdout) as { count: number }).count : undefined;
};

describe("wk send --file", () => {
  it("ingests 20,000 counter events in group commits, in seconds; the world verifies and replays", () => {
    const { dir, base } = newWorld();
    const file = join(base, "events.jsonl");
    writeFileSync(file, Array.from({ length: 20_000 }, (_, i) => line(`k${i % 50}`, 1)).join("\n") + "\n\n");
    const before = entries(dir);
    const s = json<Summary>(wk("send", "--file", file, "--world", dir, "--json"));
    expect(s).toMatchObject({
      ok: true,
      source: file,
      lines: 20_000,
      events: 20_000,
      duplicates: 0,
      steps: 20_000,
      failures: 0,
      failed_steps: [],
      batches: 20,
      batch_size: 1000,
      checked_first: true,
    });
    expect(s.seq).toEqual({ first: before, last: before + s.entries - 1 });
    expect(s.entries).toBeGreaterThanOrEqual(40_000); // an event and a step each, plus automatic checkpoints
    expect(s.events_per_s).toBeGreaterThan(0);
    expect(count(dir, "k7")).toBe(400);
    expect(json<{ ok: boolean }>(wk("verify", "--world", dir, "--json")).ok).toBe(true);
    expect(json<{ ok: boolean; state_root: string }>(wk("replay", "--world", dir, "--json"))).toMatchObject({
      ok: true,
      state_root: s.state_root,
    });
  }, 240_000);

  it("prints only the final report when stderr is not a terminal; --batch sets the group size", () => {
    const { dir, base } = newWorld();
    const file = join(base, "e.jsonl");
    writeFileSync(file, [line("a", 1), "", "   ", line("b", 2), line("a", 3)].join("\r\n"));
    const r = wk("send", "--file", file, "--world", dir, "--batch", "2");
    expect(r.status, r.stderr).toBe(0);
    // Nothing but Node's own warnings (WASI is experimental in Node 20): no progress bar off a terminal.
    expect(r.stderr.replace(/^\(node:\d+\) ExperimentalWarning.*\n(\(Use .*\n)?/gm, "")).toBe("");
    expect(r.stdout).toMatch(
      /^appended 3 event\(s\) from .* \(\d+ events\/s, 2 commit\(s\)\)\n  3 step\(s\), 0 failed, \d+ entries at seq \d+\.\.\d+\n$/,
    );
    expect(count(dir, "a")).toBe(4);
  }, 60_000);

  it("a bad line in a file is a typed error naming the line and path; nothing of the file is appended", () => {
    const { dir, base } = newWorld();
    const cases: [string, string, string, string | undefined][] = [
      ["{not json", "ingest.invalid_json", "line 3", undefined],
      ['["demo/CounterEvent@1", {}]', "ingest.bad_line", "line 3 at $", "$"],
      [JSON.stringify({ schema: EVENT }), "ingest.bad_line", "value is missing", "$.value"],
      [
        JSON.stringify({ schema: EVENT, value: {}, idempotency: "x" }),
        "ingest.bad_line",
        "unknown field",
        "$.idempotency",
      ],
      [
        JSON.stringify({ schema: EVENT, value: { key: "a", by: -1 } }),
        "kernel.bad_event",
        "line 3 at $.value.by",
        "$.value.by",
      ],
      [JSON.stringify({ schema: "demo/Nope@1", value: {} }), "kernel.unknown_schema", "line 3 at $.schema", "$.schema"],
      [
        JSON.stringify({ schema: EVENT, value: { key: "a", by: 1 }, idempotency_key: 7 }),
        "ingest.bad_line",
        "idempotency_key",
        "$.idempotency_key",
      ],
    ];
    const before = entries(dir);
    for (const [bad, code, text, path] of cases) {
      const file = join(base, "bad.jsonl");
      writeFileSync(file, [line("a", 1), line("b", 1), bad, line("c", 1)].join("\n") + "\n");
      const human = wk("send", "--file", file, "--world", dir);
      expect(human.status, bad).toBe(1);
      expect(human.stderr, bad).toContain(`${code}: `);
      expect(human.stderr, bad).toContain(text);
      expect(human.stdout).toContain("nothing appended");
      const j = wk("send", "--file", file, "--world", dir, "--json");
      expect(j.status).toBe(1);
      const s = JSON.parse(j.stdout) as Summary;
      expect(s, bad).toMatchObject({
        ok: false,
        events: 0,
        lines: 2,
        seq: null,
        checked_first: true,
        error: { code, line: 3 },
      });
      expect(s.error!.path).toBe(path);
    }
    // Invalid UTF-8 is refused with its byte offset, never replaced.
    const file = join(base, "utf8.jsonl");
    writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(line("a", 1) + "\n" + '{"schema":"demo/CounterEvent@1","value":{"key":"'),
        Buffer.from([0xc3, 0x28]),
        Buffer.from('","by":1}}\n'),
      ]),
    );
    const u = wk("send", "--file", file, "--world", dir, "--json");
    expect(u.status).toBe(1);
    expect(JSON.parse(u.stdout)).toMatchObject({
      error: { code: "ingest.invalid_unicode", line: 2, path: expect.stringMatching(/^@\d+$/) },
    });
    expect(entries(dir)).toBe(before);
    expect(count(dir, "a")).toBeUndefined();
  }, 240_000);

  it("stdin (--file -) commits the lines before a bad line and stops there", () => {
    const { dir } = newWorld();
    const input =
      [
        line("a", 1),
        line("a", 2),
        line("b", 5),
        JSON.stringify({ schema: EVENT, value: { key: "a" } }),
        line("c", 1),
      ].join("\n") + "\n";
    const r = wkIn(input, "send", "--file", "-", "--world", dir, "--json");
    expect(r.status).toBe(1);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s).toMatchObject({
      ok: false,
      source: "-",
      events: 3,
      lines: 3,
      steps: 3,
      checked_first: false,
      error: { code: "kernel.bad_event", line: 4, path: "$.value.by" },
    });
    expect(s.seq).not.toBeNull();
    // With --json the error is the summary's (the CLI's one error format: stdout, not stderr).
    expect(s.error!.message).toBe('line 4 at $.value.by: event does not match demo/CounterEvent@1: missing field "by"');
    expect(s.error!.hint).toContain("before line 4 were committed");
    expect(count(dir, "a")).toBe(3);
    expect(count(dir, "b")).toBe(5);
    expect(count(dir, "c")).toBeUndefined(); // after the bad line: never read
    const human = wkIn([line("d", 1), "{"].join("\n"), "send", "--file", "-", "--world", dir);
    expect(human.status).toBe(1);
    expect(human.stdout).toContain("appended 1 event(s) from standard input before line 2, where ingest stopped");
    expect(human.stderr).toMatch(
      /^error: ingest\.invalid_json: line 2: not valid JSON: .*\nhint: the 1 event line\(s\) before line 2 were committed/m,
    );
    expect(json<{ ok: boolean }>(wk("verify", "--world", dir, "--json")).ok).toBe(true);
  }, 120_000);

  it("a named pipe is read once, like stdin: the lines before a bad one are committed", async () => {
    const { dir, base } = newWorld();
    const fifo = join(base, "events.fifo");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const run = wkAsync("send", "--file", fifo, "--world", dir, "--json");
    // Blocks until the child opens the pipe for reading, then writes and closes it.
    writeFileSync(fifo, [line("p", 1), line("p", 2), "[]", line("p", 4)].join("\n") + "\n");
    const r = await run;
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({
      ok: false,
      events: 2,
      checked_first: false,
      error: { code: "ingest.bad_line", line: 3 },
    });
    expect(count(dir, "p")).toBe(3);
  }, 60_000);

  it("idempotency keys per line: a re-run appends nothing, a conflict names its line", () => {
    const { dir, base } = newWorld();
    const file = join(base, "keyed.jsonl");
    writeFileSync(file, [line("a", 1, "k1"), line("a", 2, "k2"), line("a", 1, "k1")].join("\n"));
    const first = json<Summary>(wk("send", "--file", file, "--world", dir, "--json"));
    expect(first).toMatchObject({ events: 2, duplicates: 1 });
    const again = json<Summary>(wk("send", "--file", file, "--world", dir, "--json"));
    expect(again).toMatchObject({ ok: true, events: 0, duplicates: 3, seq: null });
    expect(count(dir, "a")).toBe(3);
    // The same key for another request: against the journal, and within the file.
    writeFileSync(file, [line("b", 1, "k3"), line("a", 9, "k1")].join("\n"));
    const stored = wk("send", "--file", file, "--world", dir, "--json");
    expect(stored.status).toBe(1);
    expect(JSON.parse(stored.stdout)).toMatchObject({
      events: 0,
      error: { code: "kernel.idempotency_conflict", line: 2, path: "$.idempotency_key" },
    });
    writeFileSync(file, [line("b", 1, "k4"), line("b", 2, "k4")].join("\n"));
    const within = wk("send", "--file", file, "--world", dir);
    expect(within.status).toBe(1);
    expect(within.stderr).toContain(
      'kernel.idempotency_conflict: line 2 at $.idempotency_key: idempotency key "k4" was first used on line 1',
    );
    expect(count(dir, "b")).toBeUndefined();
  }, 120_000);

  it("failed steps are journaled, counted and listed; the command exits 1", () => {
    // The counter world with a module whose output is never a valid step result.
    const air = mkdtempSync(join(tmpdir(), "wk-bulk-air-"));
    writeFileSync(join(air, "package.json"), "{}\n");
    writeFileSync(join(air, "broken.wasm"), constOutputWasm(Uint8Array.of(0xff)));
    for (const f of ["schemas.air.json", "manifest.air.json"]) copyFileSync(join(COUNTER, f), join(air, f));
    const mod = JSON.parse(readFileSync(join(COUNTER, "counter.air.json"), "utf8")) as Record<string, unknown>;
    writeFileSync(join(air, "counter.air.json"), JSON.stringify({ ...mod, wasm: "./broken.wasm" }));
    const base = mkdtempSync(join(tmpdir(), "wk-bulk-"));
    const dir = join(base, "w");
    expect(wk("create", air, "--world", dir).status).toBe(0);
    const file = join(base, "e.jsonl");
    writeFileSync(file, [line("a", 1), line("b", 1), line("c", 1)].join("\n"));
    const j = wk("send", "--file", file, "--world", dir, "--json");
    expect(j.status).toBe(1);
    const s = JSON.parse(j.stdout) as Summary;
    expect(s).toMatchObject({ ok: true, events: 3, steps: 3, failures: 3 });
    expect(s.failed_steps.map((f) => [f.module, f.key])).toEqual([
      ["demo/Counter@1", "a"],
      ["demo/Counter@1", "b"],
      ["demo/Counter@1", "c"],
    ]);
    expect(s.failed_steps[0]!.code).toMatch(/^(module|kernel)\./);
    const human = wk("send", "--file", file, "--world", dir);
    expect(human.status).toBe(1);
    expect(human.stdout).toMatch(/3 step\(s\), 3 failed/);
    expect(human.stdout).toMatch(/^  FAILED step at seq \d+: demo\/Counter@1 \[a\]: /m);
  }, 120_000);

  it("usage: no <schema> <json> or --idempotency-key beside --file, a positive --batch; a missing file exits 1", () => {
    const { dir, base } = newWorld();
    const file = join(base, "e.jsonl");
    writeFileSync(file, line("a", 1));
    expect(wk("send", EVENT, '{"key":"a","by":1}', "--file", file, "--world", dir).status).toBe(2);
    expect(wk("send", "--file", file, "--idempotency-key", "k", "--world", dir).status).toBe(2);
    expect(wk("send", "--file", file, "--batch", "0", "--world", dir).status).toBe(2);
    expect(wk("send", "--world", dir).status).toBe(2);
    const missing = wk("send", "--file", join(base, "nope.jsonl"), "--world", dir);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("ENOENT");
    expect(entries(dir)).toBe(2);
  }, 60_000);

  it("a slow producer's events are committed while it waits; a kill loses nothing committed", async () => {
    const { dir } = newWorld();
    const p = spawn(process.execPath, ["--import", "tsx", CLI, "send", "--file", "-", "--world", dir, "--json"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = new Promise<number | null>((res) =>
      p.on("exit", (code, signal) => res(signal === null ? code : -1)),
    );
    p.stdin.write([line("slow", 1), line("slow", 2), line("slow", 3)].join("\n") + "\n");
    // The batch is not full, but the input went idle: it is committed (poll the journal, read-only).
    const deadline = Date.now() + 60_000;
    let seen = 0;
    while (Date.now() < deadline) {
      const r = wk("log", "--world", dir, "--kind", "event", "--json");
      if (r.status === 0) seen = (JSON.parse(r.stdout) as unknown[]).length;
      if (seen >= 3) break;
      await new Promise((res) => setTimeout(res, 250));
    }
    expect(seen).toBe(3);
    p.kill("SIGKILL");
    expect(await exited).toBe(-1);
    // Reopening checks and seals the tail the crash left; the committed events are there.
    expect(count(dir, "slow")).toBe(6);
    expect(json<{ ok: boolean }>(wk("verify", "--world", dir, "--json")).ok).toBe(true);
  }, 120_000);
});
