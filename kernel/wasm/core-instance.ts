/**
 * @module Host-side handles into one metered core instance: its fuel and out-of-memory
 * globals, and a snapshot of its memory and mutable globals taken right after
 * instantiation, restored before each call so every call starts from fresh state.
 */
import { ARM_EXPORT, FUEL_EXPORT, MEMORY_EXPORT, OOM_EXPORT, REFUEL_EXPORT } from "./fuel.js";
import type { PreparedCore } from "./prepare.js";

/** Handles into one instance of a metered module. */
export interface CoreHandles {
  /** Sets the fuel and clears the out-of-memory flag. */
  arm: (fuel: bigint) => void;
  /** Sets the fuel only, leaving call depth and flags alone (for charges inside a call). */
  refuel: (fuel: bigint) => void;
  /** Remaining fuel; negative once exhausted. */
  fuel: () => bigint;
  /** 1 when `memory.grow` hit the ceiling during this call. */
  oom: () => number;
  memory: WebAssembly.Memory | undefined;
  globals: WebAssembly.Global[];
  fresh: boolean;
  image: Uint8Array | undefined;
  values: (number | bigint)[];
}

/**
 * Reads the metering exports of `instance` and snapshots its state. Instantiation is
 * deterministic, so every fresh instance of a module has the same state: pass the
 * handles of an earlier instance as `like` to share its snapshot instead of copying
 * memory again.
 */
export function coreHandles(instance: WebAssembly.Instance, prepared: PreparedCore, like?: CoreHandles): CoreHandles {
  const ex = instance.exports;
  const memory = ex[MEMORY_EXPORT] as WebAssembly.Memory | undefined;
  const globals = prepared.metered.globalExports.map((n) => ex[n] as WebAssembly.Global);
  if (like)
    return {
      ...like,
      arm: ex[ARM_EXPORT] as CoreHandles["arm"],
      refuel: ex[REFUEL_EXPORT] as CoreHandles["refuel"],
      fuel: ex[FUEL_EXPORT] as CoreHandles["fuel"],
      oom: ex[OOM_EXPORT] as CoreHandles["oom"],
      memory,
      globals,
    };
  return {
    arm: ex[ARM_EXPORT] as (fuel: bigint) => void,
    refuel: ex[REFUEL_EXPORT] as (fuel: bigint) => void,
    fuel: ex[FUEL_EXPORT] as () => bigint,
    oom: ex[OOM_EXPORT] as () => number,
    memory,
    globals,
    fresh: !prepared.metered.needsFreshInstance,
    image: memory ? new Uint8Array(memory.buffer).slice() : undefined,
    values: globals.map((g) => g.value as number | bigint),
  };
}

/**
 * Puts the instance back into its just-instantiated state. Returns false when that is
 * impossible (memory grew and cannot shrink, or the code may have changed tables):
 * the caller must then instantiate anew.
 */
export function restoreCore(h: CoreHandles): boolean {
  if (!h.fresh) return false;
  if (h.memory && h.image) {
    if (h.memory.buffer.byteLength !== h.image.length) return false;
    new Uint8Array(h.memory.buffer).set(h.image);
  }
  for (let i = 0; i < h.globals.length; i++) h.globals[i]!.value = h.values[i]!;
  return true;
}

/** Arms the instance for a call with `budget` fuel. */
export function armCore(h: CoreHandles, budget: bigint): void {
  h.arm(budget);
}

/** Fuel used since `armCore` (the whole budget, or more, once exhausted). */
export function fuelUsed(h: CoreHandles, budget: bigint): bigint {
  return budget - h.fuel();
}
