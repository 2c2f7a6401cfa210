/**
 * @module Every `wk` command against the CLI's contract (README, docs/cli.md, tools/cli/io.ts):
 * `--help` exits 0 with its usage; a bad argument (an unknown option, a missing argument or
 * option, an invalid value) exits 2 with `error: cli.<code>: <message>` and a `hint:` line on
 * stderr, or with `--json` one `{"ok": false, "code", "message", "hint"}` on stdout; a run that
 * succeeds with `--json` exits 0 and prints JSON; a run that fails (a missing world, a bad
 * file, …) exits 1 (`wk analyze`, a CI gate, and `wk trace`/`wk explain`, which share its refusals: 3) and prints exactly one error record with a
 * dotted code on stdout with `--json`, and `error: <code>: <message>` (and the hint, where the
 * code has one) on stderr without. The commands are enumerated from `fullProgram()`: a new command fails this file
 * until it has a case in CASES.
 *
 * The fixture (beforeAll, in a temp dir): a counter world; a fetcher world that fetched a
 * page from a local HTTP server (an ok receipt, a payload blob to erase, a bundle, an audit
 * archive); a governed fetcher world whose policy holds an intent for approval and names the
 * approver of proposals. Commands that write to a world get their own copy.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { generateKeyPair, saveKeyPair } from "../../kernel/crypto/keys.js";
import { exportAuditArchive } from "../../kernel/world/audit.js";
import { createWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import { fullProgram } from "../../tools/cli/program.js";
import { ROOT, wkAsync, type Run } from "../world/cli-harness.js";

const COUNTER = join(ROOT, "worlds/counter");
/** The test database (test/pg/global-setup.ts), or null where no PostgreSQL server can start (never in CI). */
const PG = inject("wkPgUrl");
const FETCHER = join(ROOT, "test/fixtures/worlds/fetcher/world.air.json");
const FETCHER_WASM = join(ROOT, "modules/assemblyscript/fetcher/fetcher.wasm");
const CODE = /^[a-z_]+\.[a-z0-9_.]+$/;

// ---------------------------------------------------------------------------------------------
// Running wk: a few processes at a time (each costs ~0.1–0.5 s of CPU; the machine may have 2 cores).

const MAX_RUNNING = 4;
let running = 0;
const queue: (() => void)[] = [];

/**
 * Each copy of a fixture world is a world of its own, run as if on a machine of its own: its
 * own state directory, so the anchor log of one copy's seals never makes another copy of the
 * same world look rolled back (copies of one world on one machine share a log).
 */
const machines = new Map<string, string>();

async function wk(...args: string[]): Promise<Run> {
  if (running >= MAX_RUNNING) await new Promise<void>((r) => queue.push(r));
  running++;
  try {
    const world = args.indexOf("--world");
    const machine = world < 0 ? undefined : machines.get(args[world + 1]!);
    if (machine === undefined) return await wkAsync(...args);
    const state = process.env.WK_STATE_DIR;
    process.env.WK_STATE_DIR = machine; // wkAsync spawns at once, with the environment as it is now
    const run = wkAsync(...args);
    process.env.WK_STATE_DIR = state;
    return await run;
  } finally {
    running--;
    queue.shift()?.();
  }
}

