/**
 * @module WASM runtime benchmarks, each against a same-run baseline: the price of fuel
 * metering alone (metered vs plain module, both on a bare warm Extism plugin with reset),
 * the full Extism runtime (metering + fresh state per call + limits) vs the bare plugin
 * and vs a raw `WebAssembly` call, and the component runtime vs the same component
 * transpiled by jco without metering. All calls move 64 bytes in and 64 bytes out,
 * except the last benchmark: one counter step of the JavaScript counter component
 * (`modules/js/counter`, StarlingMonkey), where fresh state per call means restoring
 * ~9.5 MB of memory.
 */
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import createPlugin from "@extism/extism";
import { componentEmbed, componentNew } from "@bytecodealliance/jco";
import wabtInit from "wabt";
import { encodeCanonical, hashBytes } from "../../air/index.js";
import { componentRuntime } from "../../kernel/wasm/component-runtime.js";
import { transpileComponent } from "../../kernel/wasm/component-transpile.js";
import { extismRuntime } from "../../kernel/wasm/extism-runtime.js";
import { meter } from "../../kernel/wasm/fuel.js";
import type { LoadSpec } from "../../kernel/wasm/runtime.js";
import { measure, type Bench, type BenchResult, type Rate } from "./harness.js";

const wabt = await wabtInit();
const fixture = (name: string): string =>
  readFileSync(fileURLToPath(new URL(`../../test/fixtures/wasm/${name}`, import.meta.url)), "utf8");
const wat = (name: string, text = fixture(name)): Uint8Array => wabt.parseWat(name, text).toBinary({}).buffer;
const INPUT = new Uint8Array(64).map((_, i) => i);
const LIMITS = { memoryPages: 16, fuelPerStep: 1_000_000, maxOutputBytes: 65536 };
const OPTS = { minMs: 700, warmup: 2000 };
const ROUNDS = 4;

/**
 * Measures the functions in alternation, several rounds, keeping each one's best rate:
 * on a shared 2-core machine a single back-to-back pair mostly measures the neighbours.
 */
