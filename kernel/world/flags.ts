/**
 * @module Kernel behaviour flags recorded in every genesis. Anything replay depends on
 * (envelope shape, fuel costs, gate order, event ordering) is named here with a number;
 * a kernel refuses to replay a journal whose flags it does not implement.
 */

/**
 * - abi-v1: step envelope {version, state, event, ctx} / output {state, events, effects, ann}.
 * - fuel-v1: fuel charged per function entry and loop header by the bytecode rewrite in kernel/wasm/fuel.ts.
 * - gate-v1: catalog → slot → params → grant → budget → policy, first match wins, default deny.
 * - order-v1: events are processed breadth-first; a step's entries are step, events, then per effect intent + decision (+ denial).
 */
export const KERNEL_FLAGS = ["abi-v1", "fuel-v1", "gate-v1", "order-v1"] as const;

/** The flags of a journal this kernel cannot replay, if any. */
export function unsupportedFlags(flags: readonly string[]): string[] {
  return flags.filter((f) => !(KERNEL_FLAGS as readonly string[]).includes(f));
}
