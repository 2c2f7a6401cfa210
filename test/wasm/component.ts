/**
 * @module Test helper: wraps the WAT core modules `cm-*.wat` into real components with
 * jco's wit-component bindings (embed the WIT world, then `componentNew`), in-process
 * and in milliseconds, and builds `LoadSpec`s for them.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { componentEmbed, componentNew } from "@bytecodealliance/jco";
import { hashBytes } from "../../air/index.js";
import type { HostFunction, LoadSpec, ModuleLimits } from "../../kernel/wasm/runtime.js";
import { LIMITS, wat } from "./wat.js";

const WIT = readFileSync(fileURLToPath(new URL("../../kernel/wasm/wit/worldkernel.wit", import.meta.url)), "utf8");

// A world that imports a WASI clock, to prove such a component never links.
const CLOCKY = `package test:clocky;
world clocky {
  import wasi:clocks/monotonic-clock@0.2.0;
  export step: func(input: list<u8>) -> list<u8>;
}
package wasi:clocks@0.2.0 {
  interface monotonic-clock { now: func() -> u64; }
}
`;

/** The component built from fixture `cm-<name>.wat` against world `workflow` (or clocky). */
export async function component(name: string): Promise<Uint8Array> {
  const core = wat(`cm-${name}`);
  const clocky = name === "clock";
  const embedded = await componentEmbed({
    binary: core,
    witSource: clocky ? CLOCKY : WIT,
    world: clocky ? "clocky" : "workflow",
  });
  return componentNew(embedded);
}

/** A `LoadSpec` for component `name`. */
export async function componentSpec(
  name: string,
  opts: { hostFunctions?: HostFunction[]; limits?: Partial<ModuleLimits>; entry?: "step" | "run" } = {},
): Promise<LoadSpec> {
  const wasm = await component(name);
  return {
    name: `test/component-${name}@1`,
    wasm,
    wasmHash: hashBytes(wasm),
    entry: opts.entry ?? "step",
    hostFunctions: opts.hostFunctions ?? [],
    limits: { ...LIMITS, ...opts.limits },
  };
}
