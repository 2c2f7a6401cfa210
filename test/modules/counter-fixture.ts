/**
 * @module Shared fixture for the counter modules: builds real ABI-v1 input envelopes
 * (canonical CBOR), runs a plugin through the Extism runtime, and computes the expected
 * output with a plain TypeScript reference of the counter workflow.
 */
import createPlugin from "@extism/extism";
import { encodeCanonical, decodeCanonical } from "../../air/index.js";
import type { CborValue } from "../../air/index.js";
import { ownBuffer } from "../../kernel/wasm/call-support.js";

/** One scripted counter event. */
export interface CounterStep {
  key: string;
  by: number | bigint;
}

/** The ctx the kernel stamps at ingress; fixed per step index so runs are reproducible. */
export function ctxFor(i: number, key: string): Record<string, CborValue> {
  const entropy = new Uint8Array(32).map((_, j) => (i * 31 + j) & 0xff);
  return {
    now_ns: 1_700_000_000_000_000_000n + BigInt(i),
    logical_now: i,
    journal_height: 10 + i,
    entropy,
    event_hash: `sha256:${(i + 1).toString(16).padStart(64, "0")}`,
    manifest_hash: `sha256:${"ab".repeat(32)}`,
    module: "demo/Counter@1",
    key,
  };
}

/** The canonical input envelope for step `i` with the given previous state. */
export function envelopeFor(i: number, step: CounterStep, state: CborValue): Uint8Array {
  return encodeCanonical({
    version: 1,
    state,
    event: { schema: "demo/CounterEvent@1", value: { key: step.key, by: step.by }, key: step.key },
    ctx: ctxFor(i, step.key),
  });
}

/** Reference semantics of the counter workflow, in TypeScript. */
export function referenceStep(state: CborValue, step: CounterStep): CborValue {
  const prev = (state ?? { count: 0n, events: 0n }) as { count: bigint | number; events: bigint | number };
  const old = BigInt(prev.count);
  const count = old + BigInt(step.by);
  const events =
    old / 100n !== count / 100n
      ? [{ schema: "demo/CounterMilestone@1", value: { key: step.key, count }, key: step.key }]
      : [];
  return { state: { count, events: BigInt(prev.events) + 1n }, events, effects: [], ann: null };
}

/** A scripted sequence: two keys, a zero increment, and milestone crossings (incl. a jump over two). */
export const SCRIPT: CounterStep[] = [
  { key: "a", by: 1 },
  { key: "a", by: 98 },
  { key: "b", by: 0 },
  { key: "a", by: 1 },
  { key: "a", by: 0 },
  { key: "b", by: 250 },
  { key: "a", by: 23 },
  { key: "b", by: 50 },
  { key: "a", by: 5_000_000_000 },
  { key: "b", by: 1000 },
];

/** Runs the script through `callStep` threading per-key state; returns each raw output. */
export async function runScript(callStep: (input: Uint8Array) => Promise<Uint8Array>): Promise<Uint8Array[]> {
  const states = new Map<string, CborValue>();
  const outputs: Uint8Array[] = [];
  for (const [i, step] of SCRIPT.entries()) {
    const out = await callStep(envelopeFor(i, step, states.get(step.key) ?? null));
    outputs.push(out);
    const decoded = decodeCanonical(out) as { state: CborValue };
    states.set(step.key, decoded.state);
  }
  return outputs;
}

/** The expected raw outputs for SCRIPT, from the reference. */
export function expectedOutputs(): Uint8Array[] {
  const states = new Map<string, CborValue>();
  return SCRIPT.map((step) => {
    const out = referenceStep(states.get(step.key) ?? null, step) as { state: CborValue };
    states.set(step.key, out.state);
    return encodeCanonical(out);
  });
}

/** Loads an Extism plugin without WASI and returns a step caller (resetting after each call). */
export async function extismStepper(wasm: Uint8Array, fn = "step"): Promise<{
  call: (input: Uint8Array) => Promise<Uint8Array>;
  close: () => Promise<void>;
}> {
  const plugin = await createPlugin({ wasm: [{ data: wasm }] }, { useWasi: false });
  return {
    async call(input) {
      const out = await plugin.call(fn, ownBuffer(input));
      await plugin.reset();
      if (out === null) throw new Error(`${fn} produced no output`);
      return out.bytes().slice();
    },
    close: () => plugin.close(),
  };
}
