/**
 * @module Replay ≡ live, as a property (issue 11). fast-check draws random histories of the
 * counter world: sends (with exact duplicates and idempotency keys, alone and in a
 * `sendMany`), erasures (fresh, repeated, re-put and of blobs the kernel needs), restarts,
 * forks and `--to` replays at random seqs. After every command the live state root equals a
 * fresh replay from genesis and from the latest snapshot, every counter cell equals a model
 * (sum of `by` per key, counting keyless duplicates but not idempotent retries), and every
 * replay or fork at seq N lands on the batch boundary at or before N with the state the
 * model recorded there. Each close is followed by `wk verify` (verifyWorld) on the journal.
 *
 * Seeded: `WK_TEST_SEED=<n>` (default below) picks the run; `WK_PATH=<path>` replays one
 * counterexample fast-check printed; `WK_RUNS=<n>` changes the number of runs (default 30,
 * about 10 s); `WK_VERBOSE=1` lists every failure met while shrinking; `WK_STATS=1` prints how
 * often each branch ran. The seed is in the test name and in every failure message.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeStored, hashBytes, type CborObject, type HashText } from "../../air/index.js";
import { worldPaths } from "../../kernel/journal/index.js";
import {
  World,
  createWorld,
  forkWorld,
  readGenesis,
  replayWorld,
  sourceFromAirDir,
  verifyWorld,
} from "../../kernel/world/index.js";

const COUNTER = new URL("../../worlds/counter", import.meta.url).pathname;
const SOURCE = sourceFromAirDir(COUNTER);
const EVENT = "demo/CounterEvent@1";
const MILESTONE = "demo/CounterMilestone@1";
const MODULE = "demo/Counter@1";
const KEYS = ["a", "b", "c"] as const;
const IDEMPOTENCY_KEYS = ["k1", "k2"] as const;
/** A few fixed blobs, so the same blob is erased twice, or put again after its erasure. */
const FIXED_BLOBS = [new Uint8Array([1, 2, 3]), new TextEncoder().encode("a prompt to forget")];

const SEED = Number(process.env.WK_TEST_SEED ?? 1_100_011);
const RUNS = Number(process.env.WK_RUNS ?? 30);
const VERBOSE = Number(process.env.WK_VERBOSE ?? 0) as fc.VerbosityLevel;
const PATH = process.env.WK_PATH;
/** With WK_STATS=1, how often each branch of the model ran (to see what the seed covers). */
const STATS = new Map<string, number>();
const hit = (what: string) => STATS.set(what, (STATS.get(what) ?? 0) + 1);

type Body = { key: (typeof KEYS)[number]; by: number };
type Command =
  | { t: "send"; body: Body }
  | { t: "sendDuplicate"; pick: number }
  | { t: "sendWithKey"; idem: string; reuse: boolean; body: Body }
  | { t: "sendMany"; events: { body: Body; idem: string | undefined; reuse: boolean }[] }
  | { t: "erase"; blob: number | Uint8Array; put: boolean }
  | { t: "eraseStructural"; which: number }
  | { t: "restart" }
  | { t: "crash" }
  | { t: "forkAt"; at: number; then: Body; nested: number }
  | { t: "replayTo"; at: number };

