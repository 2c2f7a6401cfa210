/**
 * @module Derive before trust (issue 21): an attacker with write access to a world folder
 * and no key appends a snapshot entry after the sealing checkpoint whose blob says what the
 * attacker wants — another cell state, another world's AIR bundle, a held intent released,
 * an intent injected — with the state root recomputed as the kernel computes it. A snapshot
 * is a cache of what the journal derives, never a source of truth: every command refuses the
 * world (`journal.verify_failed`, fault `snapshot_mismatch` naming the forged seq), nothing
 * is appended or signed, and no forged intent reaches the (counting) HTTP server. Also: a
 * receipt for a held intent that was never approved (what an older kernel that trusted such
 * a snapshot journaled) is `unapproved_dispatch`; a library caller with no options gets the
 * world's own rules (gate checks, replay) as the CLI does; `wk checkpoint` never signs over a
 * tail the rules reject. Every test also checks an untouched copy verifies.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeStored, encodeStored, hashBytes, hashValue, type CborObject, type CborValue } from "../../air/index.js";
import { generateKeyPair, loadKeyPair, saveKeyPair } from "../../kernel/crypto/keys.js";
import { buildEffectReceiptBody } from "../../kernel/crypto/receipt.js";
import { SqliteJournalStore } from "../../kernel/journal/index.js";
import { World, createWorld, replayWorld, sourceFromAirDir } from "../../kernel/world/index.js";
import { defaultAdapters } from "../../kernel/world/wiring.js";
import {
  appendForgedSnapshot,
  copyWorld,
  dropFrom,
  expectIntact,
  governedCounterAir,
  journalOf,
  latestSnapshot,
  ok,
  putBlob,
  rawBlob,
  rows,
  rowsOf,
  scratch,
  unseal,
  verifyFails,
  wk,
  wkAsync,
  type SnapshotBlob,
  COUNTER_EVENT,
  counterWorld,
} from "./attack-helpers.js";
import { okAsync } from "./cli-harness.js";
import { holdForApproval, writeFetcherAir } from "./fixtures/fetcher.js";
import { startPageServer, type PageServer } from "./page-server.js";

const FETCH = "demo/Fetch@1";
const METADATA = "http://169.254.169.254/latest/meta-data/";

/** An HTTP server on 127.0.0.1 that counts every request it gets. */
let server: PageServer;
const hits: string[] = [];

/** `wk send` of one event to a world (the counter's, or a fetch to the counting server for the fetcher's). */
const counterSend = (dir: string): string[] => [
  "send",
  COUNTER_EVENT,
  JSON.stringify({ key: "carol", by: 1 }),
  "--world",
  dir,
  "--json",
];
const fetchSend = (dir: string): string[] => [
  "send",
  FETCH,
  JSON.stringify({ key: "late", url: `${server.url}/sent-after-forgery` }),
  "--world",
  dir,
  "--json",
];

beforeAll(async () => {
  server = await startPageServer((req, res) => {
    hits.push(String(req.url));
    res.end("counted\n");
  });
});
afterAll(() => server.close());

/**
 * A copy of a world (copyWorld), used from here on as on another machine: `WK_STATE_DIR`
 * (inherited by every `wk` run, read by World.open) points at a fresh state directory, so no
 * anchor log (kernel/world/anchor-log.ts) for it exists there yet. These tests are about what
 * the journal itself proves, and a copy extended by one check (or cut by `unseal`) must not
 * turn the next copy into a `rolled_back` world on a shared log. Each copy is used to the
 * end before the next is made.
 */
function copyAway(src: string): string {
  process.env.WK_STATE_DIR = scratch("wk-state-");
  return copyWorld(src);
}
const fileStateDir = process.env.WK_STATE_DIR;
afterAll(() => {
  process.env.WK_STATE_DIR = fileStateDir;
});

/** World.open with no options (as the README's library example): the error it throws, or undefined if it opened. */
async function openError(dir: string): Promise<unknown> {
  try {
    const w = await World.open(dir);
    await w.abandon(); // writes nothing
    return undefined;
  } catch (e) {
    return e;
  }
}

/** A forgery: builds a fresh forged copy each call, and names the seq of the forged entry. */
type Forge = () => { dir: string; seq: number };