const show = (args: string[], r: Run): string =>
  `wk ${args.join(" ")}\nexit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

// ---------------------------------------------------------------------------------------------
// The fixture.

interface Fixture {
  base: string;
  /** A counter world with a few events (read only: copy it to write). */
  counter: string;
  /** A fetcher world with one ok receipt for `intent`, whose page body is blob `pageBlob`. */
  fetched: string;
  intent: string;
  pageBlob: string;
  /** A governed fetcher world: intent `held` waits for approval; the policy's approver signs proposals. */
  governed: string;
  held: string;
  approverKey: string;
  developerKey: string;
  /** A patch against `governed`'s manifest (adds a schema). */
  patch: string;
  bundle: string;
  archive: string;
  events: string;
  /** A file that is not a directory (for paths that cannot be written). */
  plainFile: string;
  /** A fresh path under base. */
  fresh(name: string): string;
  /** A copy of a world, for a command that writes to it. */
  copy(world: string): string;
  /** A directory that holds no world. */
  nowhere: string;
}

let F: Fixture;
let server: Server;
let fresh = 0;

/** The fetcher world's AIR in a temp folder, its policy's rule deciding `decision` (approvers: `approver`). */
function fetcherAir(dir: string, decision: "allow" | "require_approval", approver?: string): string {
  cpSync(FETCHER_WASM, join(dir, "fetcher.wasm"));
  const defs = JSON.parse(readFileSync(FETCHER, "utf8")) as Record<string, unknown>[];
  for (const d of defs) {
    if (d.$kind === "defmodule") d.wasm = "./fetcher.wasm";
    if (d.$kind === "defpolicy") {
      (d.rules as { decision: string }[])[0]!.decision = decision;
      if (approver !== undefined) Object.assign(d, { approvers: [{ id: "ops", public_key: approver }], threshold: 1 });
    }
  }
  writeFileSync(join(dir, "world.air.json"), JSON.stringify(defs));
  return dir;
}

beforeAll(async () => {
  server = createServer((_req, res) => res.end("a page about counters"));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const base = mkdtempSync(join(tmpdir(), "wk-every-command-"));
  const path = (name: string): string => join(base, name);
  const approver = generateKeyPair();
  saveKeyPair(path("approver.key"), approver);
  saveKeyPair(path("developer.key"), generateKeyPair());
  const opts = { adapters: defaultAdapters() };

  const counter = path("counter");
  const c = await createWorld(counter, sourceFromAirDir(COUNTER), { synchronous: "NORMAL" });
  await c.sendMany(
    [1, 2, 3].map((by) => ({ schema: "demo/CounterEvent@1", json: { key: by === 2 ? "bob" : "alice", by } })),
  );
  await c.close();

  const fetched = path("fetched");
  const fw = await createWorld(fetched, sourceFromAirDir(fetcherAir(mkdtempSync(path("air-")), "allow")), opts);
  await fw.send("demo/Fetch@1", { key: "a", url: `${url}/page` });
  expect(fw.state.pending.size, "the fetch is done while sending").toBe(0);
  await fw.close();

  const governed = path("governed");
  const gw = await createWorld(
    governed,
    sourceFromAirDir(fetcherAir(mkdtempSync(path("air-")), "require_approval", approver.publicKeyHex)),
    opts,
  );
  await gw.send("demo/Fetch@1", { key: "h", url: `${url}/held` });
  const [held] = [...gw.state.pending.keys()];
  const manifest = gw.catalog.manifestHash;
  await gw.close();

  const patch = path("add-schema.patch.json");
  writeFileSync(
    patch,
    JSON.stringify({
      base_manifest_hash: manifest,
      description: "add a schema",
      patches: [
        { add_def: { kind: "defschema", node: { $kind: "defschema", name: "demo/Note@1", type: { text: {} } } } },
      ],
    }),
  );
  const events = path("events.jsonl");
  writeFileSync(
    events,
    ["x", "y", "x"].map((key) => JSON.stringify({ schema: "demo/CounterEvent@1", value: { key, by: 1 } })).join("\n") +
      "\n",
  );
  const archive = path("fetched.wka");
  writeFileSync(archive, (await exportAuditArchive(fetched)).bytes);
  const plainFile = path("plain.txt");
  writeFileSync(plainFile, "not a directory\n");

  // The receipt's bundle and the page blob, through the CLI itself.
  const [list, log] = await Promise.all([
    wk("receipt", "list", "--world", fetched, "--json"),
    wk("log", "--kind", "effect_receipt", "--world", fetched, "--json"),
  ]);
  const rows = JSON.parse(list.stdout) as { intent_id: string; receipt: { status: string } | null }[];
  expect(rows.map((r) => r.receipt?.status)).toEqual(["ok"]);
  const pageRef = (JSON.parse(log.stdout) as { body: { payload: { body_ref: string } } }[])[0]!.body.payload.body_ref;
  const bundle = path("receipt.bundle.json");
  const exported = await wk("receipt", "export", rows[0]!.intent_id, "--world", fetched);
  expect(exported.status, exported.stderr).toBe(0);
  writeFileSync(bundle, exported.stdout);

  F = {
    base,
    counter,
    fetched,
    intent: rows[0]!.intent_id,
    pageBlob: `sha256:${pageRef}`,
    governed,
    held: held!,
    approverKey: path("approver.key"),
    developerKey: path("developer.key"),
    patch,
    bundle,
    archive,
    events,
    plainFile,
    fresh: (name) => path(`${++fresh}-${name}`),
    copy: (world) => {
      const to = path(`copy-${++fresh}`);
      cpSync(world, to, { recursive: true });
      machines.set(to, mkdtempSync(join(process.env.WK_STATE_DIR!, "machine-")));
      return to;
    },
    nowhere: path("no-such-world"),
  };
});

afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

// ---------------------------------------------------------------------------------------------
// The cases, one per leaf command.

type Args = (f: Fixture) => string[];

interface Case {
  /** Bad arguments besides an unknown option: a missing argument or option, an invalid value (exit 2). */
  usage: Args[];
  /**
   * A run that succeeds, with what its JSON must hold: the arguments (`--json` is added), or a
   * run made elsewhere (the governance chain); null: the command does not report.
   */
  ok: { args: Args | ((f: Fixture) => Promise<Run>); expect: (out: unknown, f: Fixture) => void } | null;
  /** Runs that fail with a coded error (exit 1); each one's arguments are run with `--json`, then without. */
  errors: Args[];
  /** The exit code of those runs when not 1 (`wk analyze`, a CI gate whose 1 means warnings, refuses with 3). */
  errorExit?: number;
  /** Why there is no success or error run. */
  why?: string;
}

/** The governance chain on one copy of the governed world: propose → shadow → approve → apply. */
let chain:
  Promise<{ world: string; id: string; runs: Record<"propose" | "shadow" | "approve" | "apply", Run> }> | undefined;
function governance(): NonNullable<typeof chain> {
  chain ??= (async () => {
    const world = F.copy(F.governed);
    const propose = await wk("propose", F.patch, "--key", F.developerKey, "--world", world, "--json");
    const id = propose.status === 0 ? (JSON.parse(propose.stdout) as { proposal_id: string }).proposal_id : "none";
    const shadow = await wk("shadow", id, "--world", world, "--json");
    const approve = await wk("approve", id, "--key", F.approverKey, "--world", world, "--json");
    const apply = await wk("apply", id, "--world", world, "--json");
    return { world, id, runs: { propose, shadow, approve, apply } };
  })();
  return chain;
}

/** A success case for a command of the governance chain: its run happens in `governance()`. */
function chained(step: "propose" | "shadow" | "approve" | "apply", expectOut: (out: unknown) => void): Case["ok"] {
  return { args: async () => (await governance()).runs[step], expect: expectOut };
}

const isObject = (v: unknown): Record<string, unknown> => {
  expect(v).toBeTypeOf("object");
  expect(v).not.toBeNull();
  return v as Record<string, unknown>;
};

const CASES: Record<string, Case> = {
  create: {
    usage: [() => [], () => [COUNTER, "--llm-key-env", "KEY"], () => [COUNTER, "--llm-base-url", "ftp://example.com"]],
    ok: {
      args: (f) => [COUNTER, "--world", f.fresh("created")],
      expect: (o) => expect(o).toMatchObject({ world_id: expect.any(String), modules: ["demo/Counter@1"] }),
    },
    errors: [
      (f) => [join(f.base, "no-such-air"), "--world", f.fresh("created")],
      (f) => [COUNTER, "--world", f.copy(f.counter)],
    ],
  },
  send: {
    usage: [
      () => [],
      () => ["demo/CounterEvent@1"],
      (f) => ["--file", f.events, "demo/CounterEvent@1", "{}"],
      (f) => ["--file", f.events, "--batch", "0", "--world", f.counter],
    ],
    ok: {
      args: (f) => ["demo/CounterEvent@1", '{"key":"carol","by":4}', "--world", f.copy(f.counter)],
      expect: (o) => expect(o).toMatchObject({ seq: expect.any(Number), duplicate: false, failures: [] }),
    },
    errors: [
      (f) => ["demo/CounterEvent@1", '{"key":"carol","by":4}', "--world", f.nowhere],
      (f) => ["demo/CounterEvent@1", '{"key":"carol","by":-4}', "--world", f.copy(f.counter)],
      (f) => ["demo/CounterEvent@1", "{not json", "--world", f.counter],
      (f) => ["--file", join(f.base, "no-such.jsonl"), "--world", f.counter],
    ],
  },
  run: {
    usage: [
      (f) => ["--wait", "soon", "--world", f.counter],
      (f) => ["--now-ns", "1.5", "--world", f.counter],
      (f) => ["--now-ns", "1", "--wait", "5", "--world", f.counter],
    ],
    ok: { args: (f) => ["--world", f.copy(f.counter)], expect: (o) => expect(o).toMatchObject({ dispatched: 0 }) },
    errors: [(f) => ["--world", f.nowhere]],
  },
  replay: {
    usage: [(f) => ["--to", "last", "--world", f.counter]],
    ok: { args: (f) => ["--world", f.counter], expect: (o) => expect(o).toMatchObject({ ok: true }) },
    errors: [(f) => ["--world", f.nowhere]],
  },
  fork: {
    usage: [
      () => [],
      (f) => ["--at", "1", "--world", f.counter],
      (f) => ["--at", "one", "--to", f.fresh("fork"), "--world", f.counter],
    ],
    ok: {
      args: (f) => ["--at", "1", "--to", f.fresh("fork"), "--world", f.counter],
      expect: (o) => expect(o).toMatchObject({ at: expect.any(Number), world_id: expect.any(String) }),
    },
    errors: [(f) => ["--at", "1", "--to", f.fresh("fork"), "--world", f.nowhere]],
  },
  state: {
    usage: [(f) => ["demo/Counter@1", "alice", "extra", "--world", f.counter]],
    ok: {
      args: (f) => ["--world", f.counter],
      expect: (o) => expect(o).toMatchObject({ state_root: expect.any(String), cells: expect.any(Array) }),
    },
    errors: [
      (f) => ["demo/Counter@1", "nobody", "--world", f.counter],
      (f) => ["demo/NoSuch@1", "--world", f.counter],
      (f) => ["--world", f.nowhere],
    ],
  },
  info: {
    usage: [(f) => ["extra", "--world", f.counter]],
    ok: {
      args: (f) => ["--world", f.counter],
      expect: (o) => expect(o).toMatchObject({ world_id: expect.any(String) }),
    },
    errors: [(f) => ["--world", f.nowhere]],
  },
  verify: {
    usage: [(f) => ["extra", "--world", f.counter]],
    ok: { args: (f) => ["--world", f.counter], expect: (o) => expect(o).toMatchObject({ ok: true }) },
    errors: [
      (f) => ["--world", f.nowhere],
      (f) => ["--anchor", join(f.base, "no-such-anchor.json"), "--world", f.counter],
    ],
  },
  checkpoint: {
    usage: [(f) => ["extra", "--world", f.counter]],
    ok: { args: (f) => ["--world", f.copy(f.counter)], expect: (o) => expect(o).toMatchObject({ kind: "checkpoint" }) },
    errors: [
      (f) => ["--world", f.nowhere],
      (f) => ["--anchor-out", join(f.plainFile, "anchor.json"), "--world", f.copy(f.counter)],
    ],
  },
  anchor: {
    usage: [(f) => ["--seq", "last", "--world", f.counter]],
    ok: {
      args: (f) => ["--world", f.counter],
      expect: (o) => expect(o).toMatchObject({ tree_size: expect.any(Number), world_id: expect.any(String) }),
    },
    errors: [(f) => ["--world", f.nowhere], (f) => ["--out", join(f.plainFile, "anchor.json"), "--world", f.counter]],
  },
  erase: {
    usage: [(f) => ["not-a-hash", "--reason", "test", "--world", f.counter], (f) => [f.pageBlob, "--world", f.fetched]],
    ok: {
      args: (f) => [f.pageBlob, "--reason", "test", "--world", f.copy(f.fetched)],
      expect: (o, f) => expect(o).toMatchObject({ erased: f.pageBlob, seq: expect.any(Number) }),
    },
    errors: [
      (f) => [`sha256:${"ab".repeat(32)}`, "--reason", "test", "--world", f.copy(f.counter)],
      (f) => [f.pageBlob, "--reason", "test", "--world", f.nowhere],
    ],
  },
  log: {
    usage: [(f) => ["--kind", "no_such_kind", "--world", f.counter], (f) => ["--from", "start", "--world", f.counter]],
    ok: { args: (f) => ["--world", f.counter], expect: (o) => expect(Array.isArray(o) && o.length > 0).toBe(true) },
    errors: [(f) => ["--world", f.nowhere]],
  },
  analyze: {
    usage: [
      (f) => ["--world", f.counter, "--file", f.events],
      (f) => ["--since", "start", "--world", f.counter],
      (f) => ["--now", "soon", "--world", f.counter],
    ],
    ok: {
      args: (f) => ["--world", f.counter],
      expect: (o) =>
        expect(o).toMatchObject({ checked: "verified", findings: [], counts: { warn: 0, critical: 0 }, exit: 0 }),
    },
    // A missing world, a missing file, a file that is not a journal export.
    errors: [
      (f) => ["--world", f.nowhere],
      (f) => ["--file", join(f.base, "no-such.ndjson")],
      (f) => ["--file", f.events],
    ],
    errorExit: 3,
  },
  "keys rotate-adapter": {
    usage: [(f) => ["extra", "--world", f.counter]],
    ok: {
      args: (f) => ["--world", f.copy(f.counter)],
      expect: (o) => expect(o).toMatchObject({ seq: expect.any(Number), adapter_public_key: expect.any(String) }),
    },
    errors: [(f) => ["--world", f.nowhere]],
  },
  "keys new": {
    usage: [() => []],
    ok: {
      args: (f) => [join(f.fresh("keys"), "k.key")],
      expect: (o) => expect(o).toMatchObject({ kind: "ed25519", public_key: expect.stringMatching(/^[0-9a-f]{64}$/) }),
    },
    errors: [(f) => [f.approverKey], (f) => [join(f.plainFile, "k.key")]],
  },
  "receipt verify": {
    usage: [() => [], (f) => [f.bundle, "--world-key", "xyz"]],
    ok: { args: (f) => [f.bundle], expect: (o) => expect(o).toMatchObject({ ok: true }) },
    errors: [(f) => [join(f.base, "no-such.bundle.json")]],
  },
  "receipt list": {
    usage: [(f) => ["extra", "--world", f.fetched]],
    ok: {
      args: (f) => ["--world", f.fetched],
      expect: (o, f) => expect(o).toMatchObject([{ intent_id: f.intent, receipt: { status: "ok" } }]),
    },
    errors: [(f) => ["--world", f.nowhere]],
  },
  "receipt export": {
    usage: [(f) => ["--world", f.fetched]],
    ok: {
      args: (f) => [f.intent, "--world", f.copy(f.fetched)],
      expect: (o) => expect(isObject(o).entry).toBeTypeOf("object"),
    },
    errors: [(f) => [`sha256:${"cd".repeat(32)}`, "--world", f.fetched], (f) => [f.intent, "--world", f.nowhere]],
  },
  trace: {
    usage: [(f) => ["--world", f.fetched], (f) => [f.intent, "--world", f.fetched, "--file", f.events]],
    ok: {
      args: (f) => [f.intent, "--world", f.fetched],
      expect: (o, f) => {
        expect(o).toMatchObject({ kind: "event", children: [expect.objectContaining({ kind: "step" })] });
        expect(JSON.stringify(o)).toContain(f.intent);
      },
    },
    // A missing world; an intent, seq or key the journal does not hold (refused like analyze: 3).
    errors: [(f) => ["1", "--world", f.nowhere], (f) => ["no-such-key", "--world", f.fetched]],
    errorExit: 3,
  },
  explain: {
    usage: [(f) => ["--world", f.fetched]],
    ok: {
      args: (f) => [f.intent, "--world", f.fetched],
      expect: (o, f) =>
        expect(o).toMatchObject({ intent_id: f.intent, result: { what: expect.stringContaining("receipt ok") } }),
    },
    errors: [(f) => [f.intent, "--world", f.nowhere], (f) => [`sha256:${"0".repeat(64)}`, "--world", f.fetched]],
    errorExit: 3,
  },
  "approve-effect": {
    usage: [(f) => [f.held, "--world", f.governed]],
    ok: {
      args: (f) => [f.held, "--key", f.approverKey, "--deny", "--world", f.copy(f.governed)],
      expect: (o, f) => expect(o).toMatchObject({ ok: true, intent_id: f.held, decision: "deny" }),
    },
    errors: [
      (f) => [f.held, "--key", join(f.base, "no-such.key"), "--world", f.governed],
      (f) => [f.held, "--key", f.developerKey, "--world", f.copy(f.governed)],
    ],
  },
  propose: {
    usage: [(f) => ["--world", f.governed]],
    ok: chained("propose", (o) => expect(o).toMatchObject({ proposal_id: expect.stringMatching(/^sha256:/) })),
    errors: [
      (f) => [join(f.base, "no-such.patch.json"), "--world", f.governed],
      (f) => [f.events, "--world", f.governed],
    ],
  },
  shadow: {
    usage: [
      (f) => ["--world", f.governed],
      (f) => [`sha256:${"ef".repeat(32)}`, "--window", "all", "--world", f.governed],
    ],
    ok: chained("shadow", (o) => expect(o).toMatchObject({ report_hash: expect.any(String) })),
    errors: [(f) => [`sha256:${"ef".repeat(32)}`, "--world", f.copy(f.governed)]],
  },
  approve: {
    usage: [(f) => [`sha256:${"ef".repeat(32)}`, "--world", f.governed]],
    ok: chained("approve", (o) =>
      expect(o).toMatchObject({ proposal_id: expect.any(String), approver: expect.any(String) }),
    ),
    errors: [(f) => [`sha256:${"ef".repeat(32)}`, "--key", join(f.base, "no-such.key"), "--world", f.governed]],
  },
  deny: {
    usage: [
      (f) => [`sha256:${"ef".repeat(32)}`, "--key", f.approverKey, "--world", f.governed],
      (f) => [`sha256:${"ef".repeat(32)}`, "--reason", "no", "--world", f.governed],
    ],
    ok: {
      // Its own copy with a fresh proposal (the chain's is applied): denied before any shadow.
      args: async (f) => {
        const world = f.copy(f.governed);
        const filed = await wk("propose", f.patch, "--key", f.developerKey, "--world", world, "--json");
        const id = filed.status === 0 ? (JSON.parse(filed.stdout) as { proposal_id: string }).proposal_id : "none";
        return wk("deny", id, "--key", f.approverKey, "--reason", "not now", "--world", world, "--json");
      },
      expect: (o) => expect(o).toMatchObject({ proposal_id: expect.any(String), seq: expect.any(Number) }),
    },
    errors: [
      (f) => [
        `sha256:${"ef".repeat(32)}`,
        "--key",
        join(f.base, "no-such.key"),
        "--reason",
        "no",
        "--world",
        f.governed,
      ],
      (f) => [`sha256:${"ef".repeat(32)}`, "--key", f.approverKey, "--reason", "no", "--world", f.copy(f.governed)],
    ],
  },
  apply: {
    usage: [(f) => ["--world", f.governed]],
    ok: chained("apply", (o) => expect(o).toMatchObject({ manifest_hash: expect.stringMatching(/^sha256:/) })),
    errors: [(f) => [`sha256:${"ef".repeat(32)}`, "--world", f.copy(f.governed)]],
  },
  revert: {
    usage: [(f) => ["--world", f.governed], (f) => ["last", "--world", f.governed]],
    ok: {
      args: async () => {
        const g = await governance();
        const seq = (JSON.parse(g.runs.apply.stdout) as { seq: number }).seq;
        return wk("revert", String(seq), "--key", F.developerKey, "--world", g.world, "--json");
      },
      expect: (o) =>
        expect(o).toMatchObject({
          proposal_id: expect.stringMatching(/^sha256:/),
          reverts: { apply_seq: expect.any(Number) },
        }),
    },
    errors: [(f) => ["0", "--world", f.governed], (f) => ["1", "--world", f.nowhere]],
  },
  "air check": {
    usage: [() => []],
    ok: {
      args: () => [COUNTER],
      expect: (o) => expect(o).toMatchObject({ ok: true, manifest_hash: expect.any(String) }),
    },
    errors: [(f) => [join(f.base, "no-such-air")]],
  },
  "air hash": {
    usage: [() => []],
    ok: {
      args: () => [join(COUNTER, "counter.air.json"), "--def"],
      expect: (o) => expect(o).toMatchObject({ def: true, hash: expect.stringMatching(/^sha256:/) }),
    },
    errors: [(f) => [join(f.base, "no-such.json")], (f) => [f.events]],
  },
  "air schema": {
    usage: [() => ["extra"]],
    ok: { args: () => [], expect: (o) => expect(isObject(o)).toBeTruthy() },
    errors: [],
    why: "it reads nothing, so nothing it is given can fail",
  },
  "module build": {
    usage: [
      (f) => [join(ROOT, "modules/wat/counter.wat")],
      (f) => [join(ROOT, "modules/wat/counter.wat"), "-o", f.fresh("out.wasm"), "--language", "cobol"],
      (f) => [join(f.base, "x.rs"), "-o", f.fresh("out.wasm")],
    ],
    ok: {
      args: (f) => [join(ROOT, "modules/wat/counter.wat"), "-o", f.fresh("counter.wasm")],
      expect: (o) => expect(o).toMatchObject({ ok: true, language: "wat", bytes: expect.any(Number) }),
    },
    errors: [
      (f) => [join(f.base, "no-such.wat"), "-o", f.fresh("out.wasm")],
      (f) => {
        const src = f.fresh("bad.wat");
        writeFileSync(src, "(module\n  (func oops)\n)\n");
        return [src, "-o", f.fresh("out.wasm")];
      },
      (f) => [join(ROOT, "modules/wat/counter.wat"), "-o", join(f.plainFile, "out.wasm")],
    ],
  },
  export: {
    usage: [(f) => ["--world", f.counter]],
    ok: {
      args: (f) => ["--audit", f.fresh("counter.wka"), "--world", f.counter],
      expect: (o) => expect(o).toMatchObject({ file: expect.any(String), entries: expect.any(Number) }),
    },
    errors: [
      (f) => ["--audit", f.fresh("x.wka"), "--world", f.nowhere],
      (f) => ["--audit", join(f.plainFile, "x.wka"), "--world", f.counter],
    ],
  },
  audit: {
    usage: [() => []],
    ok: {
      args: (f) => [f.archive],
      expect: (o) => expect(o).toMatchObject({ ok: true, state_root: expect.any(String) }),
    },
    errors: [(f) => [join(f.base, "no-such.wka")], (f) => [f.archive, "--anchor", join(f.base, "no-such-anchor.json")]],
  },
  serve: {
    usage: [(f) => ["--world", f.counter, "--port", "http"], (f) => ["--world", f.counter, "--per-world", "0"]],
    ok: null,
    errors: [
      (f) => ["--world", f.nowhere],
      // A tokens file others can read is refused before any world is opened.
      (f) => ["--world", f.counter, "--tokens", f.plainFile],
      (f) => ["--world", f.counter, "--tokens", join(f.base, "no-such-tokens.json")],
    ],
    why: "a server runs until it is signalled and reports JSON lines as it goes (test/serve/api.test.ts starts and stops real ones)",
  },
  mcp: {
    usage: [(f) => ["--world", f.counter, "--per-world", "0"], (f) => ["--world", f.counter, "--overall", "many"]],
    ok: null,
    errors: [(f) => ["--world", f.nowhere]],
    why: "an MCP server answers on stdin/stdout until its client closes it (test/mcp/stdio.test.ts drives a real one with the SDK's client)",
  },
  worker: {
    usage: [
      (f) => ["--worlds", f.base],
      (f) => ["--store", PG ?? "postgres://127.0.0.1:1/none", "--worlds", f.base, "--ttl", "0"],
    ],
    ok: null,
    errors: [(f) => ["--store", PG ?? "postgres://127.0.0.1:1/none", "--worlds", f.nowhere]],
    why: "a node runs until it is signalled and reports JSON lines as it goes (test/cluster/failover.test.ts runs three)",
  },
  enqueue: {
    usage: [(f) => ["--world", f.counter], (f) => ["demo/CounterEvent@1", '{"key":"a","by":1}', "--world", f.counter]],
    ok:
      PG === null
        ? null
        : {
            args: async (f) => {
              // A world of its own: a copy would share the counter's world id, which a database holds once.
              const world = f.fresh("enqueued");
              await wk("create", COUNTER, "--world", world, "--store", PG);
              return wk(
                "enqueue",
                "demo/CounterEvent@1",
                '{"key":"a","by":1}',
                "--idempotency-key",
                "k1",
                "--world",
                world,
                "--json",
              );
            },
            expect: (o) => expect(o).toMatchObject({ ok: true, enqueued: 1, duplicates: 0 }),
          },
    errors: [(f) => ["demo/CounterEvent@1", '{"key":"a","by":1}', "--idempotency-key", "k", "--world", f.counter]],
    ...(PG === null ? { why: "no PostgreSQL server here (never so in CI)" } : {}),
  },
  "migrate-store": {
    usage: [(f) => ["--world", f.counter]],
    ok:
      PG === null
        ? null
        : {
            args: async (f) => {
              const world = f.fresh("moved");
              await wk("create", COUNTER, "--world", world);
              return wk("migrate-store", "--to", PG, "--world", world, "--json");
            },
            expect: (o) =>
              expect(o).toMatchObject({ ok: true, from: "sqlite", to: PG, state_root: expect.any(String) }),
          },
    errors: [
      (f) => ["--to", "sqlite", "--world", f.counter],
      (f) => ["--to", "mysql://x", "--world", f.copy(f.counter)],
    ],
    ...(PG === null ? { why: "no PostgreSQL server here (never so in CI)" } : {}),
  },
  demo: {
    usage: [() => ["nope"], () => ["kyc", "--inject", "nope"], () => ["--inject", "corrupt_hash"]],
    // The tour takes tens of seconds and prints a narrative; `demo kyc` reports (one attack here).
    ok: {
      args: () => ["kyc", "--inject", "corrupt_hash", "--world", mkdtempSync(join(tmpdir(), "wk-every-kyc-"))],
      expect: (o) =>
        expect(o).toMatchObject({
          verdicts: [
            { attack: "corrupt_hash", outcome: "detected", ok: true, escaped: [], detect_lag_ns: expect.any(String) },
          ],
        }),
    },
    // A --world that is a file.
    errors: [(f) => ["kyc", "--inject", "gdpr_erase", "--world", f.plainFile]],
  },
};

// ---------------------------------------------------------------------------------------------
// The commands.

const program = await fullProgram();

function* walk(c: Command): Generator<Command> {
  for (const sub of c.commands) {
    yield sub;
    yield* walk(sub);
  }
}
const pathOf = (c: Command): string => {
  const names: string[] = [];
  for (let x: Command | null = c; x && x.parent; x = x.parent) names.unshift(x.name());
  return names.join(" ");
};
const command = (name: string): Command => [...walk(program)].find((c) => pathOf(c) === name)!;
const LEAVES = [...walk(program)].filter((c) => c.commands.length === 0).map(pathOf);
const GROUPS = [...walk(program)].filter((c) => c.commands.length > 0).map(pathOf);

/** Expects a usage error (exit 2) in the one format: `--json` gives the record on stdout, otherwise two lines on stderr. */
function expectUsage(name: string, args: string[], r: Run, json: boolean): void {
  const msg = show(args, r);
  expect(r.status, msg).toBe(2);
  const hint = `see \`${name ? `wk ${name}` : "wk"} --help\``;
  if (json) {
    const rec = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(rec, msg).toMatchObject({
      ok: false,
      code: expect.stringMatching(/^cli\.[a-z_]+$/),
      message: expect.any(String),
      hint,
    });
    expect(r.stderr, msg).not.toMatch(/^error:/m);
  } else {
    expect(r.stdout, msg).toBe("");
    expect(r.stderr, msg).toMatch(/^error: cli\.[a-z_]+: \S.*\nhint: /m);
    expect(r.stderr, msg).toContain(`\nhint: ${hint}\n`);
  }
}

