/**
 * @module Extism plugins (@extism/extism 1.0.3, foreground mode) behind `ModuleRuntime`.
 * Every call starts from the state a fresh instance would have (memory image and
 * globals restored, or a new instance when memory grew or the code can change tables),
 * so a call's output and fuel depend only on its input: replay from any snapshot sees
 * the same results. Fuel is the metered module's exported `__wk_fuel` global, reached
 * through `plugin.getInstance()`.
 */
import createPlugin, { type CallContext, type Plugin } from "@extism/extism";
import { ModuleLoadError } from "./errors.js";
import { EXTISM_ENV, EXTISM_USER } from "./host-calls.js";
import { checkExtismImports } from "./link.js";
import { FUEL_EXPORT, MEMORY_EXPORT, OOM_EXPORT } from "./fuel.js";
import { prepareCore, requireExport, type PreparedCore } from "./prepare.js";
import { runSerialized, type Fault, faultResult, HOST_CALL_FUEL } from "./call-support.js";
import type { CallResult, LoadSpec, LoadedModule, ModuleRuntime } from "./runtime.js";

const SILENT = { info() {}, debug() {}, warn() {}, error() {}, log() {} } as unknown as Console;

/** One live instance and the handles the host needs into it. */
interface Live {
  plugin: Plugin;
  fuel: WebAssembly.Global;
  oom: WebAssembly.Global;
  memory: WebAssembly.Memory | undefined;
  globals: WebAssembly.Global[];
  /** False until the first call; a fresh instance needs no restore. */
  used: boolean;
}

/** The state of a freshly instantiated module, restored before each call. */
interface Snapshot {
  image: Uint8Array | undefined;
  globals: (number | bigint)[];
}

class ExtismModule implements LoadedModule {
  private live: Live | undefined;
  private snapshot: Snapshot | undefined;
  private readonly queue = { tail: Promise.resolve() as Promise<unknown> };
  // Per-call accounting the host functions write into.
  private hostBytes = 0;
  private fault: Fault | undefined;

  constructor(private readonly spec: LoadSpec, private readonly prepared: PreparedCore) {}