/** Parsed JSON output, or the raw text when it is not JSON (so a soft assertion shows it). */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/*
 * The contract checks below are soft (expect.soft): a kernel that trusts a forgery fails
 * every one of them, and the report lists them all, not just the first.
 */

/** `wk verify --json` fails with `fault` at `seq`. */
function verifyFault(dir: string, fault: string, seq: number): void {
  const r = wk("verify", "--world", dir, "--json");
  expect.soft(r.status, `wk verify: ${r.stdout}${r.stderr}`).toBe(1);
  expect.soft(parsed(r.stdout), "wk verify --json").toMatchObject({ ok: false, fault, first_bad_seq: seq });
}

/** `wk replay --json` exits 1 with `verify_fault`. */
function replayFault(dir: string, fault: string): void {
  const r = wk("replay", "--world", dir, "--json");
  expect.soft(r.status, `wk replay: ${r.stdout.slice(0, 500)}${r.stderr}`).toBe(1);
  expect.soft(parsed(r.stdout), "wk replay --json").toMatchObject({ ok: false, verify_fault: fault });
}

/** A command that must be refused: exit 1, every needle in its output, the journal untouched (same rows, same last seq). */
async function commandRefused(args: string[], dir: string, ...needles: string[]): Promise<void> {
  const before = rows(dir);
  const r = await wkAsync(...args);
  const what = `wk ${args.join(" ")}`;
  expect.soft(r.status, `${what} should be refused\n${r.stderr}${r.stdout}`).toBe(1);
  for (const n of needles) expect.soft(r.stderr + r.stdout, `${what} names ${n}`).toContain(n);
  const after = rows(dir);
  expect.soft(after.length, `${what} appended ${after.length - before.length} entries`).toBe(before.length);
  expect.soft(after.at(-1)!.kind, `${what}: last entry`).toBe(before.at(-1)!.kind);
}

/**
 * Every refusal a forged world must meet, each on its own forged copy: `wk send` and `wk run`
 * exit 1 naming journal.verify_failed, the fault and the seq, and append nothing; verify,
 * replay and the audit of an export fail with the fault at the seq; World.open rejects; and
 * the counting server sees no request meanwhile.
 */
async function expectRefusedEverywhere(forge: Forge, fault: string, send: (dir: string) => string[]): Promise<void> {
  const before = hits.length;

  // (c) verify, (d) replay, (e) audit of an export: read-only, on one copy.
  const ro = forge();
  const n = rows(ro.dir).length;
  verifyFault(ro.dir, fault, ro.seq);
  replayFault(ro.dir, fault);
  const archive = join(scratch("wk-audit-"), "w.audit");
  ok("export", "--audit", archive, "--world", ro.dir, "--json");
  const audit = wk("audit", archive, "--json");
  expect.soft(audit.status, `wk audit: ${audit.stdout}${audit.stderr}`).toBe(1);
  expect.soft(parsed(audit.stdout), "wk audit --json").toMatchObject({ ok: false, fault, first_bad_seq: ro.seq });
  expect(rows(ro.dir)).toHaveLength(n);

  // (a) wk send and wk run are refused and append nothing (no entry, no checkpoint).
  for (const args of [send, (d: string) => ["run", "--world", d, "--json"]]) {
    const w = forge();
    await commandRefused(args(w.dir), w.dir, "journal.verify_failed", fault, `seq ${w.seq}`);
  }

  // (f) the library refuses it too, with no options.
  const lib = forge();
  const err = await openError(lib.dir);
  expect.soft(err, "World.open(dir) opened the forged world").toBeDefined();
  if (err !== undefined) {
    expect.soft(err, "World.open(dir) error").toMatchObject({ code: "journal.verify_failed", fault });
    expect.soft((err as Error).message).toContain(`seq ${lib.seq}`);
  }

  // (b) no forged (or any) request left the kernel.
  expect.soft(hits.slice(before), "requests the counting server got").toEqual([]);
}

/** `wk checkpoint` refused naming `needles`; no checkpoint appended, the forged entry still last. */
async function checkpointRefused(dir: string, lastKind: string, ...needles: string[]): Promise<void> {
  expect(rows(dir).at(-1)!.kind).toBe(lastKind);
  await commandRefused(["checkpoint", "--world", dir, "--json"], dir, ...needles);
}

