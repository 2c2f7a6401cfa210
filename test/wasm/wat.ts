/**
 * @module Test helper: compiles the WAT fixtures in `test/fixtures/wasm/` with wabt
 * (in-process, a few ms each) and builds `LoadSpec`s for them.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import wabtInit from "wabt";
import { hashBytes } from "../../air/index.js";
import type { HostFunction, LoadSpec, ModuleLimits } from "../../kernel/wasm/runtime.js";

const wabt = await wabtInit();
const dir = fileURLToPath(new URL("../fixtures/wasm/", import.meta.url));

/** The fixture `<name>.wat` as module bytes. */
export function wat(name: string): Uint8Array {
  const text = readFileSync(`${dir}${name}.wat`, "utf8");
  const mod = wabt.parseWat(`${name}.wat`, text);
  try {
    return mod.toBinary({}).buffer;
  } finally {
    mod.destroy();
  }
}

/** Default limits for tests: 16 pages (1 MiB), 1M fuel, 64 KiB of output. */
export const LIMITS: ModuleLimits = { memoryPages: 16, fuelPerStep: 1_000_000, maxOutputBytes: 65536 };

/** A `LoadSpec` for fixture `name` (or for `bytes`). */
export function spec(
  name: string,
  opts: {
    entry?: "step" | "run";
    hostFunctions?: HostFunction[];
    limits?: Partial<ModuleLimits>;
    bytes?: Uint8Array;
  } = {},
): LoadSpec {
  const wasm = opts.bytes ?? wat(name);
  return {
    name: `test/${name}@1`,
    wasm,
    wasmHash: hashBytes(wasm),
    entry: opts.entry ?? "step",
    hostFunctions: opts.hostFunctions ?? [],
    limits: { ...LIMITS, ...opts.limits },
  };
}