describe("every command has a case", () => {
  it("CASES names exactly the leaf commands of fullProgram()", () => {
    expect(LEAVES.length).toBeGreaterThan(20);
    const missing = LEAVES.filter((n) => !(n in CASES));
    expect(missing, `commands without a case in test/cli/every-command.test.ts: ${missing.join(", ")}`).toEqual([]);
    expect(
      Object.keys(CASES).filter((n) => !LEAVES.includes(n)),
      "cases for commands that do not exist",
    ).toEqual([]);
  });

  it("every case runs a success and an error unless it says why not", () => {
    for (const [name, c] of Object.entries(CASES))
      if (c.ok === null || c.errors.length === 0) expect(c.why, name).toBeTypeOf("string");
  });
});

describe.concurrent("wk and its command groups", () => {
  it("wk --help lists every command; wk alone, an unknown command, a group alone exit 2 in the one format", async () => {
    const help = await wk("--help");
    expect(help.status).toBe(0);
    for (const name of program.commands.map((c) => c.name())) expect(help.stdout).toContain(`  ${name}`);
    const runs = await Promise.all(
      [[], ["--json"], ["no-such-command"], ["no-such-command", "--json"]].map(async (a) => ({ a, r: await wk(...a) })),
    );
    for (const { a, r } of runs) expectUsage("", a, r, a.includes("--json"));
    expect(JSON.parse(runs[1]!.r.stdout)).toMatchObject({ code: "cli.unknown_option" });
    expect(runs[2]!.r.stderr).toContain("error: cli.unknown_command: unknown command 'no-such-command'");
  });

  for (const group of GROUPS) {
    it(`wk ${group} without a command`, async () => {
      const [human, json] = await Promise.all([wk(...group.split(" ")), wk(...group.split(" "), "--json")]);
      expectUsage(group, [group], human, false);
      expect(human.stderr).toContain(`error: cli.missing_command: \`wk ${group}\` needs a command: `);
      expect(human.stderr, "the group's help comes first").toContain(`Usage: wk ${group}`);
      // `--json` is no option of a group: still a usage error, as JSON.
      expectUsage(group, [group, "--json"], json, true);
    });
  }
});