/** The blob with bob's cell state swapped for another valid state (count 999999), its bytes put in the CAS. */
function bobRich(dir: string, blob: SnapshotBlob): SnapshotBlob {
  const cells = blob.cells.map((c): SnapshotBlob["cells"][number] => {
    if (c[1] !== "bob") return c;
    const state = decodeStored(rawBlob(dir, c[2])!) as CborObject;
    expect(state).toMatchObject({ count: 7 });
    return [c[0], c[1], putBlob(dir, encodeStored({ ...state, count: 999_999 }))];
  });
  expect(cells).not.toEqual(blob.cells);
  return { ...blob, cells };
}

describe("derive before trust: forged snapshots after the seal (issue 21)", () => {
  /** Counter world: 0 genesis, 1 checkpoint | 2 event, 3 step, 4 snapshot, 5 checkpoint | 6 event, 7 step, 8 snapshot, 9 checkpoint. */
  let counter: string;
  /** A second counter world whose policy names an attacker's key as approver. */
  let attackerWorld: string;
  /** Fetcher world with one fetch held for approval (never approved). */
  let held: string;
  let approverFile: string;
  let heldIntent: string;

  beforeAll(async () => {
    counter = counterWorld();
    expect(rows(counter).map((r) => r.kind)).toEqual([
      "genesis",
      "checkpoint",
      "event",
      "step",
      "snapshot",
      "checkpoint",
      "event",
      "step",
      "snapshot",
      "checkpoint",
    ]);

    attackerWorld = join(scratch(), "w");
    ok("create", governedCounterAir([generateKeyPair().publicKeyHex]), "--world", attackerWorld, "--json");

    const keys = scratch("wk-keys-");
    const approver = generateKeyPair();
    approverFile = join(keys, "approver.key");
    saveKeyPair(approverFile, approver);
    const air = writeFetcherAir(join(scratch("wk-air-"), "fetcher"), holdForApproval(approver.publicKeyHex));
    held = join(scratch(), "w");
    await okAsync("create", air, "--world", held, "--json");
    await okAsync("send", FETCH, JSON.stringify({ key: "a", url: `${server.url}/held` }), "--world", held, "--json");
    const pending = latestSnapshot(held).blob.pending;
    expect(pending.map((p) => p.waiting)).toEqual(["approval"]);
    heldIntent = pending[0]!.intentId as string;
    expect(rowsOf(held, "policy_decision").map((r) => (r.body as CborObject).decision)).toEqual(["require_approval"]);
    expect(rows(held).at(-1)!.kind).toBe("checkpoint");
    expect(hits).toEqual([]);
  }, 180_000);

  /** Case 1: bob's cell state in a forged snapshot appended after the seal. */
  const forgedState: Forge = () => {
    const dir = copyAway(counter);
    const { blob } = latestSnapshot(dir);
    return { dir, seq: appendForgedSnapshot(dir, bobRich(dir, blob)) };
  };

  it("1. forged snapshot state (bob's count 999999, state root recomputed) → snapshot_mismatch everywhere; nothing appended", async () => {
    expectIntact(copyAway(counter));
    // The forgery is well-formed: its state root is what the kernel computes from its cells.
    const { dir, seq } = forgedState();
    const forged = rows(dir).at(-1)!;
    expect(forged).toMatchObject({ seq, kind: "snapshot" });
    const blob = decodeStored(
      rawBlob(dir, (forged.body as CborObject).cells_ref as string)!,
    ) as unknown as SnapshotBlob;
    expect((forged.body as CborObject).state_root).not.toBe(latestSnapshot(counter).body.state_root);
    expect(blob.cells).toHaveLength(2);
    // Control: a snapshot that restates the truth in the same place is no snapshot_mismatch
    // (only the unsealed tail it leaves is reported), so the refusals below are for the lie.
    const truthful = copyAway(counter);
    const restated = appendForgedSnapshot(truthful, latestSnapshot(truthful).blob);
    expect(verifyFails(truthful)).toMatchObject({ fault: "uncovered_tail", first_bad_seq: restated });
    await expectRefusedEverywhere(forgedState, "snapshot_mismatch", counterSend);
  }, 180_000);

  /** Case 2: the snapshot names another world's AIR bundle (its policy names the attacker as approver). */
  const forgedCatalog: Forge = () => {
    const dir = copyAway(counter);
    const other = rows(attackerWorld)[0]!.body as CborObject;
    const bundle = putBlob(dir, rawBlob(attackerWorld, other.air_ref as string)!);
    expect(bundle).toBe(other.air_ref);
    const { blob } = latestSnapshot(dir);
    expect(blob.air_ref).not.toBe(bundle);
    return { dir, seq: appendForgedSnapshot(dir, { ...blob, air_ref: bundle }, other.manifest_hash as string) };
  };

  it("2. forged catalog (another world's AIR bundle as air_ref and manifest_hash) → snapshot_mismatch everywhere", async () => {
    expectIntact(copyAway(counter));
    expect((rows(attackerWorld)[0]!.body as CborObject).manifest_hash).not.toBe(
      (rows(counter)[0]!.body as CborObject).manifest_hash,
    );
    await expectRefusedEverywhere(forgedCatalog, "snapshot_mismatch", counterSend);
  }, 180_000);

  /** Case 3: the held intent's pending record turned from waiting `approval` to `dispatch`. */
  const releasedHold: Forge = () => {
    const dir = copyAway(held);
    const { blob } = latestSnapshot(dir);
    const pending = blob.pending.map((p) => (p.intentId === heldIntent ? { ...p, waiting: "dispatch" } : p));
    return { dir, seq: appendForgedSnapshot(dir, { ...blob, pending }) };
  };

  it("3. released approval hold (pending approval → dispatch) → snapshot_mismatch everywhere; the server sees 0 requests", async () => {
    // Control: the real approval does reach the counting server (so 0 below means something).
    const control = copyAway(held);
    expectIntact(control);
    const before = hits.length;
    const approved = await wkAsync("approve-effect", heldIntent, "--key", approverFile, "--world", control, "--json");
    expect(approved.status, approved.stderr + approved.stdout).toBe(0);
    expect(hits.slice(before)).toEqual(["/held"]);
    expectIntact(control);

    await expectRefusedEverywhere(releasedHold, "snapshot_mismatch", fetchSend);
  }, 180_000);

  /** Case 4: an extra pending http.request (to the counting server) added to the snapshot's pending set. */
  const injectedIntent: Forge = () => {
    const dir = copyAway(held);
    const { blob } = latestSnapshot(dir);
    const model = blob.pending[0]!;
    const params = { ...(model.params as CborObject), url: `${server.url}/injected` };
    const injected: CborObject = {
      ...model,
      intentId: hashBytes(new TextEncoder().encode("injected by the attacker")),
      params,
      paramsHash: hashValue(params as CborValue),
      waiting: "dispatch",
    };
    return { dir, seq: appendForgedSnapshot(dir, { ...blob, pending: [...blob.pending, injected] }) };
  };

  it("4. injected intent (an extra pending http.request to the counting server) → snapshot_mismatch everywhere; 0 requests", async () => {
    expectIntact(copyAway(held));
    await expectRefusedEverywhere(injectedIntent, "snapshot_mismatch", fetchSend);
  }, 180_000);

  it("5a. sealing checkpoint cut (unseal), then the forged snapshot appended → the same refusals", async () => {
    expectIntact(copyAway(counter));
    const forge: Forge = () => {
      const dir = copyAway(counter);
      unseal(dir);
      const { blob } = latestSnapshot(dir);
      return { dir, seq: appendForgedSnapshot(dir, bobRich(dir, blob)) };
    };
    await expectRefusedEverywhere(forge, "snapshot_mismatch", counterSend);
  }, 180_000);

  it("5b. the seal and the genuine last snapshot cut, a forged one in its place right after the step (a crash-like tail) → the same refusals", async () => {
    expectIntact(copyAway(counter));
    // Control: the genuine crash-like tail (seal cut, genuine snapshot kept) still opens, and the send seals it.
    const crashed = copyAway(counter);
    unseal(crashed);
    ok(...counterSend(crashed));
    expectIntact(crashed);
    const forge: Forge = () => {
      const dir = copyAway(counter);
      const { seq: real, blob } = latestSnapshot(dir);
      dropFrom(dir, real); // as a crash before close would leave it: event, step
      expect(rows(dir).at(-1)!.kind).toBe("step");
      const seq = appendForgedSnapshot(dir, bobRich(dir, blob), latestSnapshot(counter).body.manifest_hash as string);
      expect(seq).toBe(real);
      return { dir, seq };
    };
    await expectRefusedEverywhere(forge, "snapshot_mismatch", counterSend);
  }, 180_000);

  it("8a. wk checkpoint never signs over a forged snapshot in the unsealed tail", async () => {
    const { dir, seq } = forgedState();
    await checkpointRefused(dir, "snapshot", "journal.verify_failed", "snapshot_mismatch", `seq ${seq}`);
    verifyFault(dir, "snapshot_mismatch", seq);
  }, 120_000);
});

