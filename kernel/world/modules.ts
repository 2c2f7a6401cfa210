/**
 * @module Loads workflow modules from the CAS and keeps them warm, each linked with
 * exactly the host calls its bound cap slots grant (blob → blob_get, query →
 * manifest_get and journal_head, log → log). Host calls answer from the step's own
 * context, never from live state, so replay sees the same answers.
 */
import { encodeCanonical } from "../../air/cbor/encode.js";
import type { AirCatalog } from "../../air/loader.js";
import type { HashText } from "../../air/hash.js";
import { loadModule, type HostFunction, type LoadedModule, type ModuleLimits } from "../wasm/runtime.js";
import { KernelError } from "../core/errors.js";

/** Defaults when a defmodule names no limits: 16 MiB memory, 50M fuel, 1 MiB output. */
export const DEFAULT_LIMITS: ModuleLimits = { memoryPages: 256, fuelPerStep: 50_000_000, maxOutputBytes: 1 << 20 };

/** What host calls may read during the current step. */
export interface HostContext {
  journalHeight: number;
  manifestHash: HashText;
}

/** Keeps loaded modules by name and wasm hash. */
// Shared and frozen: callers only read what the take* methods return.
const NONE: string[] = [];
Object.freeze(NONE);

export class ModuleHost {
  private readonly loaded = new Map<string, Promise<LoadedModule>>();
  /** Set by the processor before each call; host calls read only this. */
  current: HostContext = { journalHeight: 0, manifestHash: "sha256:" as HashText };
  readonly logs: string[] = [];
  /** Blobs a host call found erased during the current step (the processor takes them after each call). */
  private erasedReads: string[] = [];
  /** Every blob the current step asked for (erasure-v1 records them in the step). */
  private reads: string[] = [];

  constructor(private readonly getBlob: (h: HashText) => Uint8Array) {}

  /** Every blob the last call asked for, sorted and distinct, clearing the list. */
  takeReads(): string[] {
    if (this.reads.length === 0) return NONE; // most steps read no blob: no allocation on the hot path
    const r = [...new Set(this.reads)].sort();
    this.reads = [];
    return r;
  }

  /** The erased blobs the last call tried to read, clearing the list. */
  takeErasedReads(): string[] {
    if (this.erasedReads.length === 0) return NONE;
    const r = this.erasedReads;
    this.erasedReads = [];
    return r;
  }

  private readBlob(hash: HashText): Uint8Array {
    this.reads.push(hash);
    try {
      return this.getBlob(hash);
    } catch (e) {
      if ((e as { code?: string }).code === "journal.blob_erased") this.erasedReads.push(hash);
      throw e;
    }
  }

  /** The loaded module for `name` under `catalog` (cached per wasm hash and grants). */
  get(catalog: AirCatalog, name: string): Promise<LoadedModule> {
    const def = catalog.modules.get(name)?.def;
    if (!def) throw new KernelError("kernel.unknown_module", `module ${name} is not in the manifest`, { module: name });
    const hostFunctions = this.hostFunctions(catalog, name);
    // The limits are part of the key: a patch that changes only a module's limits must run under them (shadow, apply).
    const cacheKey = `${name}|${def.wasm_hash}|${hostFunctions.map((h) => h.name).join(",")}|${JSON.stringify(def.limits ?? null)}`;
    let m = this.loaded.get(cacheKey);
    if (!m) {
      let wasm: Uint8Array;
      try {
        wasm = this.getBlob(def.wasm_hash as HashText);
      } catch (e) {
        throw new KernelError(
          "kernel.missing_blob",
          `wasm ${def.wasm_hash} of ${name} is not in the CAS`,
          { module: name },
          { cause: e },
        );
      }
      const limits: ModuleLimits = {
        memoryPages: def.limits?.memory_pages ?? DEFAULT_LIMITS.memoryPages,
        fuelPerStep: def.limits?.fuel_per_step ?? DEFAULT_LIMITS.fuelPerStep,
        maxOutputBytes: def.limits?.max_output_bytes ?? DEFAULT_LIMITS.maxOutputBytes,
      };
      m = loadModule({
        name,
        wasm,
        wasmHash: def.wasm_hash,
        entry: def.module_kind === "pure" ? "run" : "step",
        hostFunctions,
        limits,
      });
      // A failed load must not poison the cache: the next call retries (and reports) again.
      m.catch(() => this.loaded.delete(cacheKey));
      this.loaded.set(cacheKey, m);
    }
    return m;
  }

  private hostFunctions(catalog: AirCatalog, name: string): HostFunction[] {
    const slots = catalog.modules.get(name)!.def.abi.workflow?.cap_slots ?? {};
    const bound = catalog.manifest.module_bindings?.[name]?.slots ?? {};
    const types = new Set(
      Object.entries(slots)
        .filter(([slot]) => bound[slot] !== undefined && catalog.grants.has(bound[slot]!))
        .map(([, t]) => t),
    );
    const out: HostFunction[] = [];
    if (types.has("blob"))
      out.push({
        name: "blob_get",
        capability: "blob",
        call: (input) => this.readBlob(Buffer.from(input).toString("utf8") as HashText),
      });
    if (types.has("query")) {
      out.push({
        name: "manifest_get",
        capability: "query",
        call: () => encodeCanonical({ manifest_hash: this.current.manifestHash }),
      });
      out.push({
        name: "journal_head",
        capability: "query",
        call: () => encodeCanonical({ height: this.current.journalHeight, manifest_hash: this.current.manifestHash }),
      });
    }
    if (types.has("log")) {
      out.push({
        name: "log",
        capability: "log",
        call: (input) => {
          if (this.logs.length < 1000) this.logs.push(Buffer.from(input).toString("utf8").slice(0, 1000));
          return new Uint8Array(0);
        },
      });
    }
    return out;
  }

  /** Closes every loaded module. */
  async close(): Promise<void> {
    const all = [...this.loaded.values()];
    this.loaded.clear();
    await Promise.allSettled(all.map(async (m) => (await m).close()));
  }
}