for (const name of LEAVES) {
  const words = name.split(" ");
  const c = CASES[name];
  describe.concurrent(`wk ${name}`, () => {
    if (c === undefined) {
      it("has a case in CASES", () => expect.fail(`add a case for \`wk ${name}\` to test/cli/every-command.test.ts`));
      return;
    }

    it("--help exits 0 with its usage", async () => {
      const r = await wk(...words, "--help");
      expect(r.status, show([...words, "--help"], r)).toBe(0);
      expect(r.stdout).toContain(`Usage: wk ${name} `);
      expect(r.stderr).toBe("");
    });

    it("bad arguments exit 2 with a cli.* error (on stderr; with --json as JSON on stdout)", async () => {
      // Commander names a missing mandatory option before an unknown one: give those a value.
      const mandatory = command(name)
        .options.filter((o) => o.mandatory)
        .flatMap((o) => [o.long!, "x"]);
      const bad: string[][] = [[...mandatory, "--bogus-option"], ...c.usage.map((u) => u(F))];
      const runs = await Promise.all(
        bad.flatMap((b) =>
          [false, true].map(async (json) => {
            const args = [...words, ...b, ...(json ? ["--json"] : [])];
            return { args, json, r: await wk(...args) };
          }),
        ),
      );
      for (const { args, json, r } of runs) expectUsage(name, args, r, json);
      expect(JSON.parse(runs[1]!.r.stdout)).toMatchObject({
        code: "cli.unknown_option",
        message: "unknown option '--bogus-option'",
      });
    });

    if (c.ok !== null) {
      const okCase = c.ok;
      it("succeeds with --json: exit 0, JSON on stdout", async () => {
        const made = okCase.args(F);
        const args = Array.isArray(made) ? [...words, ...made, "--json"] : [...words, "(see governance())"];
        const r = Array.isArray(made) ? await wk(...args) : await made;
        expect(r.status, show(args, r)).toBe(0);
        okCase.expect(JSON.parse(r.stdout), F);
      });
    }

    if (c.errors.length > 0) {
      it(`fails with exit ${c.errorExit ?? 1}: one error record with --json, \`error: <code>: <message>\` (and its hint) otherwise`, async () => {
        // The same arguments twice, one run after the other (a copied world is not opened by two at once).
        const runs = await Promise.all(
          c.errors.map(async (e) => {
            const args = [...words, ...e(F)];
            const json = await wk(...args, "--json");
            return { args, json, human: await wk(...args) };
          }),
        );
        for (const { args, json, human } of runs) {
          const msg = show([...args, "--json"], json);
          expect(json.status, msg).toBe(c.errorExit ?? 1);
          // Exactly one JSON value on stdout, nothing else; it is the error record.
          const rec = JSON.parse(json.stdout) as Record<string, unknown>;
          expect(rec, msg).toMatchObject({ ok: false, code: expect.stringMatching(CODE), message: expect.any(String) });
          expect(json.stdout.trimEnd().endsWith("}"), msg).toBe(true);
          expect(json.stderr, msg).not.toMatch(/^error:/m);
          const hmsg = show(args, human);
          expect(human.status, hmsg).toBe(c.errorExit ?? 1);
          expect(human.stdout, hmsg).toBe("");
          expect(human.stderr, hmsg).toContain(`error: ${String(rec.code)}: ${String(rec.message)}\n`);
          if (typeof rec.hint === "string") expect(human.stderr, hmsg).toContain(`\nhint: ${rec.hint}\n`);
          else expect(human.stderr, hmsg).not.toMatch(/^hint:/m);
        }
      });
    }
  });
}
