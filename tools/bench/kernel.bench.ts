/**
 * @module Kernel benchmarks, each beside a same-run baseline: live steps/s through the whole
 * kernel (validate, stamp, step, gate, journal with group commit) against a raw Extism call
 * of the same plugin with the same envelope bytes and against a raw WebAssembly call; replay
 * events/s of a 100,000-event world; and peak RSS of replay at two journal lengths (set
 * WK_BENCH_EVENTS=1000000 for the 1M-event run) to show memory flat in log length.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import createPlugin from "@extism/extism";
import wabtInit from "wabt";
import { stepInput } from "../../kernel/core/envelope.js";
import { ownBuffer } from "../../kernel/wasm/call-support.js";
import { createWorld, replayWorld } from "../../kernel/world/index.js";
import { counterSource, repoWasm } from "../../test/world/fixtures/counter-source.js";
import { measure, type Bench, type BenchResult, type Rate } from "./harness.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const BIG = Number(process.env.WK_BENCH_EVENTS ?? 200_000);

const events = (n: number, offset = 0) =>
  Array.from({ length: n }, (_, i) => ({
    schema: "demo/CounterEvent@1",
    json: { key: `cell-${(i + offset) % 64}`, by: ((i + offset) % 7) + 1 },
  }));

/** Builds a world with `n` events (batches of 1000, synchronous=NORMAL); returns its dir. */
export async function buildWorld(wasmPath: string, n: number): Promise<string> {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-bench-")), "w");
  const w = await createWorld(dir, counterSource(repoWasm(wasmPath)), { synchronous: "NORMAL" });
  for (let i = 0; i < n; i += 1000) await w.sendMany(events(Math.min(1000, n - i), i));
  await w.close({ snapshot: false });
  return dir;
}

/** A raw Extism call of the plugin with the envelope the kernel would build (warm instance, reset). */
async function rawExtism(wasmPath: string): Promise<Rate> {
  const plugin = await createPlugin({ wasm: [{ data: readFileSync(join(ROOT, wasmPath)) }] }, { useWasi: false });
  // A buffer of its own: Extism's store takes input.buffer whole (see ownBuffer).
  const input = ownBuffer(
    stepInput(
      null,
      { schema: "demo/CounterEvent@1", value: { key: "cell-1", by: 3 }, key: "cell-1" },
      {
        now_ns: 1_795_435_200_000_000_000n,
        logical_now: 1,
        journal_height: 1,
        entropy: new Uint8Array(32),
        event_hash: `sha256:${"0".repeat(64)}`,
        manifest_hash: `sha256:${"0".repeat(64)}`,
      },
      "demo/Counter@1",
    ),
  );
  return measure(
    `raw Extism call, same plugin and envelope (${input.length} B)`,
    async () => {
      const out = await plugin.call("step", input);
      out!.bytes();
      await plugin.reset();
    },
    { minMs: 1500, warmup: 500 },
  );
}

/** Raw WebAssembly: copy 64 bytes in, run a copy loop, copy 64 bytes out (sync). */
async function rawWasmRate(): Promise<Rate> {
  const wabt = await wabtInit();
  const text = `(module (memory (export "memory") 1)
    (func (export "step") (param $len i32) (local $i i32)
      (loop $l
        (i32.store8 (i32.add (local.get $i) (i32.const 128)) (i32.load8_u (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $l (i32.lt_s (local.get $i) (local.get $len))))))`;
  const bytes = wabt.parseWat("raw.wat", text).toBinary({}).buffer;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const mem = new Uint8Array((inst.exports.memory as WebAssembly.Memory).buffer);
  const step = inst.exports.step as (n: number) => void;
  const input = new Uint8Array(64).fill(7);
  return measure(
    "raw WebAssembly call (64 B in, copy, 64 B out)",
    () => {
      mem.set(input, 0);
      step(64);
      mem.slice(128, 192);
    },
    { minMs: 1000, batch: 1, warmup: 1000 },
  );
}

async function liveSteps(wasmPath: string, label: string): Promise<Rate> {
  const dir = join(mkdtempSync(join(tmpdir(), "wk-bench-")), "w");
  const w = await createWorld(dir, counterSource(repoWasm(wasmPath)), { synchronous: "NORMAL" });
  await w.sendMany(events(500));
  let i = 0;
  const r = await measure(label, () => w.sendMany(events(1000, (i += 1000))), { minMs: 3000, batch: 1000, warmup: 1 });
  await w.close({ snapshot: false });
  rmSync(dir, { recursive: true, force: true });
  return r;
}

/** This process's CPU time so far (user + system), in seconds. */
const cpuSecs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Peak RSS (MiB) of a fresh process replaying `dir`. */
function replayRss(dir: string): { rssMiB: number; ok: boolean; seconds: number } {
  const script = `import { replayWorld } from ${JSON.stringify(join(ROOT, "kernel/world/index.ts"))};
const t = performance.now(); const r = await replayWorld(${JSON.stringify(dir)});
console.log(JSON.stringify({ ok: r.ok, seconds: (performance.now() - t) / 1000, rss: process.resourceUsage().maxRSS / 1024 }));`;
  const p = spawnSync(
    process.execPath,
    ["--disable-warning=ExperimentalWarning", "--import", "tsx", "--input-type=module", "-e", script],
    { encoding: "utf8", cwd: ROOT, maxBuffer: 1 << 20 },
  );
  const j = JSON.parse(p.stdout.trim().split("\n").pop()!) as { ok: boolean; seconds: number; rss: number };
  return { rssMiB: j.rss, ok: j.ok, seconds: j.seconds };
}