describe("unapproved_dispatch: a receipt for a held intent no approver released", () => {
  let held: string;
  let heldIntent: string;
  let intentBody: CborObject;

  beforeAll(async () => {
    const air = writeFetcherAir(
      join(scratch("wk-air-"), "fetcher"),
      holdForApproval(generateKeyPair().publicKeyHex), // nobody here holds the approver's key
    );
    held = join(scratch(), "w");
    await okAsync("create", air, "--world", held, "--json");
    await okAsync("send", FETCH, JSON.stringify({ key: "a", url: `${server.url}/held` }), "--world", held, "--json");
    const intent = rowsOf(held, "effect_intent")[0]!;
    intentBody = intent.body as CborObject;
    heldIntent = intentBody.intent_id as string;
    expect(rowsOf(held, "policy_decision").map((r) => (r.body as CborObject).decision)).toEqual(["require_approval"]);
  }, 180_000);

  /**
   * What an older kernel that trusted a released hold journaled (the test plays that kernel,
   * not the attacker): a receipt for the held intent, signed with the world's real adapter
   * key, appended through the journal store (its receipt index kept) after the seal.
   */
  async function appendOldKernelReceipt(dir: string): Promise<number> {
    const adapterKey = loadKeyPair(join(dir, "keys/adapter.key"));
    const http = defaultAdapters().get("http.request")!;
    const page = new TextEncoder().encode("counted\n");
    const bodyRef = putBlob(dir, page);
    const worldId = (rows(dir)[0]!.body as CborObject).world_id as string;
    const t = BigInt(Date.now()) * 1_000_000n;
    const body = buildEffectReceiptBody(
      {
        worldId,
        intentId: heldIntent,
        effectKind: "http.request",
        params: intentBody.params as CborValue,
        idempotencyKey: heldIntent,
        status: "ok",
        payload: {
          status: 200,
          headers: {},
          body_ref: Uint8Array.from(Buffer.from(bodyRef.slice("sha256:".length), "hex")),
          body_size: page.length,
          timings: { start_ns: t, end_ns: t },
        },
        adapter: { id: http.id, version: http.version },
        startedNs: t,
        finishedNs: t,
        cost: { tokens_in: 0, tokens_out: 0, cents: 0 },
      },
      adapterKey,
      adapterKey.publicKey,
    );
    const store = SqliteJournalStore.open(journalOf(dir));
    try {
      return (await store.append("effect_receipt", body as unknown as CborValue)).seq;
    } finally {
      store.closeSync();
    }
  }

  /**
   * The older kernel in full: the held intent turned to dispatch in memory (as a trusted
   * forged snapshot did), performed for real against the counting server, its receipt
   * delivered to the module; then the world closed cleanly (snapshot + checkpoint), or left
   * as a crash leaves it (`seal: false`: receipt, delivery, step after the last checkpoint).
   * Returns the receipt's seq.
   */
  async function oldKernelDispatch(dir: string, seal: boolean): Promise<number> {
    const world = await World.open(dir, { adapters: defaultAdapters() });
    const before = hits.length;
    try {
      // Only the transition's owner may change the state: the old kernel reaches past the read-only view.
      world.processor.state.pending.get(heldIntent)!.waiting = "dispatch";
      await world.runUntilIdle();
    } finally {
      await (seal ? world.close() : world.abandon());
    }
    expect(hits.slice(before)).toEqual(["/held"]);
    const receipt = rowsOf(dir, "effect_receipt").find((r) => (r.body as CborObject).intent_id === heldIntent)!;
    expect(((receipt.body as CborObject).receipt as CborObject).status).toBe("ok");
    expect(rows(dir).at(-1)!.kind).toBe(seal ? "checkpoint" : "step");
    return receipt.seq;
  }

  it("6a. the receipt (real adapter key) in the tail → verify unapproved_dispatch at its seq; replay refused with that fault", async () => {
    expectIntact(copyAway(held));
    const w = copyAway(held);
    const seq = await appendOldKernelReceipt(w);
    expect(rows(w).at(-1)).toMatchObject({ seq, kind: "effect_receipt" });
    verifyFault(w, "unapproved_dispatch", seq);
    replayFault(w, "unapproved_dispatch");
  }, 120_000);

  it("6b. an older kernel released the hold, dispatched it and sealed cleanly (receipt, step, snapshot, checkpoint) → unapproved_dispatch at the receipt", async () => {
    const w = copyAway(held);
    const seq = await oldKernelDispatch(w, true);
    verifyFault(w, "unapproved_dispatch", seq);
    replayFault(w, "unapproved_dispatch");
  }, 120_000);

  it("8b. wk checkpoint never signs over an unapproved receipt in the unsealed tail (the receipt alone, or with its delivery step)", async () => {
    const alone = copyAway(held);
    const seq = await appendOldKernelReceipt(alone);
    await checkpointRefused(alone, "effect_receipt", "journal.verify_failed", "unapproved_dispatch", `seq ${seq}`);

    const batch = copyAway(held);
    const seq2 = await oldKernelDispatch(batch, false);
    await checkpointRefused(batch, "step", "journal.verify_failed", "unapproved_dispatch", `seq ${seq2}`);
    verifyFault(batch, "unapproved_dispatch", seq2);
  }, 120_000);
});