const body: fc.Arbitrary<Body> = fc.record({ key: fc.constantFrom(...KEYS), by: fc.integer({ min: 1, max: 150 }) });
const idem = fc.constantFrom(...IDEMPOTENCY_KEYS);
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant("send" as const), body }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("sendDuplicate" as const), pick: fc.nat({ max: 1000 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      t: fc.constant("sendWithKey" as const),
      idem,
      reuse: fc.constantFrom(true, true, false),
      body,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("sendMany" as const),
      events: fc.array(
        fc.record({
          body,
          idem: fc.option(idem, { nil: undefined, freq: 3 }),
          reuse: fc.constantFrom(true, true, false),
        }),
        { minLength: 2, maxLength: 3 },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("erase" as const),
      blob: fc.oneof(
        { weight: 3, arbitrary: fc.nat({ max: FIXED_BLOBS.length - 1 }) },
        { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 48 }) },
      ),
      put: fc.constantFrom(true, true, false),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("eraseStructural" as const), which: fc.nat({ max: 2 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("restart" as const) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant("crash" as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant("forkAt" as const),
      at: fc.nat({ max: 10_000 }),
      then: body,
      nested: fc.nat({ max: 10_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant("replayTo" as const), at: fc.nat({ max: 10_000 }) }) },
);
const scenario = fc.record({
  // 1000 is the default cadence; 4 and 1 put automatic signed checkpoints between (and after) batches; 0 writes none.
  checkpointEvery: fc.constantFrom(1000, 4, 1, 0),
  // size "max": lengths spread over 3..12 instead of fast-check's default bias to short arrays.
  commands: fc.array(command, { minLength: 3, maxLength: 12, size: "max" }),
});

type Cells = Record<string, { count: number; events: number }>;
/** A batch boundary the model knows the state at: `root` when the live world was observed there. */
interface Head {
  seq: number;
  root: string | undefined;
  cells: Cells;
}

const sameBody = (a: Body, b: Body) => a.key === b.key && a.by === b.by;
const cellsOf = (w: World): Cells => {
  const out: Cells = {};
  for (const k of KEYS) {
    const s = w.cellState(MODULE, k) as CborObject | undefined;
    if (s !== undefined) out[k] = { count: Number(s.count), events: Number(s.events) };
  }
  return out;
};
const isCode = (code: string) => (e: unknown) => (e as { code?: string }).code === code;

/** The model of one world: its counters, idempotency keys, sent bodies and known boundary states. */
class Model {
  cells: Cells = {};
  milestones = 0;
  readonly keys = new Map<string, { body: Body; seq: number; entries: number }>();
  readonly bodies: Body[] = [];
  readonly erased = new Set<string>();
  /** Ascending by seq; the last one is always the head of the journal. */
  readonly heads: Head[] = [];

  /** Counts one step of `b`; returns whether it crossed a hundred (a milestone event). */
  apply(b: Body): boolean {
    const old = this.cells[b.key] ?? { count: 0, events: 0 };
    const next = { count: old.count + b.by, events: old.events + 1 };
    this.cells = { ...this.cells, [b.key]: next };
    this.bodies.push(b);
    const crossed = Math.floor(old.count / 100) !== Math.floor(next.count / 100);
    if (crossed) this.milestones++;
    return crossed;
  }

  record(seq: number, root: string | undefined): void {
    const last = this.heads.at(-1);
    if (last && last.seq > seq) throw new Error(`model: head ${seq} recorded after ${last.seq}`);
    if (last && last.seq === seq) this.heads.pop();
    this.heads.push({ seq, root, cells: { ...this.cells } });
  }

  /** The state at boundary `b`: that of the first recorded head at or after it (nothing between changes state). */
  at(b: number): Head {
    const h = this.heads.find((x) => x.seq >= b);
    if (!h) throw new Error(`model: no head at or after ${b}`);
    return h;
  }

  /** The last recorded head at or before `n`: every recorded head is a batch boundary. */
  lastHeadAtOrBefore(n: number): number {
    let best = 0;
    for (const h of this.heads) if (h.seq <= n) best = h.seq;
    return best;
  }
}

/** One run: interprets the commands against a world in a temp dir and checks every invariant. */
async function run(checkpointEvery: number, commands: Command[]): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), "wk-replay-prop-"));
  const dir = join(base, "w");
  const journal = worldPaths(dir).journal;
  const m = new Model();
  const trace: string[] = [];
  let world = await createWorld(dir, SOURCE, { synchronous: "NORMAL", checkpointEvery });
  let open = true;
  const count = () => world.store.countSync();
  const root = () => world.stateRefs().state_root;
  m.record(count() - 1, root());

  /** Live = replay from genesis = replay from the latest snapshot; cells = model. */
  const checkLive = async (where: string) => {
    const live = root();
    expect(cellsOf(world), `${where}: cells vs model`).toEqual(m.cells);
    const g = await replayWorld(dir);
    expect(g, `${where}: replay from genesis`).toMatchObject({ ok: true, state_root: live, entries: count() });
    const s = await replayWorld(dir, { fromSnapshot: true });
    expect(s, `${where}: replay from snapshot`).toMatchObject({ ok: true, state_root: live, entries: count() });
    const snap = world.store.latestOfKind("snapshot");
    if (snap !== null) expect(s.snapshot_seq, `${where}: replay from the latest snapshot`).toBe(snap.seq);
    expect(m.heads.at(-1)!.seq, `${where}: model head`).toBe(count() - 1);
  };

  /** Closes the world and runs `wk verify`; replay of the closed world reaches `expected`. */
  const closeAndVerify = async (where: string) => {
    const expected = root();
    await world.close();
    open = false;
    const v = await verifyWorld(journal);
    expect(v, `${where}: wk verify after close`).toMatchObject({ ok: true });
    const s = await replayWorld(dir, { fromSnapshot: true });
    expect(s, `${where}: replay from snapshot after close`).toMatchObject({ ok: true, state_root: expected });
    return expected;
  };

  /** A send of `b` without a key: a new, independent event. */
  const sendFresh = async (b: Body, where: string, key?: string) => {
    const n = count();
    const r = await world.send(EVENT, b, key === undefined ? {} : { idempotencyKey: key });
    const milestone = m.apply(b);
    if (milestone) hit("milestone");
    expect(r, `${where}: send result`).toEqual({ seq: n, entries: milestone ? 3 : 2, steps: 1, failures: 0 });
    m.record(count() - 1, root());
    return r;
  };

  try {
    for (const [i, c] of commands.entries()) {
      const where = `#${i} ${c.t}`;
      hit(c.t);
      trace.push(JSON.stringify(c, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes>` : v)));
      switch (c.t) {
        case "send":
          await sendFresh(c.body, where);
          break;
        case "sendDuplicate": {
          // The exact body of an earlier send, with no key: counted again.
          const b = m.bodies.length === 0 ? { key: "a" as const, by: 100 } : m.bodies[c.pick % m.bodies.length]!;
          await sendFresh({ ...b }, where);
          break;
        }
        case "sendWithKey": {
          const prior = m.keys.get(c.idem);
          const b = prior && c.reuse ? { ...prior.body } : c.body;
          if (prior === undefined) {
            const r = await sendFresh(b, where, c.idem);
            m.keys.set(c.idem, { body: b, seq: r.seq, entries: r.entries });
          } else if (sameBody(prior.body, b)) {
            // A retry: the first send's result, nothing appended, nothing counted.
            hit("sendWithKey: retry");
            const n = count();
            const before = root();
            const r = await world.send(EVENT, b, { idempotencyKey: c.idem });
            expect(r, `${where}: retry result`).toEqual({
              seq: prior.seq,
              entries: prior.entries,
              steps: 1,
              failures: 0,
              duplicate: true,
            });
            expect(count(), `${where}: a retry appends nothing`).toBe(n);
            expect(root(), `${where}: a retry changes nothing`).toBe(before);
          } else {
            hit("sendWithKey: conflict");
            const n = count();
            const before = root();
            const err = await world.send(EVENT, b, { idempotencyKey: c.idem }).then(
              () => null,
              (e: unknown) => e,
            );
            expect(err, `${where}: key reused with another body`).toSatisfy(isCode("kernel.idempotency_conflict"));
            expect(count(), `${where}: a conflict appends nothing`).toBe(n);
            expect(root(), `${where}: a conflict changes nothing`).toBe(before);
          }
          break;
        }
        case "sendMany": {
          // Plan as the kernel does: any conflict (with the store or earlier in the list) refuses the whole list.
          const seen = new Map<string, { body: Body; index: number }>();
          let conflict = false;
          const plan = c.events.map(({ idem: key, reuse, body: b }, index) => {
            if (key === undefined) return { body: b, idem: key, dupOf: undefined };
            const stored = m.keys.get(key);
            const prior = seen.get(key) ?? (stored ? { body: stored.body, index: -1 } : undefined);
            // `reuse`: a retry of the key's first body; otherwise a body of its own (a conflict unless equal).
            const sent = prior && reuse ? { ...prior.body } : b;
            if (prior && !sameBody(prior.body, sent)) conflict = true;
            if (!prior) seen.set(key, { body: sent, index });
            return { body: sent, idem: key, dupOf: prior };
          });
          const n = count();
          const before = root();
          const call = world.sendMany(
            plan.map((e) => ({
              schema: EVENT,
              json: e.body,
              ...(e.idem === undefined ? {} : { idempotencyKey: e.idem }),
            })),
          );
          if (conflict) {
            hit("sendMany: conflict");
            const err = await call.then(
              () => null,
              (e: unknown) => e,
            );
            expect(err, `${where}: conflicting key in the list`).toSatisfy(isCode("kernel.idempotency_conflict"));
            expect(count(), `${where}: a refused list appends nothing`).toBe(n);
            expect(root(), `${where}: a refused list changes nothing`).toBe(before);
            expect(cellsOf(world), `${where}: a refused list leaves no step behind`).toEqual(m.cells);
            break;
          }
          const rs = await call;
          let next = n;
          for (const [j, p] of plan.entries()) {
            const r = rs[j]!;
            if (p.dupOf !== undefined) {
              hit(p.dupOf.index >= 0 ? "sendMany: retry within the list" : "sendMany: retry of a stored key");
              const first = p.dupOf.index >= 0 ? rs[p.dupOf.index]! : m.keys.get(p.idem!)!;
              expect(r, `${where}: event ${j} is a retry`).toMatchObject({
                seq: first.seq,
                entries: first.entries,
                duplicate: true,
              });
              continue;
            }
            const milestone = m.apply(p.body);
            expect(r, `${where}: event ${j}`).toEqual({ seq: next, entries: milestone ? 3 : 2, steps: 1, failures: 0 });
            if (p.idem !== undefined) m.keys.set(p.idem, { body: p.body, seq: r.seq, entries: r.entries });
            next += r.entries;
            // Each event of the list ends a batch: the state there is known, its root is not observed.
            m.record(next - 1, undefined);
          }
          m.record(count() - 1, root());
          break;
        }
        case "erase": {
          const bytes = typeof c.blob === "number" ? FIXED_BLOBS[c.blob]! : c.blob;
          const n = count();
          const before = root();
          const hash = c.put ? world.store.putBlobSync(bytes) : hashBytes(bytes);
          if (c.put || world.store.hasBlobSync(hash)) {
            if (m.erased.has(hash)) hit("erase: put again after its erasure");
            const seq = await world.erase(hash, "property test: forget this");
            expect(seq, `${where}: erasure seq`).toBe(n);
            expect(world.store.hasBlobSync(hash), `${where}: erased bytes are gone`).toBe(false);
            expect(() => world.store.getBlobSync(hash), `${where}: reading an erased blob`).toThrow(
              expect.objectContaining({ code: "journal.blob_erased" }),
            );
            m.erased.add(hash);
          } else {
            hit(m.erased.has(hash) ? "erase: already erased" : "erase: never stored");
            const err = await world.erase(hash, "again").then(
              () => null,
              (e: unknown) => e,
            );
            expect(err, `${where}: erasing an absent blob`).toSatisfy(
              isCode(m.erased.has(hash) ? "journal.blob_erased" : "journal.blob_not_found"),
            );
            expect(count(), `${where}: a refused erasure appends nothing`).toBe(n);
          }
          expect(root(), `${where}: erasure changes no state`).toBe(before);
          m.record(count() - 1, root());
          break;
        }
        case "eraseStructural": {
          const { genesis, catalog } = readGenesis(world.store);
          const snap = world.store.latestOfKind("snapshot");
          const candidates = [genesis.air_ref as HashText, catalog.modules.get(MODULE)!.def.wasm_hash as HashText];
          if (snap !== null) candidates.push((decodeStored(snap.body) as CborObject).cells_ref as HashText);
          const hash = candidates[c.which % candidates.length]!;
          const n = count();
          const err = await world.erase(hash, "should be refused").then(
            () => null,
            (e: unknown) => e,
          );
          expect(err, `${where}: erasing ${hash}`).toSatisfy(isCode("kernel.erase_refused"));
          expect(count(), `${where}: a refused erasure appends nothing`).toBe(n);
          expect(world.store.hasBlobSync(hash), `${where}: the blob is kept`).toBe(true);
          break;
        }
        case "restart": {
          const before = await closeAndVerify(where);
          world = await World.open(dir);
          open = true;
          expect(root(), `${where}: cold start reaches the state before close`).toBe(before);
          m.record(count() - 1, root());
          break;
        }
        case "crash": {
          // The process dies after its last commit: no snapshot, no sealing checkpoint.
          const before = root();
          await world.abandon();
          open = false;
          const tail = await verifyWorld(journal, { requireSealedHead: false });
          expect(tail, `${where}: wk verify of a crashed world (tail allowed)`).toMatchObject({ ok: true });
          const sealed = await verifyWorld(journal);
          if (!sealed.ok)
            expect(sealed.fault, `${where}: a crash leaves at most an unsealed tail`).toBe("uncovered_tail");
          if (!sealed.ok) hit("crash: unsealed tail");
          world = await World.open(dir);
          open = true;
          expect(root(), `${where}: cold start after a crash reaches the last committed state`).toBe(before);
          m.record(count() - 1, root());
          break;
        }
        case "replayTo": {
          const n = c.at % count();
          const r = await replayWorld(dir, { to: n });
          expect(r.ok, `${where}: replay --to ${n}: ${JSON.stringify(r.divergence)}`).toBe(true);
          const to = r.to!;
          expect(to, `${where}: replay --to ${n} stops at or before it`).toBeLessThanOrEqual(n);
          expect(to, `${where}: replay --to ${n} passes no boundary`).toBeGreaterThanOrEqual(m.lastHeadAtOrBefore(n));
          expect(r.entries, `${where}: replay --to ${n} reads through ${to}`).toBe(to + 1);
          const exact = replayWorld(dir, { to: n, exact: true });
          if (to < n) {
            hit("replayTo: moved to the boundary before");
            await expect(exact, `${where}: replay --to ${n} --exact inside a batch`).rejects.toMatchObject({
              code: "kernel.not_a_boundary",
            });
            expect(r.moved_from, `${where}: a moved stop says so`).toBe(n);
            expect(r.batch, `${where}: the batch around ${n}`).toEqual({ first: to + 1, last: expect.any(Number) });
            expect(r.batch!.last, `${where}: the batch holds ${n}`).toBeGreaterThanOrEqual(n);
          } else {
            expect(r.moved_from, `${where}: a boundary is not moved`).toBeUndefined();
            expect(await exact, `${where}: replay --to ${n} --exact at a boundary`).toMatchObject({
              ok: true,
              to: n,
              state_root: r.state_root,
            });
          }
          const expected = m.at(to);
          hit(expected.root === undefined ? "replayTo: inside a sendMany" : "replayTo: root checked");
          if (expected.root !== undefined) expect(r.state_root, `${where}: state at ${to}`).toBe(expected.root);
          const s = await replayWorld(dir, { to: n, fromSnapshot: true });
          expect(s, `${where}: replay --to ${n} --from-snapshot`).toMatchObject({
            ok: true,
            to,
            state_root: r.state_root,
          });
          break;
        }
        case "forkAt": {
          const n = c.at % count();
          const fdir = join(base, `fork-${i}`);
          const fork = await forkWorld(dir, n, fdir);
          let forkOpen = true;
          try {
            const fseq = readGenesis(fork.store).genesis.fork!.seq;
            hit(fseq < n ? "forkAt: moved to the boundary before" : "forkAt: at a boundary");
            const p = await replayWorld(dir, { to: n });
            expect(p.ok, `${where}: parent replay --to ${n}`).toBe(true);
            expect(fseq, `${where}: fork --at ${n} and replay --to ${n} stop at the same boundary`).toBe(p.to);
            expect(fseq, `${where}: fork --at ${n} passes no boundary`).toBeGreaterThanOrEqual(m.lastHeadAtOrBefore(n));
            expect(fork.stateRefs().state_root, `${where}: fork state = parent replayed to ${fseq}`).toBe(p.state_root);
            expect(await replayWorld(dir, { to: fseq }), `${where}: parent replay --to fork.seq ${fseq}`).toMatchObject(
              { ok: true, to: fseq, state_root: p.state_root },
            );
            const expected = m.at(fseq);
            if (expected.root !== undefined) expect(p.state_root, `${where}: state at ${fseq}`).toBe(expected.root);
            expect(cellsOf(fork), `${where}: fork cells vs model at ${fseq}`).toEqual(expected.cells);
            const fr = await replayWorld(fdir);
            expect(fr, `${where}: fork replays`).toMatchObject({ ok: true, state_root: p.state_root });
            // The fork goes its own way; the parent does not move.
            const parentRoot = root();
            const old = expected.cells[c.then.key] ?? { count: 0, events: 0 };
            const sent = await fork.send(EVENT, c.then);
            expect(cellsOf(fork)[c.then.key], `${where}: fork counts its own send`).toEqual({
              count: old.count + c.then.by,
              events: old.events + 1,
            });
            expect(root(), `${where}: the parent is untouched by its fork`).toBe(parentRoot);
            const forkRoot = fork.stateRefs().state_root;
            const fr2 = await replayWorld(fdir);
            expect(fr2, `${where}: fork replays after its send`).toMatchObject({ ok: true, state_root: forkRoot });
            await fork.close();
            forkOpen = false;
            expect(await verifyWorld(worldPaths(fdir).journal), `${where}: wk verify of the fork`).toMatchObject({
              ok: true,
            });
            const fr3 = await replayWorld(fdir, { fromSnapshot: true });
            expect(fr3, `${where}: closed fork replays from its snapshot`).toMatchObject({
              ok: true,
              state_root: forkRoot,
            });
            // Every seq of the fork, from genesis and from a snapshot: before its own send the
            // fork's state is the parent's at the fork point (its base snapshot), after it its own.
            const forkCount = fr3.entries;
            const rootAt: string[] = [];
            for (let s = 0; s < forkCount; s++) {
              const a = await replayWorld(fdir, { to: s });
              const b = await replayWorld(fdir, { to: s, fromSnapshot: true });
              const want = a.to! < sent.seq ? p.state_root : forkRoot;
              expect(a, `${where}: fork replay --to ${s}`).toMatchObject({ ok: true, state_root: want });
              const from =
                b.snapshot_seq === undefined
                  ? "no snapshot at or before it: the fork's state there is still its base snapshot's, the parent's at the fork point"
                  : `snapshot ${b.snapshot_seq}`;
              expect(b, `${where}: fork replay --to ${s} --from-snapshot (${from})`).toMatchObject({
                ok: true,
                to: a.to,
                state_root: want,
              });
              rootAt.push(a.state_root);
            }
            // A fork of the fork, at a random seq of it.
            const nAt = c.nested % forkCount;
            const ffdir = join(base, `fork-${i}-fork`);
            const ff = await forkWorld(fdir, nAt, ffdir);
            try {
              hit(nAt <= 1 ? "forkAt: nested fork before the fork's base snapshot" : "forkAt: nested fork");
              expect(ff.stateRefs().state_root, `${where}: fork of the fork at ${nAt} = fork replayed to ${nAt}`).toBe(
                rootAt[nAt],
              );
              expect(
                readGenesis(ff.store).genesis.fork!.seq,
                `${where}: fork of the fork stops where replay does`,
              ).toBeLessThanOrEqual(nAt);
              const ffr = await replayWorld(ffdir);
              expect(ffr, `${where}: fork of the fork replays`).toMatchObject({ ok: true, state_root: rootAt[nAt] });
            } finally {
              await ff.close();
            }
            expect(
              await verifyWorld(worldPaths(ffdir).journal),
              `${where}: wk verify of the fork of the fork`,
            ).toMatchObject({ ok: true });
          } finally {
            if (forkOpen) await fork.close().catch(() => undefined);
          }
          break;
        }
      }
      await checkLive(where);
    }

    // The end: milestones as modelled, a clean close that verifies, and a cold start that agrees.
    let milestones = 0;
    for (let s = 0; s < count(); s++) {
      const e = world.store.getSync(s)!;
      if (e.kind === "event" && (decodeStored(e.body) as CborObject).schema === MILESTONE) milestones++;
    }
    expect(milestones, "milestone events in the journal").toBe(m.milestones);
    if (m.erased.size > 0) hit("run: with erasures");
    const final = await closeAndVerify("end");
    const g = await replayWorld(dir);
    expect(g, "end: replay from genesis after close").toMatchObject({ ok: true, state_root: final });
    world = await World.open(dir);
    open = true;
    expect(root(), "end: cold start").toBe(final);
    expect(cellsOf(world), "end: cells after cold start").toEqual(m.cells);
    await world.close();
    open = false;
    expect(await verifyWorld(journal), "end: wk verify after a second close").toMatchObject({ ok: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(
      `[WK_TEST_SEED=${SEED}] checkpoint_every ${checkpointEvery}; commands run: ${trace.join(" → ")}\n${msg}`,
      { cause: e },
    );
  } finally {
    if (open) await world.close().catch(() => undefined);
    rmSync(base, { recursive: true, force: true });
  }
}

describe("replay ≡ live under random histories (issue 11)", () => {
  it(`sends, duplicates, idempotency keys, erasures, restarts, forks and --to (WK_TEST_SEED=${SEED})`, async () => {
    try {
      await fc.assert(
        fc.asyncProperty(scenario, async ({ checkpointEvery, commands }) => run(checkpointEvery, commands)),
        {
          seed: SEED,
          numRuns: RUNS,
          verbose: VERBOSE,
          ...(PATH === undefined ? {} : { path: PATH }),
          interruptAfterTimeLimit: 240_000,
          markInterruptAsFailure: true,
        },
      );
      if (process.env.WK_STATS) console.log(`WK_TEST_SEED=${SEED} coverage:`, Object.fromEntries([...STATS].sort()));
    } catch (e) {
      // fast-check's message carries { seed, path }; say how to re-run it.
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(
        `replay property failed with WK_TEST_SEED=${SEED} (re-run: WK_TEST_SEED=${SEED} npx vitest run test/world/replay-property.test.ts; add WK_PATH=<path> from below to replay only the counterexample)\n${msg}`,
        { cause: e },
      );
    }
  }, 300_000);
});
