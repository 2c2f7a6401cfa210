/**
 * @module Extism plugins (@extism/extism 1.0.3, foreground mode) behind `ModuleRuntime`.
 * Every call starts from the state a fresh instance would have (memory image and
 * globals restored, or a new instance when memory grew or the code can change tables),
 * so a call's output and fuel depend only on its input: replay from any snapshot sees
 * the same results. Fuel lives in the metered module and is reached through its exported
 * `__wk_arm`/`__wk_fuel` functions on `plugin.getInstance()`.
 */
import createPlugin, { type CallContext, type Plugin } from "@extism/extism";
import { EXTISM_ENV, EXTISM_USER } from "./host-calls.js";
import { checkExtismImports } from "./link.js";
import { armCore, coreHandles, fuelUsed, restoreCore, type CoreHandles } from "./core-instance.js";
import { prepareCore, requireExport, type PreparedCore } from "./prepare.js";
import {
  classifyTrap,
  faultResult,
  firstInstance,
  HOST_CALL_FUEL,
  ownBuffer,
  reinstantiationFailed,
  runHostFunction,
  runSerialized,
  type Fault,
} from "./call-support.js";
import type { CallResult, LoadSpec, LoadedModule, ModuleRuntime } from "./module-runtime.js";

const SILENT = { info() {}, debug() {}, warn() {}, error() {}, log() {} } as unknown as Console;

/** One live instance and the handles the host needs into it. */
interface Live {
  plugin: Plugin;
  core: CoreHandles;
  /** False until the first call; a fresh instance needs no restore. */
  used: boolean;
}

class ExtismModule implements LoadedModule {
  private live: Live | undefined;
  /** Handles of the first instance: its snapshot serves every later instance. */
  private first: CoreHandles | undefined;
  private readonly queue = { tail: Promise.resolve() as Promise<unknown> };
  // Per-call accounting the host functions write into.
  private hostBytes = 0;
  private inCall = false;
  private fault: Fault | undefined;

  constructor(
    private readonly spec: LoadSpec,
    private readonly prepared: PreparedCore,
  ) {}

  /** First instantiation, at load: a start function that traps fails the load. */
  async start(): Promise<void> {
    this.live = await firstInstance(this.spec.name, () => this.instantiate());
  }

  private async instantiate(): Promise<Live> {
    const functions: Record<string, Record<string, (ctx: CallContext, ...args: bigint[]) => unknown>> = {
      [EXTISM_ENV]: { alloc: (ctx, n) => this.alloc(ctx, n!) },
      [EXTISM_USER]: {},
    };
    for (const hf of this.spec.hostFunctions) {
      functions[EXTISM_USER]![hf.name] = (ctx, addr) => this.hostCall(hf.name, hf.call, ctx, addr!);
    }
    const plugin = await createPlugin(
      { wasm: [{ module: this.prepared.module }] },
      { useWasi: false, functions, logger: SILENT },
    );
    const core = coreHandles(await plugin.getInstance(), this.prepared, this.first);
    this.first ??= core;
    return { plugin, core, used: false };
  }

  call(input: Uint8Array): Promise<CallResult> {
    return runSerialized(this.queue, () => this.callNow(input));
  }

  private async callNow(input: Uint8Array): Promise<CallResult> {
    let live: Live;
    try {
      live = await this.ready();
    } catch (e) {
      // It instantiated at load, so this is the host (e.g. out of memory): still a result, never a throw.
      return reinstantiationFailed(this.spec.name, e);
    }
    const budget = BigInt(this.spec.limits.fuelPerStep);
    live.used = true;
    armCore(live.core, budget);
    this.hostBytes = 0;
    this.fault = undefined;
    const used = (): number => {
      const n = fuelUsed(live.core, budget);
      return Number(n > budget ? budget : n);
    };
    try {
      this.inCall = true;
      const out = await live.plugin.call(this.spec.entry, ownBuffer(input)).finally(() => (this.inCall = false));
      await live.plugin.reset();
      // Regions after the last check may have overdrawn the budget without trapping.
      if (live.core.fuel() < 0n) return this.classify(live, new Error("out of fuel"), used());
      if (out === null)
        return faultResult(
          "module.no_output",
          `${this.spec.name}: ${this.spec.entry} returned without setting output`,
          used(),
        );
      const bytes = out.bytes();
      if (bytes.length > this.spec.limits.maxOutputBytes) {
        return faultResult(
          "module.output_too_large",
          `${this.spec.name}: output of ${bytes.length} bytes exceeds the limit of ${this.spec.limits.maxOutputBytes}`,
          used(),
        );
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
    return classifyTrap(
      this.spec.name,
      this.spec.limits,
      { oomFlags: [live.core.oom()], outOfFuel: live.core.fuel() < 0n, fault: this.fault, error: e },
      fuelUsed,
    );
  }

  /** A live instance in pristine state: restored, or new when restoring is not enough. */
  private async ready(): Promise<Live> {
    const live = this.live;
    if (live && (!live.used || restoreCore(live.core))) return live;
    this.live = await this.instantiate();
    return this.live;
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
    // Host calls during instantiation (a start function) would make fresh state depend on the host.
    if (!live || !this.inCall) throw new Error(`host call ${name} outside a step`);
    const input = ctx.read(addr)?.bytes() ?? new Uint8Array(0);
    const output = runHostFunction(name, fn, input, (f) => (this.fault = f));
    // Deterministic cost: a base plus one unit per byte moved, so host calls are not free loops.
    const left = live.core.fuel() - BigInt(HOST_CALL_FUEL + input.length + output.length);
    // Only the fuel changes: re-arming would zero the call depth mid-call and trap on unwind.
    live.core.refuel(left);
    if (left < 0n) throw new Error("out of fuel in host call");
    return ctx.store(ownBuffer(output));
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
