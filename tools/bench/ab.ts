/**
 * @module `npm run bench:ab -- <git-ref>`: the kernel at `<git-ref>` beside the working tree's, in
 * one process and alternating, so both see the same machine at the same moment (this machine is
 * 2 noisy cores: only a same-run ratio means anything). Each round measures, for the counter
 * world: live `sendMany` (events/s), `wk replay` (events/s, one pass: verify + re-execute),
 * re-execution alone (a verified journal), and cold open of a world with a long unsnapshotted
 * tail; it prints the best of the rounds per kernel and the ratio working tree / ref.
 * The ref is checked out into a temporary git worktree sharing this checkout's node_modules.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const ref = process.argv[2];
const rounds = Number(process.argv[3] ?? 3);
if (!ref) {
  console.error("usage: npm run bench:ab -- <git-ref> [rounds]");
  process.exit(2);
}

/** The slice of the World API both kernels have. */
interface WorldLike {
  sendMany(events: { schema: string; json: unknown }[]): Promise<unknown>;
  close(): Promise<void>;
  abandon(): Promise<void>;
}
interface KernelLike {
  createWorld(dir: string, source: unknown, opts?: object): Promise<WorldLike>;
  sourceFromAirDir(dir: string): unknown;
  replayWorld(dir: string, opts?: object): Promise<{ ok: boolean; steps: number }>;
  World: { open(dir: string, opts?: object): Promise<WorldLike> };
}

const EVENT = "demo/CounterEvent@1";
const events = (n: number, from: number) =>
  Array.from({ length: n }, (_, i) => ({ schema: EVENT, json: { key: `k${(from + i) % 16}`, by: 1 } }));

async function load(root: string): Promise<KernelLike> {
  return (await import(pathToFileURL(join(root, "kernel/world/index.ts")).href)) as KernelLike;
}

/** Seconds `fn` takes. */
async function time(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

interface Figures {
  send: number;
  replay: number;
  rerun: number;
  open: number;
}

/** One round of every figure for one kernel, in a fresh temp directory. */
async function round(k: KernelLike, n: number): Promise<Figures> {
  const base = mkdtempSync(join(tmpdir(), "wk-ab-"));
  try {
    const dir = join(base, "w");
    const w = await k.createWorld(dir, k.sourceFromAirDir(join(ROOT, "worlds/counter")), { synchronous: "NORMAL" });
    await w.sendMany(events(500, 0)); // warm-up: modules compiled, caches filled
    let sent = 500;
    const sendSecs = await time(async () => {
      for (; sent < n; sent += 1000) await w.sendMany(events(1000, sent));
    });
    // Leave the tail unsnapshotted, as a crash would: cold open re-executes it.
    await w.abandon();
    const open = await time(async () => (await k.World.open(dir)).abandon());
    let steps = 0;
    const replay = await time(async () => {
      const r = await k.replayWorld(dir);
      if (!r.ok) throw new Error("replay diverged");
      steps = r.steps;
    });
    const rerun = await time(() => k.replayWorld(dir, { verified: true }));
    return { send: (n - 500) / sendSecs, replay: steps / replay, rerun: steps / rerun, open };
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
}

// The anchor log of these throwaway worlds goes to a throwaway state dir, not the user's.
process.env.WK_STATE_DIR ??= mkdtempSync(join(tmpdir(), "wk-ab-state-"));
const wt = mkdtempSync(join(tmpdir(), "wk-ab-ref-"));
execFileSync("git", ["worktree", "add", "--detach", wt, ref], { cwd: ROOT, stdio: "ignore" });
try {
  symlinkSync(join(ROOT, "node_modules"), join(wt, "node_modules"));
  const sha = execFileSync("git", ["rev-parse", "--short", ref], { cwd: ROOT }).toString().trim();
  const kernels = { [`ref ${sha}`]: await load(wt), "working tree": await load(ROOT) };
  const best: Record<string, Figures> = {};
  const n = 10_000;
  for (let r = 0; r < rounds; r++)
    for (const [name, k] of Object.entries(kernels)) {
      const f = await round(k, n);
      const b = (best[name] ??= { send: 0, replay: 0, rerun: 0, open: Infinity });
      best[name] = {
        send: Math.max(b.send, f.send),
        replay: Math.max(b.replay, f.replay),
        rerun: Math.max(b.rerun, f.rerun),
        open: Math.min(b.open, f.open),
      };
      console.error(`round ${r + 1} ${name}: ${JSON.stringify(f)}`);
    }
  const [a, b] = Object.keys(kernels) as [string, string];
  const row = (label: string, key: keyof Figures, unit: string, higherIsBetter: boolean) => {
    const x = best[a]![key];
    const y = best[b]![key];
    const fmt = (v: number) => (unit === "s" ? v.toFixed(3) : Math.round(v).toLocaleString("en-US"));
    const ratio = higherIsBetter ? y / x : x / y;
    console.log(
      `  ${label}: ${fmt(y)} ${unit} (working tree)  |  ${fmt(x)} ${unit} (${a})  |  ratio ${ratio.toFixed(2)}`,
    );
  };
  console.log(
    `worldkernel A/B — ${new Date().toISOString()} — node ${process.version}, best of ${rounds} rounds, counter world, ${n} events`,
  );
  row("live sendMany", "send", "events/s", true);
  row("wk replay (one pass)", "replay", "events/s", true);
  row("re-execution alone", "rerun", "events/s", true);
  row("cold open, 10k-event tail (ratio: ref time / working tree time)", "open", "s", false);
  console.log(
    `  replay / re-execution: ${(best[b]!.replay / best[b]!.rerun).toFixed(2)} (working tree), ${(best[a]!.replay / best[a]!.rerun).toFixed(2)} (${a})`,
  );
} finally {
  execFileSync("git", ["worktree", "remove", "--force", wt], { cwd: ROOT, stdio: "ignore" });
}