export const benchmarks: Bench[] = [
  {
    name: "kernel: live steps/s (group commit, 1000 events per commit, NORMAL)",
    async run(): Promise<BenchResult[]> {
      const out: BenchResult[] = [];
      const raw = await rawWasmRate();
      for (const [path, lang] of [
        ["modules/assemblyscript/counter/counter.wasm", "AssemblyScript"],
        ["modules/wat/counter.wasm", "WAT"],
        ["modules/c/counter/counter.wasm", "C"],
      ] as const) {
        const extism = await rawExtism(path);
        const live = await liveSteps(path, `kernel steps, ${lang} counter`);
        out.push({ name: `kernel: live steps vs raw Extism (${lang} counter)`, figure: live, baseline: extism });
        out.push({ name: `kernel: live steps vs raw WebAssembly (${lang} counter)`, figure: live, baseline: raw });
      }
      return out;
    },
  },
  {
    name: "kernel: replay of a 100,000-event world",
    async run(): Promise<BenchResult[]> {
      const out: BenchResult[] = [];
      for (const [path, lang] of [
        ["modules/assemblyscript/counter/counter.wasm", "AssemblyScript"],
        ["modules/wat/counter.wasm", "WAT"],
      ] as const) {
        const dir = await buildWorld(path, 100_000);
        // Interleaved, best of three each: the two figures are compared with each other. On a
        // shared machine the wall-clock ratio moves with other load, so each round's ratio and
        // the median ratio of process CPU time (user + system) are printed beside it.
        let replaySecs = Infinity;
        let rerunSecs = Infinity;
        let steps = 0;
        let entries = 0;
        const wallRatios: number[] = [];
        const cpuRatios: number[] = [];
        for (let round = 0; round < 3; round++) {
          const t = performance.now();
          const c = cpuSecs();
          const r = await replayWorld(dir);
          const wall1 = (performance.now() - t) / 1000;
          const cpu1 = cpuSecs() - c;
          if (!r.ok) throw new Error(`replay diverged: ${JSON.stringify(r.divergence)}`);
          steps = r.steps;
          entries = r.entries;
          // Re-execution alone: what replay costs when the journal was verified already (audit does this).
          const t2 = performance.now();
          const c2 = cpuSecs();
          await replayWorld(dir, { verified: true });
          const wall2 = (performance.now() - t2) / 1000;
          const cpu2 = cpuSecs() - c2;
          replaySecs = Math.min(replaySecs, wall1);
          rerunSecs = Math.min(rerunSecs, wall2);
          wallRatios.push(wall2 / wall1);
          cpuRatios.push(cpu2 / cpu1);
        }
        const figure: Rate = {
          label: `wk replay events/s, ${lang} counter (one pass: each entry verified — its hashing on a second thread, kernel/journal/chain-lane.ts — then its step re-run and compared byte for byte)`,
          opsPerSec: steps / replaySecs,
        };
        const rerun: Rate = { label: `re-execution alone events/s, ${lang} counter`, opsPerSec: steps / rerunSecs };
        const baseline = await rawExtism(path);
        rmSync(dir, { recursive: true, force: true });
        out.push({
          name: `kernel: replay events/s vs raw Extism call (${lang} counter)`,
          figure,
          baseline,
          extra: { entries },
        });
        out.push({
          name: `kernel: wk replay vs re-execution alone (${lang} counter)`,
          figure,
          baseline: rerun,
          extra: {
            round_ratios: wallRatios.map((x) => x.toFixed(3)).join(" "),
            cpu_time_ratio_median: median(cpuRatios).toFixed(3),
          },
        });
        out.push({ name: `kernel: re-execution alone vs raw Extism call (${lang} counter)`, figure: rerun, baseline });
      }
      return out;
    },
  },
  {
    name: `kernel: peak RSS of replay at ${BIG / 10} vs ${BIG} events`,
    async run(): Promise<BenchResult> {
      const path = "modules/wat/counter.wasm";
      const small = await buildWorld(path, BIG / 10);
      const big = await buildWorld(path, BIG);
      const a = replayRss(small);
      const b = replayRss(big);
      rmSync(small, { recursive: true, force: true });
      rmSync(big, { recursive: true, force: true });
      if (!a.ok || !b.ok) throw new Error("replay diverged");
      // Rates here are events replayed per MiB of peak RSS; the point is the extra field: RSS barely moves.
      return {
        name: `kernel: replay memory, ${BIG} vs ${BIG / 10} events`,
        figure: {
          label: `${BIG} events: peak RSS ${b.rssMiB.toFixed(0)} MiB, ${(BIG / b.seconds).toFixed(0)} events/s`,
          opsPerSec: BIG / b.rssMiB,
        },
        baseline: { label: `${BIG / 10} events: peak RSS ${a.rssMiB.toFixed(0)} MiB`, opsPerSec: BIG / 10 / a.rssMiB },
        extra: { rss_ratio: (b.rssMiB / a.rssMiB).toFixed(2) },
      };
    },
  },
];