async function bestOf(fns: [string, () => unknown][]): Promise<Rate[]> {
  const best: Rate[] = fns.map(([label]) => ({ label, opsPerSec: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < fns.length; i++) {
      const [label, fn] = fns[i]!;
      const r = await measure(label, fn, OPTS);
      if (r.opsPerSec > best[i]!.opsPerSec) best[i] = r;
    }
  }
  return best;
}

/** A bare Extism plugin on `wasm`: call, copy the output, reset. */
async function barePlugin(wasm: Uint8Array, armFuel: boolean): Promise<() => Promise<void>> {
  const plugin = await createPlugin({ wasm: [{ module: new WebAssembly.Module(wasm) }] }, { useWasi: false });
  const arm = armFuel ? ((await plugin.getInstance()).exports["__wk_arm"] as (f: bigint) => void) : undefined;
  return async () => {
    arm?.(1_000_000n);
    const out = await plugin.call("step", INPUT);
    out!.bytes().slice();
    await plugin.reset();
  };
}

/** Raw WebAssembly: copy 64 bytes into memory, call a copy loop, copy 64 bytes out. */
function rawWasm(): () => void {
  const src = `(module (memory (export "memory") 1)
    (func (export "step") (param $len i32) (local $i i32)
      (block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get $len)))
        (i64.store (i32.add (i32.const 1024) (local.get $i)) (i64.load (local.get $i)))
        (local.set $i (i32.add (local.get $i) (i32.const 8))) (br $l)))))`;
  const ex = new WebAssembly.Instance(new WebAssembly.Module(wat("raw.wat", src))).exports;
  const mem = new Uint8Array((ex["memory"] as WebAssembly.Memory).buffer);
  const step = ex["step"] as (len: number) => void;
  return () => {
    mem.set(INPUT, 0);
    step(64);
    mem.slice(1024, 1088);
  };
}

function extismSpec(): LoadSpec {
  const wasm = wat("echo.wat");
  return { name: "bench/echo@1", wasm, wasmHash: hashBytes(wasm), entry: "step", hostFunctions: [], limits: LIMITS };
}

async function echoComponent(): Promise<Uint8Array> {
  const wit = readFileSync(fileURLToPath(new URL("../../kernel/wasm/wit/worldkernel.wit", import.meta.url)), "utf8");
  const abi = fixture("cm-echo.wat");
  return componentNew(await componentEmbed({ binary: wat("cm-echo.wat", abi), witSource: wit, world: "workflow" }));
}

export const benchmarks: Bench[] = [
  {
    name: "wasm: fuel metering alone (bare Extism plugin + reset, 64 B echo)",
    async run(): Promise<BenchResult> {
      const plain = wat("echo.wat");
      const metered = meter(plain, { memoryPages: 16, initialFuel: 1_000_000n }).wasm;
      const [figure, baseline] = await bestOf([
        ["metered plugin", await barePlugin(metered, true)],
        ["unmetered plugin", await barePlugin(plain, false)],
      ]);
      return { name: this.name, figure: figure!, baseline: baseline! };
    },
  },
  {
    name: "wasm: Extism runtime call (metered, fresh state, limits) vs bare plugin and raw WebAssembly",
    async run(): Promise<BenchResult[]> {
      const m = await extismRuntime.load(extismSpec());
      const call = async () => {
        const r = await m.call(INPUT);
        if (!r.ok) throw new Error(r.error.message);
      };
      const [figure, bare, raw] = (await bestOf([
        ["extismRuntime.call", call],
        ["bare unmetered plugin", await barePlugin(wat("echo.wat"), false)],
        ["raw WebAssembly copy-in/call/copy-out", rawWasm()],
      ])) as [Rate, Rate, Rate];
      return [
        { name: "wasm: Extism runtime vs bare Extism plugin", figure, baseline: bare },
        { name: "wasm: Extism runtime vs raw WebAssembly", figure, baseline: raw },
      ];
    },
  },
  {
    name: "wasm: component runtime call (metered, fresh state) vs unmetered jco component",
    async run(): Promise<BenchResult> {
      const wasm = await echoComponent();
      const spec: LoadSpec = {
        name: "bench/echo-component@1",
        wasm,
        wasmHash: hashBytes(wasm),
        entry: "step",
        hostFunctions: [],
        limits: LIMITS,
      };
      const t = await transpileComponent(spec.name, spec.wasmHash, wasm);
      const cores = new Map([...t.cores].map(([f, b]) => [f, new WebAssembly.Module(b)]));
      const root = await t.instantiate(
        (f) => cores.get(f)!,
        {},
        (mod, imp) => WebAssembly.instantiate(mod, imp ?? {}),
      );
      const step = root["step"] as (i: Uint8Array) => Uint8Array;
      const m = await componentRuntime.load(spec);
      const call = async () => {
        const r = await m.call(INPUT);
        if (!r.ok) throw new Error(r.error.message);
      };
      const [figure, baseline] = await bestOf([
        ["componentRuntime.call", call],
        ["unmetered jco component", () => step(INPUT)],
      ]);
      return { name: this.name, figure: figure!, baseline: baseline! };
    },
  },
  {
    name: "wasm: JavaScript counter component step (metered, fresh state) vs unmetered warm jco",
    async run(): Promise<BenchResult[]> {
      const file = fileURLToPath(new URL("../../modules/js/counter/counter.wasm", import.meta.url));
      if (!existsSync(file)) return [];
      const wasm = new Uint8Array(readFileSync(file));
      const input = encodeCanonical({
        version: 1,
        state: null,
        event: { schema: "demo/CounterEvent@1", value: { key: "a", by: 5 }, key: "a" },
        ctx: {
          now_ns: 1n,
          logical_now: 0,
          journal_height: 0,
          entropy: new Uint8Array(32),
          event_hash: `sha256:${"0".repeat(64)}`,
          manifest_hash: `sha256:${"0".repeat(64)}`,
          module: "demo/Counter@1",
          key: "a",
        },
      });
      const spec: LoadSpec = {
        name: "demo/Counter@1",
        wasm,
        wasmHash: hashBytes(wasm),
        entry: "step",
        hostFunctions: [],
        limits: { memoryPages: 1024, fuelPerStep: 5_000_000_000, maxOutputBytes: 65536 },
      };
      const t = await transpileComponent(spec.name, spec.wasmHash, wasm);
      const cores = new Map([...t.cores].map(([f, b]) => [f, new WebAssembly.Module(b)]));
      const id = (i: Uint8Array): Uint8Array => i;
      const host = { log: id, blobGet: id, manifestGet: id, journalHead: id };
      const root = await t.instantiate(
        (f) => cores.get(f)!,
        { "worldkernel:module/host": host },
        (mod, imp) => WebAssembly.instantiate(mod, imp ?? {}),
      );
      const step = root["step"] as (i: Uint8Array) => Uint8Array;
      const m = await componentRuntime.load(spec);
      const call = async () => {
        const r = await m.call(input);
        if (!r.ok) throw new Error(r.error.message);
      };
      const fuel = (await m.call(input)).fuelUsed;
      const [figure, baseline] = await bestOf([
        ["componentRuntime.call", call],
        ["unmetered warm jco component", () => step(input)],
      ]);
      return [{ name: this.name, figure: figure!, baseline: baseline!, extra: { fuel_per_step: fuel } }];
    },
  },
];
