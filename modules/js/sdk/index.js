/**
 * @module worldkernel JavaScript SDK for components: `defineStep(fn)` turns
 * `fn(state, event, ctx) → {state, events?, effects?, ann?}` into the world's
 * `step: func(list<u8>) -> list<u8>` export (ABI v1, canonical CBOR both ways);
 * `definePure(fn)` does the same for `run`.
 */
import { decode, encode } from "./cbor.js";

export { decode, encode, Tag } from "./cbor.js";

/** The envelope version this SDK speaks. */
export const ABI_VERSION = 1;

function envelope(input) {
  const env = decode(input);
  if (env === null || typeof env !== "object" || Array.isArray(env)) throw new TypeError("envelope: not a map");
  if (env.version !== ABI_VERSION) throw new TypeError(`envelope: unsupported ABI version ${String(env.version)}`);
  return env;
}

/** Wraps a workflow step; `state` is null for a new cell, and returning state null deletes it. */
export function defineStep(fn) {
  return (input) => {
    const env = envelope(input);
    const r = fn(env.state, env.event, env.ctx);
    return encode({
      state: r.state === undefined ? null : r.state,
      events: (r.events ?? []).map((e) => ({ schema: e.schema, value: e.value, key: e.key ?? null })),
      effects: (r.effects ?? []).map((e) => ({ kind: e.kind, params: e.params, cap_slot: e.cap_slot })),
      ann: r.ann === undefined ? null : r.ann,
    });
  };
}

/** Wraps a pure function of `{version, input, ctx}` into `{output}`. */
export function definePure(fn) {
  return (input) => {
    const env = envelope(input);
    return encode({ output: fn(env.input, env.ctx) });
  };
}