  /** First instantiation, at load: a start function that traps fails the load. */
  async start(): Promise<void> {
    try {
      this.live = await this.instantiate();
    } catch (e) {
      throw new ModuleLoadError("module.invalid_wasm", this.spec.name, `instantiation failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  private async instantiate(): Promise<Live> {
    const functions: Record<string, Record<string, (ctx: CallContext, ...args: bigint[]) => unknown>> = {
      [EXTISM_ENV]: { alloc: (ctx, n) => this.alloc(ctx, n!) },
      [EXTISM_USER]: {},
    };
    for (const hf of this.spec.hostFunctions) {
      functions[EXTISM_USER]![hf.name] = (ctx, addr) => this.hostCall(hf.name, hf.call, ctx, addr!);
    }
    const plugin = await createPlugin({ wasm: [{ module: this.prepared.module }] }, { useWasi: false, functions, logger: SILENT });
    const ex = (await plugin.getInstance()).exports;
    const live: Live = {
      plugin,
      fuel: ex[FUEL_EXPORT] as WebAssembly.Global,
      oom: ex[OOM_EXPORT] as WebAssembly.Global,
      memory: ex[MEMORY_EXPORT] as WebAssembly.Memory | undefined,
      globals: this.prepared.metered.globalExports.map((n) => ex[n] as WebAssembly.Global),
      used: false,
    };
    this.snapshot ??= {
      image: live.memory ? new Uint8Array(live.memory.buffer).slice() : undefined,
      globals: live.globals.map((g) => g.value as number | bigint),
    };
    return live;
  }

  call(input: Uint8Array): Promise<CallResult> {
    return runSerialized(this.queue, () => this.callNow(input));
  }

  private async callNow(input: Uint8Array): Promise<CallResult> {
    const live = await this.ready();
    const budget = BigInt(this.spec.limits.fuelPerStep);
    live.used = true;
    live.fuel.value = budget;
    live.oom.value = 0;
    this.hostBytes = 0;
    this.fault = undefined;
    const used = (): number => Number(live.fuel.value < 0n ? budget : budget - (live.fuel.value as bigint));
    try {
      const out = await live.plugin.call(this.spec.entry, input);
      await live.plugin.reset();
      if (out === null) return faultResult("module.no_output", `${this.spec.name}: ${this.spec.entry} returned without setting output`, used());
      const bytes = out.bytes();
      if (bytes.length > this.spec.limits.maxOutputBytes) {
        return faultResult("module.output_too_large", `${this.spec.name}: output of ${bytes.length} bytes exceeds the limit of ${this.spec.limits.maxOutputBytes}`, used());
      }
      return { ok: true, output: bytes, fuelUsed: used() };
    } catch (e) {
      await live.plugin.reset();
      // A trapped instance may be mid-update: start the next call on a new one.
      this.live = undefined;
      return this.classify(live, e, used());
    }
  }

  private classify(live: Live, e: unknown, fuelUsed: number): CallResult {
    const name = this.spec.name;
    if (live.oom.value === 1) return faultResult("module.out_of_memory", `${name}: memory.grow beyond the ceiling of ${this.spec.limits.memoryPages} pages`, fuelUsed);
    if ((live.fuel.value as bigint) < 0n) return faultResult("module.out_of_fuel", `${name}: exhausted ${this.spec.limits.fuelPerStep} fuel`, fuelUsed);
    if (this.fault) return faultResult(this.fault.code, `${name}: ${this.fault.message}`, fuelUsed);
    const msg = e instanceof Error ? e.message : String(e);
    return faultResult("module.trap", `${name}: ${msg}`, fuelUsed);
  }

  /** A live instance in pristine state: restored, or new when restoring is not enough. */
  private async ready(): Promise<Live> {
    const live = this.live;
    const snap = this.snapshot;
    if (live && !live.used) return live;
    if (live && snap && !this.prepared.metered.needsFreshInstance && this.restore(live, snap)) return live;
    this.live = await this.instantiate();
    return this.live;
  }

  private restore(live: Live, snap: Snapshot): boolean {
    if (live.memory && snap.image) {
      // Memory cannot shrink: a grown memory needs a new instance to look fresh.
      if (live.memory.buffer.byteLength !== snap.image.length) return false;
      new Uint8Array(live.memory.buffer).set(snap.image);
    }
    live.globals.forEach((g, i) => (g.value = snap.globals[i]!));
    return true;
  }

  /** Extism `alloc`, with host-side blocks counted against the memory ceiling. */
  private alloc(ctx: CallContext, n: bigint): bigint {
    this.hostBytes += Number(n);
    const limit = this.spec.limits.memoryPages * 65536;
    if (this.hostBytes > limit) {
      this.fault = { code: "module.out_of_memory", message: `host-side allocations exceed ${limit} bytes` };
      throw new Error(this.fault.message);
    }
    return ctx.alloc(n);
  }

  /** A granted host call: bytes in, bytes out, charged to the caller's fuel. */
  private hostCall(name: string, fn: (input: Uint8Array) => Uint8Array, ctx: CallContext, addr: bigint): bigint {
    const live = this.live;
    if (!live) throw new Error(`host call ${name} outside a call`);
    const input = ctx.read(addr)?.bytes() ?? new Uint8Array(0);
    let output: Uint8Array;
    try {
      output = fn(input);
    } catch (e) {
      this.fault = { code: "module.trap", message: `host call ${name} failed: ${e instanceof Error ? e.message : String(e)}` };
      throw e;
    }
    // Deterministic cost: a base plus one unit per byte moved, so host calls are not free loops.
    live.fuel.value = (live.fuel.value as bigint) - BigInt(HOST_CALL_FUEL + input.length + output.length);
    if ((live.fuel.value as bigint) < 0n) throw new Error("out of fuel in host call");
    return ctx.store(output);
  }

  async close(): Promise<void> {
    await runSerialized(this.queue, async () => {
      await this.live?.plugin.close();
      this.live = undefined;
    });
  }
}

/** The Extism runtime: links by capability, meters fuel, caps memory and output. */
export const extismRuntime: ModuleRuntime = {
  kind: "extism",
  async load(spec: LoadSpec): Promise<LoadedModule> {
    const prepared = prepareCore(spec.name, spec.wasmHash, spec.wasm, spec.limits);
    checkExtismImports(spec.name, prepared.module, spec.hostFunctions);
    requireExport(spec.name, prepared.module, spec.entry);
    const m = new ExtismModule(spec, prepared);
    await m.start();
    return m;
  },
};
