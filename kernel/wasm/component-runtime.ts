/**
 * @module WebAssembly components behind `ModuleRuntime`: transpiled by jco in
 * instantiation mode, so the runtime supplies the core modules itself — metered with
 * the same deterministic fuel as Extism plugins — and captures each core instance to
 * arm its fuel, read it back and restore fresh state before every call. Fuel of a call
 * is the sum over the component's core instances plus the host-call charges.
 */
import {
  classifyTrap,
  faultResult,
  firstInstance,
  HOST_CALL_FUEL,
  reinstantiationFailed,
  runHostFunction,
  runSerialized,
  type Fault,
} from "./call-support.js";
import {
  HOST_INTERFACE,
  checkComponentImports,
  jsName,
  transpileComponent,
  type Transpiled,
} from "./component-transpile.js";
import { armCore, coreHandles, fuelUsed, restoreCore, type CoreHandles } from "./core-instance.js";
import { ModuleLoadError } from "./errors.js";
import { prepareCore, type PreparedCore } from "./prepare.js";
import { hashBytes } from "../../air/hash.js";
import type { CallResult, LoadSpec, LoadedModule, ModuleRuntime } from "./module-runtime.js";

type Entry = (input: Uint8Array) => Uint8Array;

interface Live {
  entry: Entry;
  cores: CoreHandles[];
  used: boolean;
}

class ComponentModule implements LoadedModule {
  private live: Live | undefined;
  /** Core handles of the first instantiation: their snapshots serve every later one. */
  private first: CoreHandles[] | undefined;
  private readonly queue = { tail: Promise.resolve() as Promise<unknown> };
  private hostFuel = 0n;
  private inCall = false;
  private fault: Fault | undefined;

  constructor(
    private readonly spec: LoadSpec,
    private readonly t: Transpiled,
    private readonly prepared: Map<string, PreparedCore>,
  ) {}

  /** First instantiation, at load: a start function that traps fails the load. */
  async start(): Promise<void> {
    this.live = await firstInstance(this.spec.name, () => this.instantiate());
  }

  private async instantiate(): Promise<Live> {
    const cores: CoreHandles[] = [];
    const host: Record<string, Entry> = {};
    for (const hf of this.spec.hostFunctions) host[jsName(hf.name)] = (input) => this.hostCall(hf.name, hf.call, input);
    const byModule = new Map([...this.prepared.values()].map((p) => [p.module, p]));
    const first = this.first;
    const root = await this.t.instantiate(
      (file) => this.prepared.get(file)!.module,
      { [HOST_INTERFACE]: host },
      async (module, imports) => {
        const instance = await WebAssembly.instantiate(module, imports ?? {});
        // Core instances come up in the same order every time: reuse the first snapshot.
        cores.push(coreHandles(instance, byModule.get(module)!, first?.[cores.length]));
        return instance;
      },
    );
    this.first ??= cores;
    return { entry: root[this.spec.entry] as Entry, cores, used: false };
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
    for (const c of live.cores) armCore(c, budget);
    this.hostFuel = 0n;
    this.fault = undefined;
    const total = (): bigint => live.cores.reduce((n, c) => n + fuelUsed(c, budget), this.hostFuel);
    const report = (): number => Number(total() > budget ? budget : total());
    try {
      this.inCall = true;
      let output: Uint8Array;
      try {
        output = live.entry(input);
      } finally {
        this.inCall = false;
      }
      if (total() > budget)
        return this.fail(faultResult("module.out_of_fuel", `${this.spec.name}: exhausted ${budget} fuel`, report()));
      if (output.length > this.spec.limits.maxOutputBytes) {
        return faultResult(
          "module.output_too_large",
          `${this.spec.name}: output of ${output.length} bytes exceeds the limit of ${this.spec.limits.maxOutputBytes}`,
          report(),
        );
      }
      return { ok: true, output, fuelUsed: report() };
    } catch (e) {
      const outOfFuel = total() > budget || live.cores.some((c) => c.fuel() < 0n);
      // Read through a cast: the assignment above narrowed the field, host calls may have set it since.
      const fault = this.fault as Fault | undefined;
      return this.fail(
        classifyTrap(
          this.spec.name,
          this.spec.limits,
          { oomFlags: live.cores.map((c) => c.oom()), outOfFuel, fault, error: e },
          report(),
        ),
      );
    }
  }

  /** A trapped component instance may not be re-entered: the next call gets a new one. */
  private fail(r: CallResult): CallResult {
    this.live = undefined;
    return r;
  }

  private async ready(): Promise<Live> {
    const live = this.live;
    if (live && (!live.used || live.cores.every(restoreCore))) return live;
    this.live = await this.instantiate();
    return this.live;
  }

  private hostCall(name: string, fn: (input: Uint8Array) => Uint8Array, input: Uint8Array): Uint8Array {
    // Host calls during instantiation (a start function) would make fresh state depend on the host.
    if (!this.inCall) throw new Error(`host call ${name} outside a step`);
    const output = runHostFunction(name, fn, input, (f) => (this.fault = f));
    this.hostFuel += BigInt(HOST_CALL_FUEL + input.length + output.length);
    const live = this.live;
    const budget = BigInt(this.spec.limits.fuelPerStep);
    const used = (live?.cores ?? []).reduce((n, c) => n + fuelUsed(c, budget), this.hostFuel);
    if (used > budget) throw new Error("out of fuel in host call");
    return output;
  }

  async close(): Promise<void> {
    await runSerialized(this.queue, async () => {
      this.live = undefined;
    });
  }
}

/** The component runtime (jco transpile, metered core modules, no WASI). */
export const componentRuntime: ModuleRuntime = {
  kind: "component",
  async load(spec: LoadSpec): Promise<LoadedModule> {
    const t = await transpileComponent(spec.name, spec.wasmHash, spec.wasm);
    const prepared = new Map<string, PreparedCore>();
    for (const [file, bytes] of t.cores)
      prepared.set(file, prepareCore(`${spec.name} (${file})`, hashBytes(bytes), bytes, spec.limits));
    checkComponentImports(
      spec.name,
      t,
      [...prepared.values()].map((p) => p.module),
      spec.hostFunctions,
    );
    if (!t.exports.includes(spec.entry)) {
      throw new ModuleLoadError("module.missing_export", spec.name, `does not export function "${spec.entry}"`, {
        export_name: spec.entry,
      });
    }
    const m = new ComponentModule(spec, t, prepared);
    await m.start();
    return m;
  },
};