describe("the world's rules belong to the world: the library with no options decides and replays as the CLI", () => {
  /** The policy_decision the gate journaled for the fetch of `url` (decision, stage, code). */
  function gateDecisionFor(dir: string, url: string): { decision: string; stage: string; code: string } {
    const intent = rowsOf(dir, "effect_intent").find((r) => ((r.body as CborObject).params as CborObject).url === url);
    expect(intent, `no intent fetches ${url}`).toBeDefined();
    const id = (intent!.body as CborObject).intent_id;
    const d = rowsOf(dir, "policy_decision")
      .map((r) => r.body as CborObject)
      .find((b) => b.intent_id === id && b.stage !== "approval");
    expect(d, `no gate decision for ${String(id)}`).toBeDefined();
    return { decision: d!.decision as string, stage: d!.stage as string, code: d!.code as string };
  }

  it("7. createWorld/World.open(dir) with no options deny the metadata fetch exactly as wk does; replayWorld(dir) replays a CLI journal", async () => {
    const air = writeFetcherAir(join(scratch("wk-air-"), "fetcher"));

    // The CLI: an allowed fetch to the counting server, then the metadata fetch.
    const cli = join(scratch(), "w");
    await okAsync("create", air, "--world", cli, "--json");
    await okAsync("send", FETCH, JSON.stringify({ key: "ok", url: `${server.url}/allowed` }), "--world", cli, "--json");
    const again = `${METADATA}iam/`;
    await okAsync("send", FETCH, JSON.stringify({ key: "m", url: METADATA }), "--world", cli, "--json");
    await okAsync("send", FETCH, JSON.stringify({ key: "m2", url: again }), "--world", cli, "--json");
    const expected = gateDecisionFor(cli, METADATA);
    expect(expected.decision).toBe("deny");
    expect(gateDecisionFor(cli, again)).toEqual(expected);

    // The library, exactly as README's "Use it from your own project": no options anywhere.
    const lib = join(scratch(), "w");
    const created = await createWorld(lib, sourceFromAirDir(air));
    try {
      await created.send(FETCH, { key: "m", url: METADATA });
    } finally {
      await created.close();
    }
    expect.soft(gateDecisionFor(lib, METADATA), "createWorld(dir, source): the gate decision").toEqual(expected);

    const opened = await World.open(lib);
    try {
      await opened.send(FETCH, { key: "m2", url: again });
    } finally {
      await opened.close();
    }
    expect.soft(gateDecisionFor(lib, again), "World.open(dir): the gate decision").toEqual(expected);
    expectIntact(lib);

    // replayWorld with no options replays the CLI-written journal as wk replay does.
    const cliReplay = ok<{ ok: boolean; state_root: string }>("replay", "--world", cli, "--json");
    expect(cliReplay.ok).toBe(true);
    const r = await replayWorld(cli);
    expect
      .soft(r, `replayWorld(dir): ${JSON.stringify(r.divergence)}`)
      .toMatchObject({ ok: true, state_root: cliReplay.state_root });
  }, 180_000);
});
